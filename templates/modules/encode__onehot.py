"""One-hot encode categorical columns, grouping rare categories into a shared "__rare__" column.

Numeric columns pass through first (booleans cast to float); then for each categorical column one
float 0/1 column `<col>__<category>` per kept category and `<col>____rare__` if some categories
were grouped. Unseen categories map to the rare column, or to all zeros when there is none.
"""
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OneHotEncoder

SEARCH_SPACE = {
    "min_frequency": {"type": "float", "low": 0.001, "high": 0.05, "log": True},
    "max_categories": {"type": "int", "low": 5, "high": 50},
}


def _T2MLOneHotEncoder_strings(X: pd.DataFrame) -> np.ndarray:
    obj = X.astype(object)
    return obj.where(obj.notna(), "__missing__").astype(str).to_numpy(dtype=object)


class T2MLOneHotEncoder(BaseEstimator, TransformerMixin):
    """Frequency-limited one-hot encoding (scikit-learn OneHotEncoder with infrequent grouping)."""

    def __init__(self, min_frequency: float = 0.01, max_categories: int = 20):
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None):
        self.numeric_columns_ = [c for c in X.columns if is_numeric_dtype(X[c]) or is_bool_dtype(X[c])]
        numeric = set(self.numeric_columns_)
        self.categorical_columns_ = [c for c in X.columns if c not in numeric]
        self.encoder_ = None
        self.feature_names_ = []
        if not self.categorical_columns_:
            return self
        self.encoder_ = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=float(self.min_frequency),
            max_categories=max(2, int(self.max_categories)), sparse_output=False, dtype=np.float64)
        self.encoder_.fit(_T2MLOneHotEncoder_strings(X[self.categorical_columns_]))
        infrequent = self.encoder_.infrequent_categories_
        for col, cats, rare in zip(self.categorical_columns_, self.encoder_.categories_, infrequent):
            rare_set = set() if rare is None else set(rare)
            self.feature_names_ += ["%s__%s" % (col, c) for c in cats if c not in rare_set]
            if rare_set:
                self.feature_names_.append("%s____rare__" % col)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X[self.numeric_columns_].copy()
        for col in self.numeric_columns_:
            if is_bool_dtype(out[col]):
                out[col] = out[col].astype("float64")
        if self.encoder_ is None:
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            codes = self.encoder_.transform(_T2MLOneHotEncoder_strings(X[self.categorical_columns_]))
        encoded = pd.DataFrame(codes, index=X.index, columns=self.feature_names_)
        return pd.concat([out, encoded], axis=1)
