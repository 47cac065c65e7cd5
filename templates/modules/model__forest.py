"""Tree ensembles (scikit-learn random forest or extremely randomized trees), for classification or regression."""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)

SEARCH_SPACE = {
    "algorithm": {"type": "categorical", "choices": ["random_forest", "extra_trees"]},
    "n_estimators": {"type": "int", "low": 100, "high": 500},
    "max_features": {"type": "categorical", "choices": ["sqrt", 0.5, 1.0]},
    "min_samples_leaf": {"type": "int", "low": 1, "high": 20},
}


def _T2MLForest_task(task, y: np.ndarray) -> str:
    if task in ("binary", "multiclass", "regression"):
        return task
    if y.dtype.kind == "f":
        return "regression"
    return "binary" if len(np.unique(y)) <= 2 else "multiclass"


class T2MLForest(BaseEstimator):
    """Random forest or extra trees, classifier or regressor, behind one interface."""

    def __init__(self, task: str | None = None, algorithm: str = "random_forest", n_estimators: int = 300,
                 max_features="sqrt", min_samples_leaf: int = 3, random_state: int = 0):
        self.task = task
        self.algorithm = algorithm
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        self.task_ = _T2MLForest_task(self.task, y)
        params = dict(n_estimators=int(self.n_estimators), max_features=self.max_features,
                      min_samples_leaf=int(self.min_samples_leaf), n_jobs=-1,
                      random_state=self.random_state)
        Xa = pd.DataFrame(X).to_numpy(dtype="float64")
        self.model_ = None
        if self.task_ == "regression":
            regressor = ExtraTreesRegressor if self.algorithm == "extra_trees" else RandomForestRegressor
            self.model_ = regressor(**params).fit(Xa, y.astype("float64"))
            self.model_.set_params(n_jobs=1)  # sequential prediction: bit-identical sums
            return self
        y = y.astype("int64")
        self.classes_ = np.unique(y)
        self.n_classes_ = max(int(y.max()) + 1, 2)
        if len(self.classes_) > 1:
            classifier = ExtraTreesClassifier if self.algorithm == "extra_trees" else RandomForestClassifier
            self.model_ = classifier(**params).fit(Xa, y).set_params(n_jobs=1)
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
