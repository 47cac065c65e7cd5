"""Drop free-text columns (many distinct multi-word strings); all other columns pass through.

A string column counts as text when more than 50% of its non-missing values are distinct, it has
more than 20 distinct values and its values hold on average at least 2 whitespace-separated words.
"""
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {}


def _T2MLDropText_is_text(series: pd.Series) -> bool:
    if is_numeric_dtype(series) or is_bool_dtype(series):
        return False
    values = series.dropna().astype(str)
    n_distinct = values.nunique()
    if len(values) == 0 or n_distinct <= 20 or n_distinct <= 0.5 * len(values):
        return False
    return float(values.str.split().str.len().mean()) >= 2.0


class T2MLDropText(BaseEstimator, TransformerMixin):
    """Remove the text columns detected at fit time."""

    def __init__(self):
        pass

    def fit(self, X: pd.DataFrame, y=None):
        self.text_columns_ = [c for c in X.columns if _T2MLDropText_is_text(X[c])]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.drop(columns=self.text_columns_).copy()
