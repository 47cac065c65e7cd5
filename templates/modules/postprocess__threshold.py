"""Move the binary decision threshold to the value that maximizes the metric on out-of-fold predictions.

Probabilities are remapped monotonically (p < t: p/(2t); else 0.5 + (p-t)/(2(1-t))) so that the
argmax at 0.5 equals thresholding at t and rankings (ROC AUC) are unchanged. Multiclass: identity.
"""
import numpy as np
from sklearn.base import BaseEstimator

SEARCH_SPACE = {}


def _T2MLThreshold_score(metric: str, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Metric of each row of the boolean prediction matrix pred (thresholds x samples)."""
    pos = (y == 1)[None, :]
    tp = (pred & pos).sum(axis=1).astype("float64")
    fp = (pred & ~pos).sum(axis=1).astype("float64")
    fn = (~pred & pos).sum(axis=1).astype("float64")
    tn = (~pred & ~pos).sum(axis=1).astype("float64")
    if metric == "accuracy":
        return (tp + tn) / max(len(y), 1)
    if metric == "balanced_accuracy":
        return 0.5 * (tp / np.maximum(tp + fn, 1) + tn / np.maximum(tn + fp, 1))
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


class T2MLThreshold(BaseEstimator):
    """Metric-optimal decision threshold for binary classification."""

    def __init__(self, task: str | None = None, metric: str = "f1"):
        self.task = task
        self.metric = metric

    def fit(self, y_true, proba):
        proba = np.asarray(proba, dtype="float64")
        y = np.asarray(y_true).astype("int64")
        self.threshold_ = 0.5
        if proba.shape[1] != 2 or self.task == "multiclass" or len(y) == 0:
            return self
        p = proba[:, 1]
        candidates = np.unique(np.concatenate([np.quantile(p, np.linspace(0.0, 1.0, 201)), [0.5]]))
        candidates = np.clip(candidates, 1e-6, 1 - 1e-6)
        scores = _T2MLThreshold_score(self.metric, y, p[None, :] > candidates[:, None])
        best = np.flatnonzero(scores >= scores.max() - 1e-12)
        self.threshold_ = float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])
        return self

    def transform(self, proba) -> np.ndarray:
        proba = np.asarray(proba, dtype="float64")
        if proba.shape[1] != 2 or self.threshold_ == 0.5:
            return proba.copy()
        t = self.threshold_
        p = np.clip(proba[:, 1], 0.0, 1.0)
        p1 = np.where(p < t, p / (2 * t), 0.5 + (p - t) / (2 * (1 - t)))
        return np.column_stack([1.0 - p1, p1])
