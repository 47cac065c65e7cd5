"""Map numeric features to a standard normal distribution by quantiles, leaving `cat__*` code columns as they are.

Uses scikit-learn QuantileTransformer(output_distribution="normal"); n_quantiles is capped at the
number of training rows.
"""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import QuantileTransformer

SEARCH_SPACE = {
    "n_quantiles": {"type": "int", "low": 50, "high": 500},
}


class T2MLQuantileScaler(BaseEstimator, TransformerMixin):
    """Quantile-to-normal transform of all non-categorical-code columns."""

    def __init__(self, n_quantiles: int = 200, random_state: int = 0):
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None):
        self.columns_ = list(X.columns)
        self.scaled_columns_ = [c for c in X.columns if not str(c).startswith("cat__")]
        self.transformer_ = None
        if self.scaled_columns_ and len(X) > 0:
            self.transformer_ = QuantileTransformer(
                n_quantiles=max(1, min(int(self.n_quantiles), len(X))),
                output_distribution="normal", random_state=self.random_state)
            self.transformer_.fit(X[self.scaled_columns_].to_numpy(dtype="float64"))
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X[self.columns_].copy()
        if self.transformer_ is not None:
            values = self.transformer_.transform(X[self.scaled_columns_].to_numpy(dtype="float64"))
            values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            out[self.scaled_columns_] = pd.DataFrame(values, index=X.index, columns=self.scaled_columns_)
        return out
