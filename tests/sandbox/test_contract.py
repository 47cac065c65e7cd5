"""The Sandbox interface, the same on both backends: runs, collected files, and the long-lived worker."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import pytest

from t2ml.agents.tester import runtime_files
from t2ml.sandbox import Limits, RunResult, Sandbox, WorkerCrashed, WorkerTimeout

CONFIG = {"target": "survived", "task": "binary", "metric": "roc_auc", "classes": ["no", "yes"],
          "feature_columns": ["sex", "age"], "folds": 3, "seed": 0}

HOSTILE_MODULE = '''
import os, sys
class Step:
    def __init__(self, how="noise"):
        self.how = how
    def fit(self, X, y):
        if self.how == "noise":
            os.write(1, b"garbage at the C level\\n"); print("garbage from print")
        elif self.how == "exit":
            os._exit(7)
        elif self.how == "hang":
            import time; time.sleep(600)
        elif self.how == "memory":
            hog = []
            while True:
                hog.append(bytearray(64 << 20))
        return self
    def transform(self, X):
        return X
'''


def test_runs_code_and_captures_output(run_code: Callable[..., RunResult]) -> None:
    res = run_code("""
        import os, sys
        assert sorted(os.listdir(".")) == [".stderr", ".stdout", "main.py", "other"], os.listdir(".")
        print("hello"); print("oops", file=sys.stderr); sys.exit(3)
    """, other="x")
    assert res.exit_code == 3 and "hello" in res.stdout and "oops" in res.stderr and not res.ok
    assert res.describe() == "exit code 3"


@pytest.mark.parametrize("to_host", [False, True])
def test_collect(new_sandbox: Callable[[], Sandbox], tmp_path: Path, to_host: bool) -> None:
    async def go() -> RunResult:
        async with new_sandbox() as sbx:
            return await sbx.run({"main.py": "open('out.txt', 'w').write('result 42')"}, ["python", "main.py"],
                                 Limits(timeout_s=30), collect=["out.txt", "missing.txt"],
                                 collect_to=tmp_path if to_host else None)
    res = asyncio.run(go())
    assert res.ok and set(res.files) == {"out.txt"}
    text = Path(res.files["out.txt"]).read_text() if to_host else res.files["out.txt"]
    assert text == "result 42"


def test_worker_contains_failures_crashes_timeouts_and_noise(new_sandbox: Callable[[], Sandbox],
                                                             titanic: dict[str, Path]) -> None:
    def step(how: str) -> dict[str, Any]:
        return {"name": "s", "stage": "prepare", "file": "step.py", "class_name": "Step", "params": {"how": how}}

    async def go() -> None:
        async with new_sandbox() as sbx:
            files = {**runtime_files(), "train.csv": titanic["train"], "step.py": HOSTILE_MODULE}

            async def fresh():  # type: ignore[no-untyped-def]
                worker = await sbx.start_worker(files, ["python", "eval_worker.py"], Limits(memory_mb=1024))
                assert (await worker.request({"op": "load", "data": "train.csv", "config": CONFIG}, 60))["ok"]
                return worker

            worker = await fresh()
            bad = await worker.request({"op": "evaluate", "steps": [{**step("x"), "file": "nope.py"}]}, 60)
            assert not bad["ok"] and "nope.py" in bad["error"]
            noisy = await worker.request({"op": "evaluate", "steps": [step("noise")]}, 60)
            assert not noisy["ok"]  # no model step: a clean error, not a corrupted stream
            assert (await worker.request({"op": "ping"}, 10))["ok"], "worker died after failing requests"
            with pytest.raises(WorkerCrashed, match="exit"):
                await worker.request({"op": "evaluate", "steps": [step("exit")]}, 60)
            worker = await fresh()
            with pytest.raises(WorkerTimeout):
                await worker.request({"op": "evaluate", "steps": [step("hang")]}, 2)
            worker = await fresh()
            try:
                reply = await worker.request({"op": "evaluate", "steps": [step("memory")]}, 60)
                assert not reply["ok"] and "MemoryError" in reply["error"]  # local: the rlimit raises
            except WorkerCrashed as exc:
                assert "memory" in str(exc)  # docker: the container was OOM-killed, and we say so
            await worker.close()
            await worker.close()  # idempotent
    asyncio.run(go())
