"""Gradient-boosted decision trees with CatBoost; columns named `cat__*` are used as categorical features."""
import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor
from sklearn.base import BaseEstimator

SEARCH_SPACE = {
    "iterations": {"type": "int", "low": 100, "high": 600},
    "learning_rate": {"type": "float", "low": 0.02, "high": 0.3, "log": True},
    "depth": {"type": "int", "low": 3, "high": 8},
    "l2_leaf_reg": {"type": "float", "low": 1.0, "high": 20.0, "log": True},
    "random_strength": {"type": "float", "low": 0.1, "high": 5.0, "log": True},
}


def _T2MLCatBoost_task(task, y: np.ndarray) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if y.dtype.kind == "f":
        return "regression"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


class T2MLCatBoost(BaseEstimator):
    """CatBoostClassifier / CatBoostRegressor behind one interface."""

    def __init__(self, task: str | None = None, iterations: int = 300, learning_rate: float = 0.08,
                 depth: int = 6, l2_leaf_reg: float = 3.0, random_strength: float = 1.0,
                 random_state: int = 0):
        self.task = task
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.random_strength = random_strength
        self.random_state = random_state

    def _frame(self, X) -> pd.DataFrame:
        X = pd.DataFrame(X).copy()
        X.columns = [str(c) for c in X.columns]
        for col in X.columns:
            X[col] = X[col].astype("int64") if col in self.cat_features_ else X[col].astype("float64")
        return X

    def fit(self, X, y):
        y = np.asarray(y)
        self.task_ = _T2MLCatBoost_task(self.task, y)
        self.cat_features_ = tuple(str(c) for c in pd.DataFrame(X).columns if str(c).startswith("cat__"))
        params = dict(iterations=int(self.iterations), learning_rate=float(self.learning_rate),
                      depth=int(self.depth), l2_leaf_reg=float(self.l2_leaf_reg),
                      random_strength=float(self.random_strength), random_seed=int(self.random_state),
                      cat_features=self.cat_features_, verbose=0, allow_writing_files=False,
                      thread_count=-1)
        Xf = self._frame(X)
        self.model_ = None
        if self.task_ == "regression":
            self.model_ = CatBoostRegressor(loss_function="RMSE", **params).fit(Xf, y.astype("float64"))
            return self
        y = y.astype("int64")
        self.classes_ = np.unique(y)
        self.n_classes_ = max(int(y.max()) + 1, 2)
        if len(self.classes_) > 1:
            loss = "Logloss" if len(self.classes_) == 2 else "MultiClass"
            self.model_ = CatBoostClassifier(loss_function=loss, **params).fit(Xf, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        n = len(X)
        out = np.zeros((n, self.n_classes_))
        if self.model_ is None:
            out[:, self.classes_[0]] = 1.0
            return out
        proba = self.model_.predict_proba(self._frame(X))
        out[:, np.asarray(self.model_.classes_).astype("int64")] = proba
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        if self.task_ == "regression":
            return np.asarray(self.model_.predict(self._frame(X)), dtype="float64")
        return self.predict_proba(X).argmax(axis=1)
