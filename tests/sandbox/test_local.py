"""The local sandbox contains what generated code does: time, memory, env secrets, network, crashes."""
from __future__ import annotations

import asyncio
import os
import socket
import textwrap

import pytest

from t2ml.agents.tester import runtime_files
from t2ml.sandbox import Limits, LocalSandbox, WorkerCrashed, WorkerTimeout
from t2ml.sandbox.local import _unshare_prefix


def run(code: str, limits: Limits | None = None, **files: str):
    async def go():
        async with LocalSandbox() as sbx:
            return await sbx.run({"main.py": textwrap.dedent(code), **files}, ["python", "main.py"],
                                 limits or Limits(timeout_s=20))
    return asyncio.run(go())


def test_runs_code_and_captures_output():
    res = run("import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)")
    assert res.exit_code == 3 and "hello" in res.stdout and "oops" in res.stderr
    assert not res.ok


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "alive"
    res = run(f"""
        import subprocess, time
        subprocess.Popen(["sh", "-c", "sleep 3; touch {marker}"])
        time.sleep(60)
    """, Limits(timeout_s=1.5))
    assert res.timed_out and res.exit_code is None
    import time
    time.sleep(2.5)
    assert not marker.exists(), "a background child outlived the sandboxed run"


def test_secrets_are_not_visible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    res = run("import os; print(sorted(os.environ)); print(os.environ.get('OPENAI_API_KEY'))")
    assert "sk-secret-value" not in res.stdout and "OPENAI_API_KEY" not in res.stdout
    assert res.stdout.strip().endswith("None")


def test_memory_bomb_is_reported_as_oom():
    res = run("x = bytearray(3 * 1024**3)", Limits(timeout_s=20, memory_mb=512))
    assert res.oom and not res.ok


def test_runs_in_a_fresh_work_dir():
    res = run("import os; print(os.getcwd()); print(sorted(os.listdir('.')))", other="x")
    assert "t2ml-sbx-" in res.stdout and "'other'" in res.stdout


@pytest.mark.skipif(not _unshare_prefix(), reason="this machine cannot create a network namespace (no usable unshare)")
def test_network_is_cut_off():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        res = run(f"""
            import socket
            s = socket.socket(); s.settimeout(3)
            try:
                s.connect(("127.0.0.1", {port})); print("CONNECTED")
            except OSError as exc:
                print("BLOCKED", exc)
        """)
    finally:
        server.close()
    assert "BLOCKED" in res.stdout, res.stdout + res.stderr


CRASHING_MODULE = '''
import os
class Crash:
    def __init__(self, how="exit"):
        self.how = how
    def fit(self, X, y):
        if self.how == "exit":
            os._exit(7)
        import time; time.sleep(60)
    def transform(self, X):
        return X
'''


def test_worker_survives_errors_and_reports_crashes_and_timeouts(titanic):
    config = {"target": "survived", "task": "binary", "metric": "roc_auc", "classes": ["no", "yes"],
              "feature_columns": ["sex", "age"], "folds": 3, "seed": 0}

    async def go():
        async with LocalSandbox() as sbx:
            files = {**runtime_files(), "train.csv": titanic["train"], "crash.py": CRASHING_MODULE}
            worker = await sbx.start_worker(files, ["python", "eval_worker.py"], Limits())
            assert (await worker.request({"op": "load", "data": "train.csv", "config": config}, 60))["ok"]
            bad = await worker.request({"op": "evaluate", "steps": [{"name": "m", "stage": "model", "file": "nope.py",
                                                                     "class_name": "X", "params": {}}]}, 60)
            assert not bad["ok"] and "nope.py" in bad["error"]
            assert (await worker.request({"op": "ping"}, 10))["ok"], "worker died after a failing request"
            step = {"name": "c", "stage": "prepare", "file": "crash.py", "class_name": "Crash", "params": {}}
            with pytest.raises(WorkerCrashed):
                await worker.request({"op": "evaluate", "steps": [step]}, 60)
            worker = await sbx.start_worker(files, ["python", "eval_worker.py"], Limits())
            await worker.request({"op": "load", "data": "train.csv", "config": config}, 60)
            with pytest.raises(WorkerTimeout):
                await worker.request({"op": "evaluate", "steps": [{**step, "params": {"how": "hang"}}]}, 2)
            await worker.close()
    asyncio.run(go())


NOISY_MODULE = '''
import os, sys
class Noisy:
    def fit(self, X, y):
        os.write(1, b"garbage at the C level\\n")
        print("garbage from print")
        return self
    def transform(self, X):
        return X
'''


def test_worker_protocol_survives_prints_from_evaluated_code(titanic):
    """Evaluated code that writes to fd 1 or stdout cannot corrupt the JSON protocol."""
    config = {"target": "survived", "task": "binary", "metric": "roc_auc", "classes": ["no", "yes"],
              "feature_columns": ["age"], "folds": 2, "seed": 0}

    async def go():
        async with LocalSandbox() as sbx:
            files = {**runtime_files(), "train.csv": titanic["train"], "noisy.py": NOISY_MODULE}
            worker = await sbx.start_worker(files, ["python", "eval_worker.py"], Limits())
            await worker.request({"op": "load", "data": "train.csv", "config": config}, 60)
            step = {"name": "n", "stage": "prepare", "file": "noisy.py", "class_name": "Noisy", "params": {}}
            reply = await worker.request({"op": "evaluate", "steps": [step]}, 60)
            alive = await worker.request({"op": "ping"}, 10)
            await worker.close()
            return reply, alive
    reply, alive = asyncio.run(go())
    assert alive["ok"]
    assert not reply["ok"]  # no model step: a clean error, not a corrupted stream
