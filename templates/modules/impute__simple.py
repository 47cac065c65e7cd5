"""Fill missing numeric values with a column statistic and missing categories with "__missing__".

Numeric (and boolean) columns become float64 without NaN/inf; other columns become strings.
Optionally appends 0/1 indicator columns `<col>__missing` for numeric columns that had missing
values at fit time.
"""
import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {
    "strategy": {"type": "categorical", "choices": ["median", "mean", "most_frequent"]},
    "add_indicator": {"type": "categorical", "choices": [True, False]},
}


def _T2MLSimpleImputer_is_numeric(series: pd.Series) -> bool:
    if is_numeric_dtype(series) or is_bool_dtype(series):
        return True
    return infer_dtype(series, skipna=True) == "boolean" and series.notna().any()


def _T2MLSimpleImputer_numeric(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


class T2MLSimpleImputer(BaseEstimator, TransformerMixin):
    """Median/mean/most-frequent imputation for numbers, a "__missing__" level for categories."""

    def __init__(self, strategy: str = "median", add_indicator: bool = True):
        self.strategy = strategy
        self.add_indicator = add_indicator

    def fit(self, X: pd.DataFrame, y=None):
        self.columns_ = list(X.columns)
        self.numeric_columns_ = [c for c in X.columns if _T2MLSimpleImputer_is_numeric(X[c])]
        self.fill_values_ = {}
        self.indicator_columns_ = []
        for col in self.numeric_columns_:
            values = _T2MLSimpleImputer_numeric(X[col])
            observed = values.dropna()
            if observed.empty:
                fill = 0.0
            elif self.strategy == "mean":
                fill = float(observed.mean())
            elif self.strategy == "most_frequent":
                fill = float(observed.mode().iloc[0])
            else:
                fill = float(observed.median())
            self.fill_values_[col] = fill
            if self.add_indicator and values.isna().any():
                self.indicator_columns_.append(col)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for col in self.columns_:
            series = X[col]
            if col in self.fill_values_:
                out[col] = _T2MLSimpleImputer_numeric(series).fillna(self.fill_values_[col])
            else:
                obj = series.astype(object)
                out[col] = obj.where(obj.notna(), "__missing__").astype(str)
        for col in self.indicator_columns_:
            missing = _T2MLSimpleImputer_numeric(X[col]).isna()
            out[col + "__missing"] = missing.astype("float64")
        return pd.DataFrame(out, index=X.index)
