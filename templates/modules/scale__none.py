"""Leave numeric features unscaled (identity transform returning a copy)."""
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {}


class T2MLNoScaling(BaseEstimator, TransformerMixin):
    """Identity scaler."""

    def __init__(self):
        pass

    def fit(self, X: pd.DataFrame, y=None):
        self.columns_ = list(X.columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X[self.columns_].copy()
