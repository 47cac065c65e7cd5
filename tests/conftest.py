"""Shared fixtures: the bundled real datasets."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

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


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``t2ml run ARGS...`` in-process with click's CliRunner.

    Fast defaults (``--time-budget 30s --trials 1 --out tmp_path/runs``) are added unless ARGS
    already carry the option. Error lines are not wrapped at 80 columns, so tests can look for
    long paths and messages as substrings.
    """
    from t2ml.orchestrator import cli as cli_module

    monkeypatch.setattr(cli_module.err, "soft_wrap", True)

    def invoke(*args: object) -> Result:
        argv = ["run", *map(str, args)]
        defaults = () if "--resume" in argv else (("--time-budget", "30s"), ("--trials", "1"), ("--out", str(tmp_path / "runs")))
        for option, value in defaults:
            if option not in argv:
                argv += [option, value]
        return CliRunner().invoke(cli_module.cli, argv)

    return invoke
