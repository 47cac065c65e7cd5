"""Coder role: one per module. Sees its ModuleSpec, the upstream contracts and the data profile.

With the built-in client it answers with the vetted template variants. With a language model it
answers with the templates AND new variants the model writes (so an LLM run is never worse than the
template baseline); the tester's feedback on a model-written variant goes back to the same
conversation for a repair.
"""
from __future__ import annotations

import json
import re

from autogen_core import CancellationToken
from autogen_core.models import AssistantMessage, ChatCompletionClient, SystemMessage, UserMessage

from t2ml.errors import ModelBudgetExhausted
from t2ml.templates import library
from t2ml.templates.library import SourceError, parse_source

from ._base import Recorder, Role, parse_json_answer, render_prompt
from .clients.builtin import write_variants
from .code_parse import extract_module
from .messages import CandidateBatch, CodeRequest, DataProfile, ModuleCandidate, TestFeedback

SYSTEM = ("You write Python modules for machine-learning pipelines in the scikit-learn style. "
          "Answer with one ```python code block holding the whole file.")


def _feedback_text(fb: TestFeedback | None) -> str:
    if fb is None:
        return ""
    failed = "\n".join(f"- {c.name}: {c.detail}" for c in fb.failed_checks)
    return (f"\nYour variant {fb.variant!r} failed its contract tests (round {fb.round}):\n{failed}\n"
            f"{fb.error or ''}\nReturn a corrected version of that variant.\n")


def profile_text(profile: DataProfile) -> str:
    lines = [f"{profile.n_rows} rows; task {profile.task}; target {profile.target!r}; metric {profile.metric}"]
    for c in profile.features():
        lines.append(f"- {c.name}: {c.kind}, {c.missing_rate:.0%} missing, {c.n_unique} distinct"
                     + (f", e.g. {', '.join(c.examples[:3])}" if c.examples else ""))
    return "\n".join(lines)


class CoderAgent(Role[CodeRequest, CandidateBatch]):
    consumes = CodeRequest
    produces = CandidateBatch

    def __init__(self, module: str, client: ChatCompletionClient, provenance: str,
                 record: Recorder | None = None, llm_variants: int = 0) -> None:
        super().__init__(f"coder_{module}", f"Writes variants of module {module}.", record)
        self.module, self.client, self.provenance = module, client, provenance
        self.llm_variants = llm_variants  # 0: the client is the built-in template synthesizer
        self._history: list = [SystemMessage(content=SYSTEM)]
        self._written: set[str] = set()  # variants this coder's model wrote (only those can be repaired)

    async def handle(self, payload: CodeRequest, cancellation_token: CancellationToken) -> CandidateBatch:
        if not self.llm_variants:
            return await self._builtin(payload, cancellation_token)
        batch = CandidateBatch(module=payload.spec.name, candidates=[])
        fb = payload.feedback
        if fb is None:
            batch.candidates += self._templates(payload)
            prompt = self._first_prompt(payload)
            for i in range(self.llm_variants):
                await self._ask(prompt if i == 0 else "Write one more variant that differs from your previous ones, "
                                "in the same format.", f"llm_{i + 1}" if self.llm_variants > 1 else "llm", 0,
                                batch, cancellation_token)
        elif fb.variant in self._written:
            await self._ask(render_prompt("coder_repair", variant=fb.variant, round=str(fb.round),
                                          failed="\n".join(f"- {c.name}: {c.detail}" for c in fb.failed_checks) or "-",
                                          error=(fb.error or "")[-2500:]), fb.variant, fb.round, batch, cancellation_token)
        else:
            batch.notes.append(f"{fb.variant} is a vetted template; the coder does not rewrite it")
        return batch

    def _templates(self, payload: CodeRequest) -> list[ModuleCandidate]:
        out = []
        for item in write_variants({"spec": payload.spec.model_dump(), "profile": payload.profile.model_dump()})["variants"]:
            parsed = parse_source(item["source"])
            out.append(ModuleCandidate(module=payload.spec.name, variant=item["variant"], class_name=parsed.class_name,
                                       source=item["source"], search_space=parsed.search_space,
                                       defaults=parsed.defaults, provenance="template"))
        return out

    def _first_prompt(self, payload: CodeRequest) -> str:
        spec = payload.spec
        kinds = library.variants_for(spec.kind, payload.profile)
        example = library.template_source(spec.kind, kinds[0]) if kinds else "(no template for this kind)"
        rows = payload.sample_rows
        sample = ("Sample rows of the raw training data (the input of the first module):\n"
                  + "\n".join(json.dumps(r, default=str) for r in rows) + "\n") if rows else ""
        upstream = "; ".join(f"{u.name} ({u.kind}) outputs {u.output_contract.model_dump_json()}" for u in payload.upstream)
        return render_prompt("coder_llm", module_name=spec.name, kind=spec.kind, stage=spec.stage, purpose=spec.purpose,
                             input_contract=spec.input_contract.model_dump_json(),
                             output_contract=spec.output_contract.model_dump_json(),
                             upstream=upstream or "none (the raw feature frame)", profile=profile_text(payload.profile),
                             sample=sample, example=example, example_name=kinds[0] if kinds else "-")

    async def _ask(self, prompt: str, variant: str, attempt: int, batch: CandidateBatch,
                   token: CancellationToken) -> None:
        """One model call; a valid module joins the batch, anything else is a rejection with its reason."""
        self._history.append(UserMessage(content=prompt, source="orchestrator"))
        try:
            result = await self.client.create(self._history, cancellation_token=token)
        except ModelBudgetExhausted as exc:
            self._history.pop()
            batch.notes.append(f"no model-written variant: {exc.message}")
            return
        text = str(result.content)
        self._history.append(AssistantMessage(content=text, source=self.name))
        self._written.add(variant)
        try:
            source, parsed = extract_module(text)
        except SourceError as exc:
            batch.rejected[variant] = str(exc)
            return
        batch.candidates.append(ModuleCandidate(
            module=self.module, variant=variant, class_name=parsed.class_name, source=source,
            search_space=parsed.search_space, defaults=parsed.defaults, provenance=self.provenance, attempt=attempt))

    async def _builtin(self, payload: CodeRequest, token: CancellationToken) -> CandidateBatch:
        spec = payload.spec
        request = {"role": "coder", "spec": spec.model_dump(), "profile": payload.profile.model_dump(),
                   "upstream": [u.model_dump() for u in payload.upstream],
                   "feedback": payload.feedback.model_dump() if payload.feedback else None}
        prompt = render_prompt("coder", module_name=spec.name, kind=spec.kind, stage=spec.stage,
                               purpose=spec.purpose, input_contract=spec.input_contract.model_dump(),
                               output_contract=spec.output_contract.model_dump(),
                               upstream=[u.name for u in payload.upstream], feedback=_feedback_text(payload.feedback),
                               request=request)
        self._history.append(UserMessage(content=prompt, source="orchestrator"))
        result = await self.client.create(self._history, json_output=True, cancellation_token=token)
        self._history.append(AssistantMessage(content=str(result.content), source=self.name))
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
