# ---- t2ml runtime: data loading, pipeline assembly, cross-validation, metrics ----
# This section is self-contained (numpy, pandas, scikit-learn only). It is shared verbatim by the
# sandbox evaluation worker, the contract tester and the exported program.py, so the score the
# optimizer saw is the score the exported program prints.
import inspect
import math

import numpy as np
import pandas as pd
from sklearn import metrics as _skm
from sklearn.model_selection import KFold, StratifiedKFold

LABEL_METRICS = {"accuracy", "f1", "balanced_accuracy"}
PROBA_METRICS = {"roc_auc", "log_loss"}
REGRESSION_METRICS = {"rmse", "mae", "r2"}
MINIMIZE = {"log_loss", "rmse", "mae"}


def read_table(path, sep=",", encoding="utf-8"):
    """Read a CSV/TSV/Parquet file the same way the run read it."""
    if str(path).lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=sep, encoding=encoding)


def prepare_frame(df, config):
    """Keep the training feature columns (in training order); expand datetimes into numeric parts."""
    X = df[list(config["feature_columns"])].copy()
    for col in config.get("datetime_columns", []):
        if col not in X.columns:
            continue
        ts = pd.to_datetime(X[col], errors="coerce", format="mixed")
        X[col + "__year"] = ts.dt.year.astype("float64")
        X[col + "__month"] = ts.dt.month.astype("float64")
        X[col + "__dayofweek"] = ts.dt.day_of_week.astype("float64")
        X[col + "__dayofyear"] = ts.dt.day_of_year.astype("float64")
        X[col + "__hour"] = ts.dt.hour.astype("float64")
        X = X.drop(columns=[col])
    return X


def encode_target(series, config):
    """Return y as float (regression) or class index 0..k-1 (classification)."""
    if config["task"] == "regression":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    lookup = {c: i for i, c in enumerate(config["classes"])}
    return np.array([lookup[str(v)] for v in series], dtype="int64")


def load_training(path, config):
    df = read_table(path, config.get("sep", ","), config.get("encoding", "utf-8"))
    df = df[df[config["target"]].notna()].reset_index(drop=True)
    return prepare_frame(df, config), encode_target(df[config["target"]], config)


def score(metric, y_true, pred):
    """Score predictions. pred: class probabilities (n, k) or regression values (n,)."""
    if metric in REGRESSION_METRICS:
        pred = np.asarray(pred, dtype="float64")
        if metric == "rmse":
            return float(math.sqrt(_skm.mean_squared_error(y_true, pred)))
        if metric == "mae":
            return float(_skm.mean_absolute_error(y_true, pred))
        return float(_skm.r2_score(y_true, pred))
    proba = np.asarray(pred, dtype="float64")
    k = proba.shape[1]
    if metric == "roc_auc":
        if k == 2:
            return float(_skm.roc_auc_score(y_true, proba[:, 1]))
        return float(_skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=list(range(k))))
    if metric == "log_loss":
        return float(_skm.log_loss(y_true, np.clip(proba, 1e-15, 1), labels=list(range(k))))
    labels = proba.argmax(axis=1)
    if metric == "accuracy":
        return float(_skm.accuracy_score(y_true, labels))
    if metric == "balanced_accuracy":
        return float(_skm.balanced_accuracy_score(y_true, labels))
    if metric == "f1":
        if k == 2:
            return float(_skm.f1_score(y_true, labels, pos_label=1, zero_division=0))
        return float(_skm.f1_score(y_true, labels, average="macro", zero_division=0))
    raise ValueError("unknown metric %r" % metric)


def _construct(cls, params, seed, task):
    params = dict(params)
    try:
        accepted = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        accepted = {}
    if "random_state" in accepted and "random_state" not in params:
        params["random_state"] = seed
    if "task" in accepted and "task" not in params:
        params["task"] = task
    return cls(**params)


class Pipeline:
    """Preparation transformers -> model (optionally on a transformed target) -> post-processors.

    steps: list of (name, stage, class, params); stage is one of
    "prepare", "model", "target", "postprocess".
    """

    def __init__(self, steps, task, seed=0):
        self.steps = steps
        self.task = task
        self.seed = seed

    def _build(self, stage):
        out = []
        for name, st, cls, params in self.steps:
            if st == stage:
                obj = _construct(cls, params, self.seed, self.task)
                out.append((name, obj))
        return out

    def fit(self, X, y):
        self.prepare_ = self._build("prepare")
        Xt = X
        for _, step in self.prepare_:  # fit_transform lets cross-fitting encoders return honest training values
            Xt = step.fit_transform(Xt, y) if hasattr(step, "fit_transform") else step.fit(Xt, y).transform(Xt)
        self.targets_ = self._build("target")
        yt = np.asarray(y)
        for _, tt in self.targets_:
            yt = tt.fit(yt).transform(yt)
        self.model_ = self._build("model")[0][1]
        self.model_.fit(Xt, yt)
        self.postprocess_ = []
        return self

    def transform_features(self, X):
        for _, step in self.prepare_:
            X = step.transform(X)
        return X

    def predict_raw(self, X):
        Xt = self.transform_features(X)
        if self.task == "regression":
            pred = np.asarray(self.model_.predict(Xt), dtype="float64")
            for _, tt in reversed(self.targets_):
                pred = np.asarray(tt.inverse_transform(pred), dtype="float64")
            return pred
        return np.asarray(self.model_.predict_proba(Xt), dtype="float64")

    def fit_postprocess(self, y_true, oof_raw):
        self.postprocess_ = self._build("postprocess")
        for _, pp in self.postprocess_:
            pp.fit(y_true, oof_raw)
            oof_raw = pp.transform(oof_raw)
        return self

    def apply_postprocess(self, raw):
        for _, pp in self.postprocess_:
            raw = pp.transform(raw)
        return raw

    def predict_output(self, X):
        return self.apply_postprocess(self.predict_raw(X))


def make_folds(y, task, n_folds, seed):
    if task == "regression":
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:  # every class must be able to appear in every fold
        n_folds = max(2, min(n_folds, int(np.bincount(y).min())))
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def empty_oof(y, config):
    k = len(config.get("classes") or []) or None
    return np.zeros(len(y)) if config["task"] == "regression" else np.zeros((len(y), k))


def fit_fold(steps, X, y, config, fold, seed):
    """Fit on one fold's training rows; return the raw predictions for its validation rows."""
    train_idx, val_idx = fold
    pipe = Pipeline(steps, config["task"], seed).fit(X.iloc[train_idx], y[train_idx])
    pred = pipe.predict_raw(X.iloc[val_idx])
    k = len(config.get("classes") or [])
    if config["task"] != "regression" and pred.shape[1] < k:  # a class absent from this training fold
        pred = np.hstack([pred, np.zeros((len(pred), k - pred.shape[1]))])
    return pred


def finish_cv(steps, y, config, folds, oof, seed, on_fold=None):
    """Scores from complete raw out-of-fold predictions; post-processors are cross-fitted per fold."""
    final = oof.copy()
    has_post = any(st == "postprocess" for _, st, _, _ in steps)
    fold_scores = []
    for i, (train_idx, val_idx) in enumerate(folds):
        if has_post:
            pipe = Pipeline(steps, config["task"], seed)
            pipe.fit_postprocess(y[train_idx], oof[train_idx])
            final[val_idx] = pipe.apply_postprocess(oof[val_idx])
        fold_scores.append(score(config["metric"], y[val_idx], final[val_idx]))
        if on_fold is not None:
            on_fold(i, fold_scores[-1])
    return {
        "fold_scores": fold_scores,
        "score": float(np.mean(fold_scores)),
        "std": float(np.std(fold_scores)),
        "oof": final,
        "oof_raw": oof,
    }


def cross_validate(steps, X, y, config, n_folds=None, seed=None, on_fold=None):
    """K-fold CV. Post-processors are cross-fitted on the out-of-fold predictions of the other folds.

    Returns dict(fold_scores, score, std, oof) where oof holds the post-processed predictions.
    """
    n_folds = n_folds or config["folds"]
    seed = config["seed"] if seed is None else seed
    folds = make_folds(y, config["task"], n_folds, seed)
    oof = empty_oof(y, config)
    for fold in folds:
        oof[fold[1]] = fit_fold(steps, X, y, config, fold, seed)
    return finish_cv(steps, y, config, folds, oof, seed, on_fold)


def fit_final(steps, X, y, config, oof_raw):
    """Fit on all training rows; post-processors learn from the full out-of-fold predictions."""
    pipe = Pipeline(steps, config["task"], config["seed"]).fit(X, y)
    pipe.fit_postprocess(y, oof_raw)
    return pipe


class Ensemble:
    """Weighted average of fitted pipelines' outputs (probabilities or values)."""

    def __init__(self, members):
        self.members = members  # list of (weight, fitted Pipeline)

    def predict_output(self, X):
        return sum(w * p.predict_output(X) for w, p in self.members)


def cross_validate_ensemble(pipelines, X, y, config):
    """CV of a weighted ensemble: every member on the same folds, scores on the averaged predictions."""
    runs = [cross_validate(steps, X, y, config) for _, steps in pipelines]
    if len(runs) == 1:
        return dict(runs[0], members=runs)
    oof = sum(w * r["oof"] for (w, _), r in zip(pipelines, runs))
    folds = make_folds(y, config["task"], config["folds"], config["seed"])
    fold_scores = [score(config["metric"], y[v], oof[v]) for _, v in folds]
    return {"fold_scores": fold_scores, "score": float(np.mean(fold_scores)), "std": float(np.std(fold_scores)),
            "oof": oof, "members": runs}


def fit_final_ensemble(pipelines, X, y, config, cv):
    return Ensemble([(w, fit_final(steps, X, y, config, run["oof_raw"]))
                     for (w, steps), run in zip(pipelines, cv["members"])])


def prediction_frame(pred, config, index):
    """Turn predictions into a user-facing frame: labels (+ class probabilities) or values."""
    target = config["target"]
    if config["task"] == "regression":
        return pd.DataFrame({target: pred}, index=index)
    classes = config["classes"]
    out = pd.DataFrame({target: [classes[i] for i in pred.argmax(axis=1)]}, index=index)
    for j, c in enumerate(classes):
        out["proba_" + str(c)] = pred[:, j]
    return out
# ---- end of t2ml runtime ----
