"""The code-and-test stage: per module, the coder writes variants, the tester checks them in the
sandbox, and every failure (a rejected answer or a failed contract test) goes back to the coder that
owns the variant for a bounded number of repair rounds."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from t2ml.agents import CoderAgent, TesterAgent
from t2ml.agents.messages import (CandidateBatch, CheckResult, CodeRequest, DataProfile, ModuleGraph, TestFeedback,
                                  TestOutcome, TestRequest, VerifiedModule)
from t2ml.errors import PipelineError

if TYPE_CHECKING:
    from .runner import Run


def rejections_as_feedback(batch: CandidateBatch, round_: int) -> list[TestFeedback]:
    """A variant rejected before testing (not Python, missing imports, no class) is repaired like a failed test."""
    return [TestFeedback(module=batch.module, variant=v, round=round_, error=None,
                         failed_checks=[CheckResult(name="source", passed=False, detail=why)])
            for v, why in batch.rejected.items() if not v.startswith("<")]


def sample_rows(run: "Run") -> list[dict] | None:
    n = run.config.llm.sample_rows if run.config.llm.data_sample and not run.config.llm.is_builtin else 0
    if n <= 0:
        return None
    frame = pd.read_csv(run.folder.file("sample.csv"), nrows=n)
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


async def code_and_test(run: "Run", profile: DataProfile, graph: ModuleGraph, tester: TesterAgent) -> list[VerifiedModule]:
    verified: dict[str, VerifiedModule] = {}
    rows = sample_rows(run)
    llm_variants = 0 if run.config.llm.is_builtin else run.config.llm.llm_variants
    for spec in graph.ordered():
        run.emit("code", f"module {spec.name}: writing variants")
        upstream = graph.upstream(spec.name)
        coder = CoderAgent(spec.name, run.gateway.for_role(f"coder_{spec.name}"), run.provenance,
                           record=run.record, llm_variants=llm_variants)
        request = CodeRequest(spec=spec, upstream=upstream, profile=profile, sample_rows=rows)
        batch: CandidateBatch = await run.send("orchestrator", coder, request)
        vm = VerifiedModule(module=spec.name, spec=spec, candidates=[], notes=list(batch.notes))
        ups = [verified[u.name].candidates[0] for u in upstream if u.name in verified and verified[u.name].candidates]
        pending = rejections_as_feedback(batch, 1)
        for round_ in range(run.config.max_repair_rounds + 1):
            vm.excluded.update({fb.variant: f"rejected before testing: {fb.failed_checks[0].detail}"[:400] for fb in pending})
            feedback = list(pending)
            if batch.candidates:
                run.save_sources(batch)
                run.emit("test", f"module {spec.name}: testing {len(batch.candidates)} variant(s)")
                outcome: TestOutcome = await run.send(coder.name, tester, TestRequest(
                    spec=spec, batch=batch, upstream=ups, upstream_specs=upstream))
                vm.candidates += outcome.passed
                vm.excluded.update({v: "not tested: the testing share of the time budget was spent" for v in outcome.skipped})
                for v in [c.variant for c in outcome.passed]:
                    vm.excluded.pop(v, None)
                for fb in outcome.feedback:
                    first = fb.failed_checks[0] if fb.failed_checks else None
                    vm.excluded[fb.variant] = (f"{first.name}: {first.detail}" if first else (fb.error or "failed"))[:400]
                feedback += outcome.feedback
            if not feedback or round_ == run.config.max_repair_rounds:
                break
            repaired, pending = [], []
            for fb in feedback:  # feedback goes back to the coder that owns the variant
                answer: CandidateBatch = await run.send("tester", coder, request.model_copy(update={"feedback": fb}))
                repaired += answer.candidates
                pending += rejections_as_feedback(answer, fb.round + 1)
                vm.notes += answer.notes
            batch = CandidateBatch(module=spec.name, candidates=repaired)
            if run.gateway.ledger.exhausted:
                vm.notes.append(run.gateway.ledger.exhausted)
        if not vm.candidates:
            raise PipelineError(f"no variant of module {spec.name!r} passed its contract tests: {vm.excluded}",
                                hint=f"see {run.folder.file('transcript.jsonl')} for the failing checks")
        verified[spec.name] = vm
    return list(verified.values())
