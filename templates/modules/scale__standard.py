"""Standardize numeric features to zero mean and unit variance, leaving `cat__*` code columns as they are.

Constant columns are centred to 0 (their scale is taken as 1), so no NaN appears.
"""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler

SEARCH_SPACE = {}


class T2MLStandardScaler(BaseEstimator, TransformerMixin):
    """StandardScaler on all non-categorical-code columns."""

    def __init__(self):
        pass

    def fit(self, X: pd.DataFrame, y=None):
        self.columns_ = list(X.columns)
        self.scaled_columns_ = [c for c in X.columns if not str(c).startswith("cat__")]
        self.scaler_ = None
        if self.scaled_columns_:
            self.scaler_ = StandardScaler().fit(X[self.scaled_columns_].to_numpy(dtype="float64"))
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X[self.columns_].copy()
        if self.scaler_ is not None:
            values = self.scaler_.transform(X[self.scaled_columns_].to_numpy(dtype="float64"))
            values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            out[self.scaled_columns_] = pd.DataFrame(values, index=X.index, columns=self.scaled_columns_)
        return out
