"""Encode each categorical column as integer codes ranked by frequency, in columns named `cat__<col>`.

Code 0 is the most frequent category; categories seen fewer than `min_frequency` times at fit,
and categories unseen at fit, share the last ("rare") code. Numeric columns pass through first.
"""
import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {
    "min_frequency": {"type": "int", "low": 1, "high": 30},
}


def _T2MLOrdinalEncoder_strings(series: pd.Series) -> pd.Series:
    obj = series.astype(object)
    return obj.where(obj.notna(), "__missing__").astype(str)


class T2MLOrdinalEncoder(BaseEstimator, TransformerMixin):
    """Frequency-rank ordinal encoding with a shared code for rare and unseen categories."""

    def __init__(self, min_frequency: int = 5):
        self.min_frequency = min_frequency

    def fit(self, X: pd.DataFrame, y=None):
        self.numeric_columns_ = [c for c in X.columns if is_numeric_dtype(X[c]) or is_bool_dtype(X[c])]
        numeric = set(self.numeric_columns_)
        self.categorical_columns_ = [c for c in X.columns if c not in numeric]
        self.mappings_ = {}
        for col in self.categorical_columns_:
            counts = _T2MLOrdinalEncoder_strings(X[col]).value_counts()
            kept = sorted((str(k) for k, n in counts.items() if n >= self.min_frequency),
                          key=lambda k: (-int(counts[k]), k))
            self.mappings_[col] = {k: i for i, k in enumerate(kept)}
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X[self.numeric_columns_].copy()
        for col in self.numeric_columns_:
            if is_bool_dtype(out[col]):
                out[col] = out[col].astype("float64")
        for col in self.categorical_columns_:
            mapping = self.mappings_[col]
            codes = _T2MLOrdinalEncoder_strings(X[col]).map(mapping)
            out["cat__%s" % col] = codes.fillna(len(mapping)).to_numpy(dtype=np.int64)
        return out
