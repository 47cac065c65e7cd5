"""The systems compared. Each sees the training frame only and returns test predictions:
class probabilities (DataFrame, one column per class label as str) or regression values (array)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .datasets import Dataset

METRIC = {"binary": ("roc_auc", "roc_auc", "roc_auc"), "multiclass": ("accuracy", "accuracy", "accuracy"),
          "regression": ("rmse", "rmse", "root_mean_squared_error")}  # (t2ml, flaml, autogluon)

RUNS = Path(__file__).resolve().parent / "runs"  # t2ml's run folders are kept for analysis (not committed)


def _split(train: pd.DataFrame, ds: Dataset) -> tuple[pd.DataFrame, pd.Series]:
    return train.drop(columns=[ds.target]), train[ds.target]


def run_t2ml(train: pd.DataFrame, test: pd.DataFrame, ds: Dataset, budget: float, work: Path, seed: int):
    import t2ml

    train.to_csv(work / "train.csv", index=False)
    test.to_csv(work / "test.csv", index=False)
    summary = t2ml.run(ds.description, str(work / "train.csv"), test=str(work / "test.csv"), target=ds.target,
                       metric=METRIC[ds.task][0], time_budget=budget, trials=500, seed=seed, out=str(RUNS / ds.name),
                       sandbox="local")
    pred = pd.read_csv(summary.predictions)
    if ds.task == "regression":
        return pred[ds.target].to_numpy(dtype=float)
    proba = pred[[c for c in pred.columns if c.startswith("proba_")]]
    return proba.rename(columns=lambda c: c[len("proba_"):])


def run_hgb(train: pd.DataFrame, test: pd.DataFrame, ds: Dataset, budget: float, work: Path, seed: int):
    """Default HistGradientBoosting; text/categorical columns as native categoricals (<= 255 levels)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    X, y = _split(train, ds)
    Xt = test[X.columns].copy()
    X = X.copy()
    for col in list(X.columns):
        if not pd.api.types.is_numeric_dtype(X[col]) or pd.api.types.is_bool_dtype(X[col]):
            levels = X[col].dropna().astype(str).unique()
            if len(levels) > 255:
                X, Xt = X.drop(columns=[col]), Xt.drop(columns=[col])
                continue
            X[col] = pd.Categorical(X[col].astype(str).where(X[col].notna()), categories=levels)
            Xt[col] = pd.Categorical(Xt[col].astype(str).where(Xt[col].notna()), categories=levels)
    if ds.task == "regression":
        return HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed).fit(X, y).predict(Xt)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed).fit(X, y.astype(str))
    return pd.DataFrame(model.predict_proba(Xt), columns=[str(c) for c in model.classes_])


def run_flaml(train: pd.DataFrame, test: pd.DataFrame, ds: Dataset, budget: float, work: Path, seed: int):
    from flaml import AutoML

    X, y = _split(train, ds)
    automl = AutoML()
    task = "regression" if ds.task == "regression" else "classification"
    automl.fit(X, y if ds.task == "regression" else y.astype(str), task=task, metric=METRIC[ds.task][1],
               time_budget=budget, seed=seed, verbose=0, log_file_name=str(work / "flaml.log"))
    if ds.task == "regression":
        return np.asarray(automl.predict(test[X.columns]), dtype=float)
    return pd.DataFrame(automl.predict_proba(test[X.columns]), columns=[str(c) for c in automl.classes_])


def run_autogluon(train: pd.DataFrame, test: pd.DataFrame, ds: Dataset, budget: float, work: Path, seed: int):
    from autogluon.tabular import TabularPredictor

    data = train.copy()
    if ds.task != "regression":
        data[ds.target] = data[ds.target].astype(str)
    predictor = TabularPredictor(label=ds.target, eval_metric=METRIC[ds.task][2], path=str(work / "ag"),
                                 problem_type=ds.task, verbosity=0)
    predictor.fit(data, time_limit=budget, presets="medium_quality")
    if ds.task == "regression":
        return np.asarray(predictor.predict(test), dtype=float)
    proba = predictor.predict_proba(test)
    return proba.rename(columns=str).reset_index(drop=True)


SYSTEMS: dict[str, Callable] = {"t2ml": run_t2ml, "hgb": run_hgb, "flaml": run_flaml, "autogluon": run_autogluon}
