"""Calibrate class probabilities on out-of-fold predictions with Platt scaling or isotonic regression.

Binary: calibrate the positive-class probability. Multiclass: calibrate each class one-vs-rest,
then renormalize rows to sum to 1.
"""
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

SEARCH_SPACE = {
    "method": {"type": "categorical", "choices": ["sigmoid", "isotonic"]},
}


def _T2MLCalibration_logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


class T2MLCalibration(BaseEstimator):
    """Per-class probability calibration (sigmoid / isotonic)."""

    def __init__(self, task: str | None = None, method: str = "sigmoid"):
        self.task = task
        self.method = method

    def fit(self, y_true, proba):
        proba = np.asarray(proba, dtype="float64")
        y = np.asarray(y_true).astype("int64")
        self.n_classes_ = proba.shape[1]
        columns = [1] if self.n_classes_ == 2 else range(self.n_classes_)
        self.calibrators_ = {}
        for j in columns:
            target = (y == j).astype("int64")
            if target.min() == target.max():
                continue
            if self.method == "isotonic":
                cal = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                self.calibrators_[j] = cal.fit(proba[:, j], target)
            else:
                cal = LogisticRegression(C=100.0, max_iter=1000)
                self.calibrators_[j] = cal.fit(_T2MLCalibration_logit(proba[:, j]), target)
        return self

    def _calibrate(self, j: int, p: np.ndarray) -> np.ndarray:
        cal = self.calibrators_.get(j)
        if cal is None:
            return p
        if self.method == "isotonic":
            return cal.predict(p)
        return cal.predict_proba(_T2MLCalibration_logit(p))[:, 1]

    def transform(self, proba) -> np.ndarray:
        proba = np.asarray(proba, dtype="float64")
        if self.n_classes_ == 2:
            p1 = np.clip(self._calibrate(1, proba[:, 1]), 0.0, 1.0)
            return np.column_stack([1.0 - p1, p1])
        out = np.column_stack([self._calibrate(j, proba[:, j]) for j in range(self.n_classes_)])
        out = np.clip(out, 1e-9, None)
        return out / out.sum(axis=1, keepdims=True)
