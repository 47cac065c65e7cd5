"""Replace each free-text column by 0/1 indicators of its most frequent tokens plus a token count.

A string column counts as text when more than 50% of its non-missing values are distinct, it has
more than 20 distinct values and its values hold on average at least 2 whitespace-separated words.
Tokens are lower-cased words (keeping a trailing dot, so titles like "mr." survive).
"""
import re

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {
    "max_tokens": {"type": "int", "low": 5, "high": 40},
    "min_frequency": {"type": "float", "low": 0.005, "high": 0.05, "log": True},
}

_T2MLTokenFeatures_PATTERN = r"[a-z0-9]+\.?"


def _T2MLTokenFeatures_is_text(series: pd.Series) -> bool:
    if is_numeric_dtype(series) or is_bool_dtype(series):
        return False
    values = series.dropna().astype(str)
    n_distinct = values.nunique()
    if len(values) == 0 or n_distinct <= 20 or n_distinct <= 0.5 * len(values):
        return False
    return float(values.str.split().str.len().mean()) >= 2.0


def _T2MLTokenFeatures_tokens(series: pd.Series) -> list:
    text = series.astype(object).where(series.notna(), "")
    return [re.findall(_T2MLTokenFeatures_PATTERN, str(v).lower()) for v in text]


class T2MLTokenFeatures(BaseEstimator, TransformerMixin):
    """Bag-of-frequent-tokens features for text columns; other columns pass through."""

    def __init__(self, max_tokens: int = 20, min_frequency: float = 0.02):
        self.max_tokens = max_tokens
        self.min_frequency = min_frequency

    def fit(self, X: pd.DataFrame, y=None):
        self.text_columns_ = [c for c in X.columns if _T2MLTokenFeatures_is_text(X[c])]
        self.vocabulary_ = {}
        for col in self.text_columns_:
            counts: dict = {}
            for toks in _T2MLTokenFeatures_tokens(X[col]):
                for tok in set(toks):
                    counts[tok] = counts.get(tok, 0) + 1
            min_count = self.min_frequency * len(X)
            ranked = sorted((t for t, n in counts.items() if n >= min_count),
                            key=lambda t: (-counts[t], t))
            self.vocabulary_[col] = ranked[: int(self.max_tokens)]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.drop(columns=self.text_columns_)
        feats = {}
        for col in self.text_columns_:
            token_lists = _T2MLTokenFeatures_tokens(X[col])
            token_sets = [set(t) for t in token_lists]
            for tok in self.vocabulary_[col]:
                name = "%s__tok_%s" % (col, re.sub(r"[^a-z0-9_]", "_", tok))
                feats[name] = np.array([tok in s for s in token_sets], dtype="float64")
            feats["%s__n_tokens" % col] = np.array([len(t) for t in token_lists], dtype="float64")
        if not feats:
            return out.copy()
        return pd.concat([out, pd.DataFrame(feats, index=X.index)], axis=1)
