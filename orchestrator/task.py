"""Task understanding: the target column, the problem kind and the metric, from flags or the text."""
from __future__ import annotations

import difflib
import os
import re

import pandas as pd
from t2ml.templates.program import runtime

from t2ml.errors import ConfigError, DataError

METRIC_ALIASES = {
    "auc": "roc_auc", "roc_auc": "roc_auc", "rocauc": "roc_auc", "roc": "roc_auc",
    "accuracy": "accuracy", "acc": "accuracy", "f1": "f1", "balanced_accuracy": "balanced_accuracy",
    "log_loss": "log_loss", "logloss": "log_loss", "cross_entropy": "log_loss",
    "rmse": "rmse", "mae": "mae", "r2": "r2",
}
REGRESSION_METRICS = runtime.REGRESSION_METRICS
CLASSIFICATION_METRICS = runtime.LABEL_METRICS | runtime.PROBA_METRICS
_TEXT_METRICS = [  # (pattern, metric), most specific first
    (r"balanced[ -]accuracy", "balanced_accuracy"), (r"\bf1\b|f-score|f1-score", "f1"),
    (r"roc[ _-]?auc|\bauc\b|area under", "roc_auc"), (r"log[ -]?loss|cross[ -]entropy", "log_loss"),
    (r"\brmse\b|root mean squared", "rmse"), (r"\bmae\b|mean absolute", "mae"), (r"\br2\b|r²|r-squared", "r2"),
    (r"\baccuracy\b", "accuracy"),
]
_POSITIVE = ["1", "1.0", "yes", "y", "true", "positive", "pos"]


def _words(name: str) -> list[str]:
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w]


def _same_word(a: str, b: str) -> bool:
    """Equal, or sharing a long stem ("survived" ~ "survival" ~ "survive")."""
    if a == b:
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= 4 and common >= 0.75 * min(len(a), len(b))


def _goal_text(text: str) -> str:
    """The part of the description that names the goal: after 'predict' etc., before 'from'."""
    found = re.search(r"(predict|forecast|estimate|classify|target|whether|which|how much|how many)(.*?)(\bfrom\b|\busing\b|\bbased on\b|\bgiven\b|[.\n]|$)",
                      text, re.I | re.S)
    return found.group(2) if found else ""


def _score(column: str, text: str) -> float:
    words = _words(text)
    goal = _words(_goal_text(text))
    col = _words(column)
    if not col:
        return 0.0
    score = 0.0
    if f"`{column}`" in text:
        score += 10
    for ws, weight in ((words, 1.0), (goal, 3.0)):
        hits = sum(any(_same_word(c, w) for w in ws) for c in col)
        score += weight * hits / len(col) * (2 if hits == len(col) else 1)
    return score


def _value_score(column: pd.Series, text: str) -> float:
    """A goal phrased by outcome ("whether the loan is good") names one of the column's few values."""
    values = column.dropna()
    if pd.api.types.is_numeric_dtype(values) or values.nunique() > 20:
        return 0.0
    goal = set(_words(_goal_text(text)))
    named = {w for v in values.astype(str).unique() for w in _words(v) if len(w) >= 3}
    return 2.0 * len(goal & named)


def infer_target(frame: pd.DataFrame, text: str, target: str | None, excluded: set[str]) -> str:
    columns = [str(c) for c in frame.columns]
    if target:
        if target in columns:
            return target
        close = difflib.get_close_matches(target, columns, n=3, cutoff=0.5)
        lower = [c for c in columns if c.lower() == target.lower()]
        suggestion = lower or close
        raise DataError(f"target column {target!r} not found in the training file",
                        hint=(f"did you mean {suggestion}? " if suggestion else "") + f"columns are: {columns[:30]}")
    candidates = [c for c in columns if c not in excluded]
    scored = sorted(((_score(c, text) + _value_score(frame[c], text), c) for c in candidates), reverse=True)
    if not scored or scored[0][0] <= 0:
        raise DataError("could not tell the target column from the task description",
                        hint=f"pass --target with one of: {candidates[:30]}")
    if len(scored) > 1 and scored[1][0] >= scored[0][0] * 0.8:
        tied = [c for s, c in scored if s >= scored[0][0] * 0.8]
        raise DataError(f"the task description fits several target columns: {tied[:10]}",
                        hint="pass --target with the column to predict")
    return scored[0][1]


def infer_task(y: pd.Series, text: str) -> str:
    values = y.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "binary" if values.nunique() == 2 else "multiclass"
    wants_regression = re.search(r"regress|how much|how many|amount|price|continuous", text, re.I)
    integral = bool(((values % 1) == 0).all())
    few = values.nunique() <= 10 and values.nunique() <= max(2, 0.05 * len(values))
    if integral and few and not wants_regression:
        return "binary" if values.nunique() == 2 else "multiclass"
    return "regression"


def order_classes(y: pd.Series) -> list[str]:
    """Class labels as strings; for binary tasks the positive class comes last (index 1)."""
    counts = y.dropna().map(str).value_counts()
    labels = sorted(counts.index)
    if len(labels) == 2:
        pos = next((l for l in labels if l.lower() in _POSITIVE), None)
        pos = pos or counts.index[-1]  # else the minority class is the positive one
        labels = [l for l in labels if l != pos] + [pos]
    return labels


def resolve_metric(metric: str | None, text: str, task: str) -> str:
    if metric:
        key = METRIC_ALIASES.get(metric.lower().replace("-", "_").replace(" ", "_"))
        if key is None:
            raise ConfigError(f"unknown metric {metric!r}", hint=f"choose one of {sorted(set(METRIC_ALIASES.values()))}")
    else:
        key = next((m for pat, m in _TEXT_METRICS if re.search(pat, text, re.I)), None)
        if key is None or (key in REGRESSION_METRICS) != (task == "regression"):
            key = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}[task]
    if (key in REGRESSION_METRICS) != (task == "regression"):
        kind = "regression" if task == "regression" else "classification"
        allowed = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
        raise ConfigError(f"metric {key!r} does not fit a {kind} task", hint=f"use one of {sorted(allowed)}")
    return key
