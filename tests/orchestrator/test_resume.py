"""Killing a run (SIGKILL) during optimization and resuming it: no completed trial is redone."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

import t2ml

pytestmark = pytest.mark.slow
N_TRIALS = 10


def _trials(run: Path) -> list[optuna.trial.FrozenTrial]:
    if not (run / "study.log").exists():
        return []
    storage = JournalStorage(JournalFileBackend(str(run / "study.log")))
    try:
        return optuna.load_study(study_name="t2ml", storage=storage).get_trials()
    except KeyError:
        return []


def _start_run(tmp_path: Path, titanic: dict, name: str, *extra: str) -> tuple[Path, subprocess.Popen]:
    """`t2ml run` on titanic in its own process group (so a test can signal it and all it started)."""
    cmd = [sys.executable, "-m", "t2ml", "run", "Predict which passengers survived the Titanic", "--data",
           str(titanic["train"]), "--trials", str(N_TRIALS), "--folds", "3", "--time-budget", "10m",
           "--out", str(tmp_path / "runs"), "--name", name, "--quiet", *extra]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return tmp_path / "runs" / name, proc


def _wait_for_complete(run: Path, proc: subprocess.Popen, n: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len([t for t in _trials(run) if t.state == TrialState.COMPLETE]) < n:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.3)


def test_kill_during_optimization_then_resume(tmp_path, titanic):
    run, proc = _start_run(tmp_path, titanic, "killed")
    _wait_for_complete(run, proc, 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: (t.params, t.value) for t in _trials(run) if t.state == TrialState.COMPLETE}
    assert 3 <= len(before) < N_TRIALS
    assert not (run / "program.py").exists()

    evaluated: list[int] = []
    summary = t2ml.resume(str(run), on_event=lambda e: evaluated.append(e.trial) if e.stage == "optimize" and e.trial else None)

    after = _trials(run)
    finished = [t for t in after if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)]
    assert len(finished) == N_TRIALS == summary.n_trials
    for number, (params, value) in before.items():  # completed trials kept, not redone
        assert after[number].params == params and after[number].value == value
    assert evaluated and len(evaluated) <= N_TRIALS - len(before)
    redone = [n for n in evaluated if n - 1 in before]
    assert not redone, f"trials {redone} were evaluated again"
    interrupted = [t for t in after if t.user_attrs.get("error", "").startswith("interrupted")]
    assert len(interrupted) <= 1
    assert summary.consistent and (run / "program.py").is_file()
    stages = json.loads((run / "run.json").read_text())
    assert stages["result"]["n_trials"] == N_TRIALS


def test_a_finished_run_can_be_extended_with_more_trials(tmp_path, titanic):
    summary = t2ml.run("Predict which passengers survived the Titanic", str(titanic["train"]), trials=4, folds=3,
                       time_budget="5m", out=str(tmp_path), name="short", sandbox="local")
    assert summary.n_trials == 4
    run = Path(summary.run_dir)
    before = {t.number: t.value for t in _trials(run) if t.state == TrialState.COMPLETE}
    longer = t2ml.resume(str(run), trials=7, time_budget="5m")
    after = _trials(run)
    assert longer.n_trials == 7 and len([t for t in after if t.state == TrialState.COMPLETE]) >= len(before)
    assert all(after[n].value == v for n, v in before.items())
    assert json.loads((run / "run.json").read_text())["config"]["task"]["trials"] == 7


def test_sigterm_ends_like_ctrl_c_with_the_resume_command(tmp_path, titanic):
    """A scheduler's or container's stop (SIGTERM to t2ml only): exit 143, the resume command, no process left."""
    run, proc = _start_run(tmp_path, titanic, "stopped", "--sandbox", "local")
    _wait_for_complete(run, proc, 1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "terminated." in stderr and f"t2ml run --resume {run}" in stderr and "Traceback" not in stderr, stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the sandboxed evaluation worker went with it
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("processes of the terminated run are still alive")
    assert not (run / "program.py").exists() and (run / "study.log").is_file()
