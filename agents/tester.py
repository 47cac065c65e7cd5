"""Tester role: contract tests derived from ModuleSpecs, run in the sandbox; feedback to the coder."""
from __future__ import annotations

import asyncio
import json
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken

from t2ml.sandbox import Limits, Sandbox

from ._base import Recorder, Role
from .messages import CheckResult, ModuleCandidate, TestFeedback, TestOutcome, TestReport, TestRequest


def runtime_files() -> dict[str, str]:
    """The trusted helper scripts every sandbox run needs (runtime shared with the exported program)."""
    prog = resources.files("t2ml.templates.program")
    sbx = resources.files("t2ml.sandbox.runtime")
    return {"runtime.py": prog.joinpath("runtime.py").read_text("utf-8"),
            "contract_runner.py": sbx.joinpath("contract_runner.py").read_text("utf-8"),
            "eval_worker.py": sbx.joinpath("eval_worker.py").read_text("utf-8"),
            "proxy_ops.py": sbx.joinpath("proxy_ops.py").read_text("utf-8")}


def _step(c: ModuleCandidate, stage: str) -> dict[str, Any]:
    return {"name": c.module, "stage": stage, "file": c.filename, "class_name": c.class_name, "params": {}}


class TesterAgent(Role[TestRequest, TestOutcome]):
    consumes = TestRequest
    produces = TestOutcome

    def __init__(self, sandbox: Sandbox, sample_path: Path, config: dict[str, Any],
                 record: Recorder | None = None, limits: Limits | None = None,
                 soft_deadline: float | None = None, hard_deadline: float | None = None) -> None:
        super().__init__("tester", "Runs interface-derived contract tests in the sandbox.", record)
        self.sandbox = sandbox
        self.sample_path = sample_path
        self.config = config
        self.limits = limits or Limits(timeout_s=180, memory_mb=4096)
        self.concurrency = max(1, min(4, os.cpu_count() or 1))
        self.soft_deadline, self.hard_deadline = soft_deadline, hard_deadline

    async def test_one(self, req: TestRequest, cand: ModuleCandidate) -> TestReport:
        spec = req.spec
        stage_of = {s.name: s.stage for s in req.upstream_specs}
        prepare_up = [u for u in req.upstream if stage_of.get(u.module) == "prepare"]
        request = {"module": spec.name, "stage": spec.stage, "file": cand.filename, "class_name": cand.class_name,
                   "input_contract": spec.input_contract.model_dump(),
                   "output_contract": spec.output_contract.model_dump(), "config": self.config,
                   "sample": "sample" + self.sample_path.suffix,
                   "upstream": [_step(u, "prepare") for u in prepare_up], "seed": self.config["seed"]}
        files: dict[str, Any] = {**runtime_files(), cand.filename: cand.source,
                                 "request.json": json.dumps(request), request["sample"]: self.sample_path}
        files.update({u.filename: u.source for u in prepare_up})
        start = time.monotonic()
        limits = self.limits
        if self.hard_deadline is not None:  # never run past the run's budget
            limits = limits.model_copy(update={"timeout_s": max(1.0, min(limits.timeout_s, self.hard_deadline - time.monotonic()))})
        result = await self.sandbox.run(files, ["python", "contract_runner.py", "request.json", "result.json"],
                                        limits, collect=["result.json"])
        duration = time.monotonic() - start
        if "result.json" not in result.files:
            return TestReport(module=spec.name, variant=cand.variant, passed=False, duration_s=duration,
                              error=f"the test process {result.describe()}: {result.stderr[-1500:]}")
        data = json.loads(result.files["result.json"])
        checks = [CheckResult(**c) for c in data["checks"]]
        passed = data["error"] is None and all(c.passed for c in checks)
        return TestReport(module=spec.name, variant=cand.variant, passed=passed, checks=checks,
                          error=data["error"], duration_s=duration)

    async def handle(self, payload: TestRequest, cancellation_token: CancellationToken) -> TestOutcome:
        outcome = TestOutcome(module=payload.spec.name, reports=[])
        gate = asyncio.Semaphore(self.concurrency)

        async def guarded(cand: ModuleCandidate, first: bool) -> TestReport | None:
            async with gate:
                if not first and self.soft_deadline is not None and time.monotonic() > self.soft_deadline:
                    return None  # the testing share of the time budget is spent: keep the preferred variant only
                return await self.test_one(payload, cand)

        cands = payload.batch.candidates
        reports = await asyncio.gather(*(guarded(c, i == 0) for i, c in enumerate(cands)))
        for cand, report in zip(cands, reports):
            if report is None:
                outcome.skipped.append(cand.variant)
                continue
            self.record({"role": self.name, "module": cand.module, "variant": cand.variant,
                         "passed": report.passed, "duration_s": round(report.duration_s, 2)})
            outcome.reports.append(report)
            if report.passed:
                outcome.passed.append(cand)
            else:
                outcome.feedback.append(TestFeedback(
                    module=cand.module, variant=cand.variant, round=cand.attempt + 1,
                    failed_checks=[c for c in report.checks if not c.passed], error=report.error))
        return outcome
