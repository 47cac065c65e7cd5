"""Shared fixtures: the bundled real datasets."""
from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def titanic() -> dict[str, Path]:
    d = EXAMPLES / "titanic"
    return {"train": d / "train.csv", "test": d / "test.csv", "task": d / "task.md"}


@pytest.fixture(scope="session")
def credit() -> dict[str, Path]:
    d = EXAMPLES / "credit"
    return {"train": d / "train.csv", "test": d / "test.csv", "task": d / "task.md"}
