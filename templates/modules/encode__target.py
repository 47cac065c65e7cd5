"""Replace each categorical column by smoothed, cross-fitted target means (scikit-learn TargetEncoder).

Numeric columns pass through first. Binary/regression give one column `<col>__te` per categorical
column, multiclass gives k columns `<col>__te<j>`. The training rows seen by `fit` get the
out-of-fold encodings (cross fitting) when `transform` is called on that same frame.
"""
import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import TargetEncoder
from sklearn.utils.multiclass import type_of_target

SEARCH_SPACE = {
    "smooth": {"type": "float", "low": 1.0, "high": 100.0, "log": True},
}

_T2MLTargetEncoder_TYPES = {"binary": "binary", "multiclass": "multiclass", "regression": "continuous"}


def _T2MLTargetEncoder_strings(X: pd.DataFrame) -> np.ndarray:
    obj = X.astype(object)
    return obj.where(obj.notna(), "__missing__").astype(str).to_numpy(dtype=object)


def _T2MLTargetEncoder_fingerprint(X: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(X, index=True).to_numpy()


class T2MLTargetEncoder(BaseEstimator, TransformerMixin):
    """Cross-fitted target encoding of categorical columns."""

    def __init__(self, smooth: float = 10.0, task: str | None = None, random_state: int = 0):
        self.smooth = smooth
        self.task = task
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y):
        self.numeric_columns_ = [c for c in X.columns if is_numeric_dtype(X[c]) or is_bool_dtype(X[c])]
        numeric = set(self.numeric_columns_)
        self.categorical_columns_ = [c for c in X.columns if c not in numeric]
        self.encoder_, self.train_fingerprint_, self.train_encoded_ = None, None, None
        self.feature_names_ = []
        if not self.categorical_columns_:
            return self
        y = np.asarray(y)
        target_type = _T2MLTargetEncoder_TYPES.get(self.task) or type_of_target(y)
        if target_type not in ("binary", "multiclass"):
            target_type = "continuous"
        if target_type != "continuous" and len(np.unique(y)) < 2:
            target_type = "continuous"
        if target_type == "continuous":
            y = y.astype("float64")
            n_splits, splitter_cls = min(5, len(y)), KFold
        else:
            n_splits = min(5, int(np.unique(y, return_counts=True)[1].max()))
            splitter_cls = StratifiedKFold
        splitter = splitter_cls(n_splits, shuffle=True, random_state=self.random_state) \
            if n_splits >= 2 else 5
        self.encoder_ = TargetEncoder(target_type=target_type, smooth=float(self.smooth), cv=splitter)
        Xc = _T2MLTargetEncoder_strings(X[self.categorical_columns_])
        if n_splits >= 2:
            self.train_encoded_ = self.encoder_.fit_transform(Xc, y)
            self.train_fingerprint_ = _T2MLTargetEncoder_fingerprint(X)
        else:
            self.encoder_.fit(Xc, y)
        k = len(self.encoder_.encodings_) // len(self.categorical_columns_)
        if k > 1:
            self.feature_names_ = ["%s__te%d" % (c, j) for c in self.categorical_columns_ for j in range(k)]
        else:
            self.feature_names_ = ["%s__te" % c for c in self.categorical_columns_]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X[self.numeric_columns_].copy()
        for col in self.numeric_columns_:
            if is_bool_dtype(out[col]):
                out[col] = out[col].astype("float64")
        if self.encoder_ is None:
            return out
        encoded = None
        if self.train_fingerprint_ is not None and len(X) == len(self.train_fingerprint_):
            if np.array_equal(_T2MLTargetEncoder_fingerprint(X), self.train_fingerprint_):
                encoded = self.train_encoded_
        if encoded is None:
            encoded = self.encoder_.transform(_T2MLTargetEncoder_strings(X[self.categorical_columns_]))
        frame = pd.DataFrame(np.asarray(encoded, dtype="float64"), index=X.index,
                             columns=self.feature_names_)
        return pd.concat([out, frame], axis=1)
