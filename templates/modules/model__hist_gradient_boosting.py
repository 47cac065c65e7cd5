"""Histogram gradient boosting (scikit-learn); `cat__*` columns with at most 255 codes are native categoricals."""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

SEARCH_SPACE = {
    "learning_rate": {"type": "float", "low": 0.02, "high": 0.3, "log": True},
    "max_iter": {"type": "int", "low": 50, "high": 500},
    "max_leaf_nodes": {"type": "int", "low": 8, "high": 64},
    "min_samples_leaf": {"type": "int", "low": 5, "high": 80},
    "l2_regularization": {"type": "float", "low": 1e-06, "high": 10.0, "log": True},
}


def _T2MLHistGradientBoosting_task(task, y: np.ndarray) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if y.dtype.kind == "f":
        return "regression"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


class T2MLHistGradientBoosting(BaseEstimator):
    """HistGradientBoostingClassifier / HistGradientBoostingRegressor behind one interface."""

    def __init__(self, task: str | None = None, learning_rate: float = 0.05, max_iter: int = 200,
                 max_leaf_nodes: int = 31, min_samples_leaf: int = 20, l2_regularization: float = 1e-6,
                 random_state: int = 0):
        self.task = task
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        X = pd.DataFrame(X)
        self.task_ = _T2MLHistGradientBoosting_task(self.task, y)
        mask = [str(c).startswith("cat__") and X[c].nunique() <= 255 and X[c].min() >= 0
                for c in X.columns]
        params = dict(learning_rate=float(self.learning_rate), max_iter=int(self.max_iter),
                      max_leaf_nodes=int(self.max_leaf_nodes),
                      min_samples_leaf=int(self.min_samples_leaf),
                      l2_regularization=float(self.l2_regularization), early_stopping="auto",
                      categorical_features=np.asarray(mask, dtype=bool) if any(mask) else None,
                      random_state=self.random_state)
        Xa = X.to_numpy(dtype="float64")
        self.model_ = None
        if self.task_ == "regression":
            self.model_ = HistGradientBoostingRegressor(**params).fit(Xa, y.astype("float64"))
            return self
        y = y.astype("int64")
        self.classes_ = np.unique(y)
        self.n_classes_ = max(int(y.max()) + 1, 2)
        if len(self.classes_) > 1:
            self.model_ = HistGradientBoostingClassifier(**params).fit(Xa, y)
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
