"""Regularized linear model on standardized features: logistic regression (classification) or ridge (regression)."""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEARCH_SPACE = {
    "C": {"type": "float", "low": 0.001, "high": 100.0, "log": True},
}


def _T2MLLinear_task(task, y: np.ndarray) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if y.dtype.kind == "f":
        return "regression"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


class T2MLLinear(BaseEstimator):
    """LogisticRegression(C) or Ridge(alpha=1/C), with an internal StandardScaler for conditioning."""

    def __init__(self, task: str | None = None, C: float = 1.0, random_state: int = 0):
        self.task = task
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        self.task_ = _T2MLLinear_task(self.task, y)
        Xa = pd.DataFrame(X).to_numpy(dtype="float64")
        self.model_ = None
        if self.task_ == "regression":
            self.model_ = make_pipeline(StandardScaler(), Ridge(alpha=1.0 / float(self.C)))
            self.model_.fit(Xa, y.astype("float64"))
            return self
        y = y.astype("int64")
        self.classes_ = np.unique(y)
        self.n_classes_ = max(int(y.max()) + 1, 2)
        if len(self.classes_) > 1:
            clf = LogisticRegression(C=float(self.C), max_iter=2000, random_state=self.random_state)
            self.model_ = make_pipeline(StandardScaler(), clf).fit(Xa, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        Xa = pd.DataFrame(X).to_numpy(dtype="float64")
        out = np.zeros((len(Xa), self.n_classes_))
        if self.model_ is None:
            out[:, self.classes_[0]] = 1.0
            return out
        out[:, self.model_.classes_.astype("int64")] = self.model_.predict_proba(Xa)
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        if self.task_ == "regression":
            Xa = pd.DataFrame(X).to_numpy(dtype="float64")
            return np.asarray(self.model_.predict(Xa), dtype="float64")
        return self.predict_proba(X).argmax(axis=1)
