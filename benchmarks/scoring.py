"""One shared scorer for every system: ROC AUC (binary), accuracy and log loss (multiclass), RMSE (regression)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn import metrics

PRIMARY = {"binary": ("roc_auc", "maximize"), "multiclass": ("accuracy", "maximize"), "regression": ("rmse", "minimize")}


def score(task: str, y_true: pd.Series, pred) -> dict[str, float]:
    """Scores of one system's test predictions; classes are matched by their string labels."""
    if task == "regression":
        pred = np.asarray(pred, dtype=float)
        return {"rmse": math.sqrt(metrics.mean_squared_error(y_true.astype(float), pred)),
                "mae": metrics.mean_absolute_error(y_true.astype(float), pred)}
    proba = pd.DataFrame(pred).copy()
    proba.columns = [str(c) for c in proba.columns]
    labels = sorted(y_true.astype(str).unique())
    for label in labels:  # a class the system never predicted gets probability 0
        if label not in proba.columns:
            proba[label] = 0.0
    proba = proba[sorted(proba.columns)]
    proba = proba.div(proba.sum(axis=1).replace(0, 1), axis=0)
    truth = y_true.astype(str).to_numpy()
    predicted = proba.columns.to_numpy()[proba.to_numpy().argmax(axis=1)]
    out = {"accuracy": float(np.mean(predicted == truth)),
           "log_loss": float(metrics.log_loss(truth, np.clip(proba.to_numpy(), 1e-15, 1), labels=list(proba.columns)))}
    if task == "binary":
        positive = proba.columns[-1]
        out["roc_auc"] = float(metrics.roc_auc_score(truth == positive, proba[positive]))
    return out
