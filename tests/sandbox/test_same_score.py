"""A whole run in Docker scores exactly like the same run in the local sandbox: host mode runs the host's
own interpreter and library builds, so the numbers cannot drift."""
from __future__ import annotations

from pathlib import Path

import pytest

import t2ml


@pytest.mark.slow
def test_docker_run_scores_exactly_like_local(docker: None, titanic: dict[str, Path], tmp_path: Path) -> None:
    settings = dict(trials=4, folds=3, time_budget="300s", seed=0, out=str(tmp_path))
    task = titanic["task"].read_text()
    local = t2ml.run(task, str(titanic["train"]), sandbox="local", **settings)
    docker = t2ml.run(task, str(titanic["train"]), sandbox="docker", **settings)
    assert (local.sandbox, docker.sandbox) == ("local", "docker")
    assert docker.n_trials == local.n_trials == 4, "a run was cut short by its time budget: not comparable"
    assert abs(docker.cv_score - local.cv_score) < 1e-9, (docker.cv_score, local.cv_score)
    assert docker.modules == local.modules
