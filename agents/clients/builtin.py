"""The offline, deterministic template synthesizer, served as an autogen ChatCompletionClient.

It reads the structured request embedded in the prompt (``<request>{json}</request>``) and answers
as an LLM would: the planner gets a ModuleGraph built by rules from the DataProfile, a coder gets
the vetted template variants that apply to its module and data. It never repairs a variant (it
cannot): asked to, it answers with no variants, so the tester excludes the broken one.
"""
from __future__ import annotations

import json
import re
from typing import Any, AsyncGenerator, Mapping, Optional, Sequence

from autogen_core import CancellationToken
from autogen_core.models import (ChatCompletionClient, CreateResult, LLMMessage, ModelCapabilities,
                                 ModelInfo, RequestUsage)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from t2ml.agents.messages import Contract, DataProfile, ModuleGraph, ModuleSpec
from t2ml.templates import library

_REQUEST = re.compile(r"<request>\s*(.*?)\s*</request>", re.S)


def extract_request(messages: Sequence[LLMMessage]) -> dict[str, Any]:
    for msg in reversed(messages):
        content = getattr(msg, "content", "")
        if isinstance(content, str):
            found = _REQUEST.search(content)
            if found:
                return json.loads(found.group(1))
    raise ValueError("no <request> block in the prompt")


def _spec(name: str, kind: str, stage: str, purpose: str, inputs: list[str], cin: Contract,
          cout: Contract) -> ModuleSpec:
    return ModuleSpec(name=name, kind=kind, stage=stage, purpose=purpose, inputs=inputs,  # type: ignore[arg-type]
                      input_contract=cin, output_contract=cout)


def plan(profile: DataProfile) -> ModuleGraph:
    """Rule-based planning from the data profile."""
    mods: list[ModuleSpec] = []
    why: list[str] = []
    raw = Contract(kinds=["numeric", "categorical", "text"], nan_allowed=True)
    mixed = Contract(kinds=["numeric", "categorical"], nan_allowed=True)
    clean = Contract(kinds=["numeric", "categorical"], nan_allowed=False)
    numeric = Contract(kinds=["numeric"], nan_allowed=False, numeric_only=True)
    last: list[str] = []
    if profile.features("text"):
        names = [c.name for c in profile.features("text")]
        mods.append(_spec("text", "text", "prepare", "turn free-text columns into token features", [], raw, mixed))
        why.append(f"text columns {names}: a text module extracts frequent tokens (or drops them)")
        last = ["text"]
    mods.append(_spec("impute", "impute", "prepare", "fill missing values, flag missingness", last,
                      mixed if last else raw.model_copy(update={"kinds": ["numeric", "categorical"]}), clean))
    last = ["impute"]
    if profile.features("categorical") or profile.features("text"):
        mods.append(_spec("encode", "encode", "prepare", "encode categorical columns as numbers", last, clean, numeric))
        why.append(f"{len(profile.features('categorical'))} categorical columns: encoders compete (ordinal codes feed CatBoost natively)")
        last = ["encode"]
    mods.append(_spec("scale", "scale", "prepare", "optionally rescale numeric features", last, numeric, numeric))
    model_inputs = ["scale"]
    if profile.task == "regression":
        mods.append(_spec("target_transform", "target", "target", "optionally model a log-transformed target", [],
                          Contract(output="values"), Contract(output="target")))
        model_inputs.append("target_transform")
        why.append(f"regression target with skew {profile.target_skew}: a log-target variant competes")
    out = Contract(output="values" if profile.task == "regression" else "proba")
    mods.append(_spec("model", "model", "model", f"{profile.task} model", model_inputs, numeric, out))
    if profile.task != "regression" and profile.metric != "roc_auc":
        mods.append(_spec("postprocess", "postprocess", "postprocess",
                          f"adjust probabilities for {profile.metric}", ["model"], out, out))
        why.append(f"metric {profile.metric} depends on the decision rule: threshold/calibration compete")
    return ModuleGraph(task=profile.task, metric=profile.metric, modules=mods, rationale=why)


def write_variants(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("feedback"):
        return {"variants": [], "note": "the built-in coder only instantiates vetted templates; it cannot repair"}
    spec = ModuleSpec.model_validate(request["spec"])
    profile = DataProfile.model_validate(request["profile"])
    variants = []
    for variant in library.variants_for(spec.kind, profile):
        source = library.template_source(spec.kind, variant)
        if spec.kind == "postprocess" and variant == "threshold":
            source = source.replace('metric="f1"', f'metric="{profile.metric}"')
        variants.append({"variant": variant, "source": source})
    return {"variants": variants}


class BuiltinChatCompletionClient(ChatCompletionClient):
    """Deterministic, offline; implements the autogen model-client interface."""

    def __init__(self) -> None:
        self._usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    async def create(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = [],
                     tool_choice: Any = "auto", json_output: Optional[bool | type[BaseModel]] = None,
                     extra_create_args: Mapping[str, Any] = {},
                     cancellation_token: Optional[CancellationToken] = None) -> CreateResult:
        request = extract_request(messages)
        if request["role"] == "planner":
            answer: Any = plan(DataProfile.model_validate(request["profile"])).model_dump()
        elif request["role"] == "coder":
            answer = write_variants(request)
        else:
            raise ValueError(f"the built-in client cannot act as role {request['role']!r}")
        return CreateResult(finish_reason="stop", content=json.dumps(answer), cached=False,
                            usage=RequestUsage(prompt_tokens=0, completion_tokens=0))

    async def create_stream(self, messages: Sequence[LLMMessage], **kwargs: Any) -> AsyncGenerator[str | CreateResult, None]:  # type: ignore[override]
        yield await self.create(messages, **kwargs)

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._usage

    def total_usage(self) -> RequestUsage:
        return self._usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return 0

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return 10**9

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return ModelCapabilities(vision=False, function_calling=False, json_output=True)  # type: ignore[typeddict-item]

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(vision=False, function_calling=False, json_output=True, family="t2ml-builtin",
                         structured_output=True)
