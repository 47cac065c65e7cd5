"""Coder role: one per module. Sees its ModuleSpec, the upstream contracts and the data profile."""
from __future__ import annotations

import re
from dataclasses import asdict

from autogen_core import CancellationToken
from autogen_core.models import AssistantMessage, ChatCompletionClient, SystemMessage, UserMessage

from t2ml.templates.library import SourceError, parse_source

from ._base import Recorder, Role, parse_json_answer, render_prompt
from .messages import CandidateBatch, CodeRequest, ModuleCandidate


def _feedback_text(request: CodeRequest) -> str:
    fb = request.feedback
    if fb is None:
        return ""
    failed = "\n".join(f"- {c.name}: {c.detail}" for c in fb.failed_checks)
    return (f"\nYour variant {fb.variant!r} failed its contract tests (round {fb.round}):\n{failed}\n"
            f"{fb.error or ''}\nReturn a corrected version of that variant.\n")


class CoderAgent(Role[CodeRequest, CandidateBatch]):
    consumes = CodeRequest
    produces = CandidateBatch

    def __init__(self, module: str, client: ChatCompletionClient, provenance: str,
                 record: Recorder | None = None) -> None:
        super().__init__(f"coder_{module}", f"Writes variants of module {module}.", record)
        self.module = module
        self.client = client
        self.provenance = provenance
        self._history: list = [SystemMessage(content="You write Python modules for ML pipelines. Answer in JSON.")]

    async def handle(self, payload: CodeRequest, cancellation_token: CancellationToken) -> CandidateBatch:
        spec = payload.spec
        request = {"role": "coder", "spec": spec.model_dump(), "profile": payload.profile.model_dump(),
                   "upstream": [u.model_dump() for u in payload.upstream],
                   "feedback": payload.feedback.model_dump() if payload.feedback else None}
        prompt = render_prompt("coder", module_name=spec.name, kind=spec.kind, stage=spec.stage,
                               purpose=spec.purpose, input_contract=spec.input_contract.model_dump(),
                               output_contract=spec.output_contract.model_dump(),
                               upstream=[u.name for u in payload.upstream], feedback=_feedback_text(payload),
                               request=request)
        self._history.append(UserMessage(content=prompt, source="orchestrator"))
        result = await self.client.create(self._history, json_output=True, cancellation_token=cancellation_token)
        self._history.append(AssistantMessage(content=str(result.content), source=self.name))
        self.record({"role": self.name, "request": prompt, "response": result.content,
                     "usage": asdict(result.usage)})
        attempt = payload.feedback.round if payload.feedback else 0
        batch = CandidateBatch(module=spec.name, candidates=[])
        try:
            variants = parse_json_answer(str(result.content)).get("variants", [])
        except (ValueError, AttributeError) as exc:
            batch.rejected["<answer>"] = str(exc)
            return batch
        for item in variants:
            name = re.sub(r"[^a-z0-9_]+", "_", str(item.get("variant", "variant")).lower()).strip("_") or "variant"
            try:
                parsed = parse_source(str(item.get("source", "")))
            except SourceError as exc:
                batch.rejected[name] = str(exc)
                continue
            batch.candidates.append(ModuleCandidate(
                module=spec.name, variant=name, class_name=parsed.class_name, source=item["source"],
                search_space=parsed.search_space, defaults=parsed.defaults, provenance=self.provenance, attempt=attempt))
        return batch
