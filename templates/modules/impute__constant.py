"""Fill missing numeric values with a constant (default -999, good for trees) and categories with "__missing__".

Numeric (and boolean) columns become float64 without NaN/inf; other columns become strings.
Optionally appends 0/1 indicator columns `<col>__missing` for numeric columns that had missing
values at fit time.
"""
import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {
    "add_indicator": {"type": "categorical", "choices": [True, False]},
}


def _T2MLConstantImputer_is_numeric(series: pd.Series) -> bool:
    if is_numeric_dtype(series) or is_bool_dtype(series):
        return True
    return infer_dtype(series, skipna=True) == "boolean" and series.notna().any()


def _T2MLConstantImputer_numeric(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


class T2MLConstantImputer(BaseEstimator, TransformerMixin):
    """Constant imputation for numbers, a "__missing__" level for categories."""

    def __init__(self, fill_value: float = -999.0, add_indicator: bool = False):
        self.fill_value = fill_value
        self.add_indicator = add_indicator

    def fit(self, X: pd.DataFrame, y=None):
        self.columns_ = list(X.columns)
        self.numeric_columns_ = [c for c in X.columns if _T2MLConstantImputer_is_numeric(X[c])]
        self.indicator_columns_ = []
        if self.add_indicator:
            self.indicator_columns_ = [c for c in self.numeric_columns_
                                       if _T2MLConstantImputer_numeric(X[c]).isna().any()]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        numeric = set(self.numeric_columns_)
        for col in self.columns_:
            series = X[col]
            if col in numeric:
                out[col] = _T2MLConstantImputer_numeric(series).fillna(float(self.fill_value))
            else:
                obj = series.astype(object)
                out[col] = obj.where(obj.notna(), "__missing__").astype(str)
        for col in self.indicator_columns_:
            missing = _T2MLConstantImputer_numeric(X[col]).isna()
            out[col + "__missing"] = missing.astype("float64")
        return pd.DataFrame(out, index=X.index)
