"""Scheduling trials: --jobs N on one machine (journal file), a coordinator plus `t2ml worker` processes
on a real PostgreSQL, and kill -9 / resume of a coordinator on PostgreSQL.

PostgreSQL tests need T2ML_TEST_POSTGRES=postgresql://USER:PASSWORD@HOST:PORT/DB; they skip without it,
and fail instead when T2ML_REQUIRE_POSTGRES=1 (CI: .ci/postgres.sh starts a server).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import t2ml
from t2ml.agents import study_storage as ss
from t2ml.agents.scheduler import PROCESS

pytestmark = pytest.mark.slow
TASK = "Predict which passengers survived the Titanic"


@pytest.fixture(scope="module")
def pg_url() -> str:
    url = os.environ.get("T2ML_TEST_POSTGRES")
    required = os.environ.get("T2ML_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("T2ML_REQUIRE_POSTGRES=1 but T2ML_TEST_POSTGRES is not set")
        pytest.skip("no PostgreSQL: set T2ML_TEST_POSTGRES=postgresql://USER:PASSWORD@HOST:PORT/DB")
    try:
        ss.open_storage(url).get_all_studies()
    except Exception as exc:
        if required:
            pytest.fail(f"T2ML_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: {exc}")
        pytest.skip(f"PostgreSQL at {ss.redact(url)} is unavailable: {exc}")
    return url


def _load(url: str, name: str) -> optuna.Study | None:
    storage = ss.open_storage(url)
    return optuna.load_study(study_name=name, storage=storage) if ss.study_exists(storage, name) else None


def _worker(url: str, study: str, data: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "t2ml", "worker", "--storage", url, "--study", study, "--data", str(data),
           "--sandbox", "local", "--wait", "300", "--json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _finished(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    return [t for t in trials if t.state in ss.FINISHED]


def test_jobs_run_trials_at_once_on_the_journal(tmp_path, titanic):
    summary = t2ml.run(TASK, str(titanic["train"]), trials=6, folds=3, time_budget="4m", out=str(tmp_path),
                       name="jobs", sandbox="local", jobs=2)
    study = optuna.load_study(study_name="t2ml", storage=ss.open_storage(Path(summary.run_dir) / "study.log"))
    done = _finished(study.trials)
    assert len(done) == summary.n_trials == 6 and sorted(t.number for t in done) == list(range(6))
    overlapping = [(a.number, b.number) for a in done for b in done
                   if a.number < b.number and a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete]
    assert overlapping, "with --jobs 2 some trials must run at the same time"
    assert summary.consistent
    assert json.loads((Path(summary.run_dir) / "run.json").read_text())["config"]["jobs"] == 2


def test_coordinator_and_two_workers_finish_every_trial_exactly_once(tmp_path, titanic, pg_url):
    name, n = f"test-{uuid.uuid4().hex[:10]}", 10
    workers = [_worker(pg_url, name, titanic["train"]) for _ in range(2)]
    try:
        summary = t2ml.run(TASK, str(titanic["train"]), trials=n, folds=3, time_budget="5m", out=str(tmp_path),
                           name="coord", sandbox="local", storage=pg_url, study=name)
        outs = [w.communicate(timeout=120) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
    assert all(w.returncode == 0 for w in workers), [err[-3000:] for _, err in outs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    study = _load(pg_url, name)
    trials = study.trials
    done = _finished(trials)
    assert len(done) == n == summary.n_trials  # none lost, none extra
    assert sorted(t.number for t in done) == list(range(n)) and not [t for t in trials if t.state == TrialState.RUNNING]
    by_worker = [set(r["evaluated"]) for r in reports]
    coordinator = {t.number for t in trials if t.user_attrs.get("process") == PROCESS}
    assert not (by_worker[0] & by_worker[1]) and not (coordinator & (by_worker[0] | by_worker[1]))  # exactly once
    assert coordinator | by_worker[0] | by_worker[1] == set(range(n))
    assert by_worker[0] | by_worker[1], "the workers evaluated no trial"
    for t in trials:  # each trial's process says the same
        owner = next((i for i, s in enumerate(by_worker) if t.number in s), None)
        assert (t.user_attrs["process"] == PROCESS) == (owner is None)
    result = json.loads((Path(summary.run_dir) / "state" / "optimize.json").read_text())
    assert result["best_score"] == study.best_value and summary.consistent  # program == study (or its ensemble)
    if len(summary.ensemble) <= 1:
        assert abs(summary.cv_score - study.best_value) < 1e-6
    assert ss.get_attr(study, "finished") is True
    run_json = (Path(summary.run_dir) / "run.json").read_text()
    assert "t2ml-ci" not in run_json and pg_url.split("@")[0].split(":")[-1] not in run_json  # no password


def test_killed_coordinator_on_postgres_resumes_without_redoing_trials(tmp_path, titanic, pg_url, monkeypatch):
    name, n = f"test-{uuid.uuid4().hex[:10]}", 8
    run = tmp_path / "runs" / "killed"
    cmd = [sys.executable, "-m", "t2ml", "run", TASK, "--data", str(titanic["train"]), "--trials", str(n), "--folds", "3",
           "--time-budget", "10m", "--out", str(tmp_path / "runs"), "--name", "killed", "--quiet", "--sandbox", "local",
           "--storage", pg_url, "--study", name]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        study = _load(pg_url, name)
        if study is not None and len([t for t in study.trials if t.state == TrialState.COMPLETE]) >= 3:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: (t.params, t.value) for t in _load(pg_url, name).trials if t.state == TrialState.COMPLETE}
    assert 3 <= len(before) < n and not (run / "program.py").exists()
    stored = json.loads((run / "run.json").read_text())["config"]
    assert stored["storage"] == ss.redact(ss.normalize_url(pg_url)) and "t2ml-ci" not in json.dumps(stored)

    password = pg_url.split("://", 1)[1].split("@")[0].split(":", 1)[1]
    monkeypatch.setenv("PGPASSWORD", password)  # the run folder has the URL without it
    summary = t2ml.resume(str(run))

    after = _load(pg_url, name).trials
    assert len(_finished(after)) == n == summary.n_trials
    for number, (params, value) in before.items():  # completed trials kept, not redone
        assert after[number].params == params and after[number].value == value
    redone = [t.number for t in after if t.user_attrs.get("process") == PROCESS and t.number in before]
    assert not redone, f"trials {redone} were evaluated again"
    resumed = [t.number for t in after if t.user_attrs.get("process") == PROCESS]
    assert resumed and len(resumed) <= n - len(before)
    assert summary.consistent and (run / "program.py").is_file()
