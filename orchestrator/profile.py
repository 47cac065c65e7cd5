"""DataProfile: a deterministic summary of the training data that the roles receive instead of raw data."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from t2ml.agents.messages import ColumnProfile, DataProfile, TaskSpec
from t2ml.errors import DataError

from .intake import Table, read_table
from .task import infer_target, infer_task, order_classes, resolve_metric

_ID_NAME = re.compile(r"(^|_)(id|idx|index|key|uuid|rownames?|unnamed: ?0)$", re.I)
_DATEISH = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}:\d{2}")


def _plain(value: object) -> object:
    """numpy scalars as plain Python values, for readable notes."""
    return value.item() if hasattr(value, "item") else value


def _is_textlike(s: pd.Series) -> bool:
    """Many distinct values made of several words that recur across rows (names, descriptions)."""
    values = s.dropna().astype(str)
    if values.nunique() <= 20 or values.nunique() < 0.5 * len(values):
        return False
    tokens = values.str.lower().str.findall(r"[a-z]+\.?")
    if tokens.map(len).mean() < 2:
        return False
    doc_freq = pd.Series([t for ts in tokens for t in set(ts)]).value_counts()
    return bool((doc_freq >= 0.05 * len(values)).any())


def _kind(s: pd.Series, name: str) -> tuple[str, str | None]:
    n = len(s)
    nonnull = s.dropna()
    if nonnull.empty:
        return "empty", "all values missing"
    if nonnull.nunique() == 1:
        return "constant", f"a single value ({_plain(nonnull.iloc[0])!r})"
    if pd.api.types.is_bool_dtype(s):
        return "boolean", None
    if pd.api.types.is_numeric_dtype(s):
        integral = bool((nonnull % 1 == 0).all())
        if integral and nonnull.nunique() == n and (_ID_NAME.search(name) or
                                                     (nonnull.sort_values().diff().dropna() == 1).all()):
            return "id", "unique integer per row (a row identifier)"
        return "numeric", None
    values = nonnull.astype(str)
    if values.str.contains(_DATEISH).mean() > 0.9:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            return "datetime", "expanded into year/month/day-of-week/day-of-year/hour"
    if _is_textlike(s):
        return "text", "free text: frequent tokens become features"
    if nonnull.nunique() >= 0.9 * len(nonnull) or _ID_NAME.search(name) and nonnull.nunique() == len(nonnull):
        return "id", "a distinct value in almost every row (an identifier)"
    return "categorical", None


def _column(s: pd.Series, name: str) -> ColumnProfile:
    kind, note = _kind(s, name)
    examples = [str(v)[:40] for v in s.dropna().unique()[:3]]
    return ColumnProfile(name=name, kind=kind, dtype=str(s.dtype), missing_rate=round(float(s.isna().mean()), 4),
                         n_unique=int(s.nunique()), examples=examples, note=note)


def build_profile(table: Table, task: TaskSpec) -> DataProfile:
    frame = table.frame
    columns = {str(c): _column(frame[c], str(c)) for c in frame.columns}
    unknown = [c for c in task.drop if c not in columns]
    if unknown:
        raise DataError(f"--drop names columns the training file does not have: {unknown}",
                        hint=f"columns are: {list(columns)[:30]}")
    for c in task.drop:
        columns[c] = columns[c].model_copy(update={"note": "left out with --drop"})
    excluded = {c for c, p in columns.items() if p.kind in ("id", "empty", "constant") or c in task.drop}
    # an empty or constant column named by the text is still the target: it fails below with a clear
    # message instead of the inference silently settling on another column
    target = infer_target(frame, task.text, task.target, {c for c, p in columns.items() if p.kind == "id"})
    if target in task.drop:
        raise DataError(f"--drop leaves out {target!r}, the column to predict",
                        hint="remove it from --drop, or pass --target with another column")
    y = frame[target]
    missing = int(y.isna().sum())
    if missing == len(y):
        raise DataError(f"target column {target!r} has no values", hint="choose another --target")
    kind = infer_task(y, task.text)
    classes = order_classes(y) if kind != "regression" else []
    if kind != "regression" and len(classes) < 2:
        raise DataError(f"target column {target!r} has a single class ({classes[0]!r}) in {len(y) - missing} rows",
                        hint="a classifier needs at least two classes; check the target column or the data export")
    if kind == "regression" and y.nunique() < 2:
        raise DataError(f"target column {target!r} has a single value ({float(y.dropna().iloc[0])!r}) in {len(y) - missing} rows",
                        hint="a regression model needs a target that varies; check the target column or the data export")
    if kind == "multiclass" and len(classes) > 100:
        raise DataError(f"target column {target!r} has {len(classes)} distinct non-numeric values",
                        hint="it looks like an identifier or free text; pass --target with the column to predict")
    counts = y.dropna().map(str).value_counts()
    if kind != "regression" and counts.min() < 5:
        raise DataError(f"target class {counts.idxmin()!r} has only {counts.min()} rows",
                        hint="cross-validation needs at least 5 rows per class; merge or drop rare classes")
    metric = resolve_metric(task.metric, task.text, kind)
    notes = list(table.notes)
    dropped = {c: f"{p.kind}: {p.note}" for c, p in columns.items() if c in excluded and c != target}
    if columns[target].kind == "id":
        notes.append(f"the target {target!r} looks like a row identifier ({columns[target].note}); check it is the column to predict")
    if missing:
        notes.append(f"{missing} rows with a missing target were dropped")
    skew = float(pd.to_numeric(y, errors="coerce").skew()) if kind == "regression" else None
    id_col = next((c for c, p in columns.items() if p.kind == "id"), None)
    return DataProfile(path=str(table.path), file_format=table.file_format, sep=table.sep, encoding=table.encoding,
                       n_rows=int(len(y) - missing), columns=list(columns.values()), target=target, task=kind,
                       metric=metric, classes=classes, class_counts={k: int(v) for k, v in counts.items()} if kind != "regression" else {},
                       target_skew=None if skew is None or np.isnan(skew) else round(skew, 3),
                       dropped_columns=dropped, datetime_columns=[c for c, p in columns.items() if p.kind == "datetime" and c != target],
                       rows_missing_target=missing, id_column=id_col, notes=notes)


def check_test_file(path: str, profile: DataProfile) -> Table:
    """The test file must carry every feature column the program uses (the target may be absent)."""
    table = read_table(path, what="test")
    have = {str(c) for c in table.frame.columns}
    needed = [c.name for c in profile.features()]
    missing = [c for c in needed if c not in have]
    if missing:
        extra = sorted(have - set(needed) - {profile.target} - set(profile.dropped_columns))
        raise DataError(f"the test file lacks columns the training file has: {missing}"
                        + (f"; it has columns training does not: {extra}" if extra else ""),
                        hint="the test file needs the same feature columns as the training file (the target may be "
                             f"absent); to leave columns out of the model, pass "
                             + " ".join(f"--drop {c}" for c in missing))
    return table
