"""Planner role: task + data profile -> validated ModuleGraph (LLM or built-in rules)."""
from __future__ import annotations

import logging
import networkx as nx
from autogen_core import CancellationToken
from autogen_core.models import AssistantMessage, ChatCompletionClient, SystemMessage, UserMessage
from pydantic import ValidationError

from t2ml.errors import ModelBudgetExhausted

from ._base import Recorder, Role, parse_json_answer, render_prompt
from .clients.builtin import plan as builtin_plan
from .messages import ModuleGraph, PlanRequest

log = logging.getLogger(__name__)

STAGE_ORDER = {"prepare": 0, "target": 0, "model": 1, "postprocess": 2}


def validate_graph(graph: ModuleGraph) -> ModuleGraph:
    """Check the graph is a DAG, names are unique, every input exists, and there is one model."""
    names = [m.name for m in graph.modules]
    if len(set(names)) != len(names):
        raise ValueError(f"module names must be unique: {names}")
    for m in graph.modules:
        missing = [i for i in m.inputs if i not in names]
        if missing:
            raise ValueError(f"module {m.name!r} takes input from unknown modules {missing}")
    if not nx.is_directed_acyclic_graph(graph.to_networkx()):
        raise ValueError("the module graph has a cycle")
    models = [m.name for m in graph.modules if m.stage == "model"]
    if len(models) != 1:
        raise ValueError(f"exactly one module must have stage 'model', found {models}")
    for m in graph.modules:
        for up in graph.upstream(m.name):
            if STAGE_ORDER[up.stage] > STAGE_ORDER[m.stage]:
                raise ValueError(f"{up.name} ({up.stage}) cannot feed {m.name} ({m.stage})")
    return graph


class PlannerAgent(Role[PlanRequest, ModuleGraph]):
    consumes = PlanRequest
    produces = ModuleGraph

    def __init__(self, client: ChatCompletionClient, record: Recorder | None = None, max_retries: int = 2) -> None:
        super().__init__("planner", "Breaks the task into a graph of modules with contracts.", record)
        self.client = client
        self.max_retries = max_retries

    async def handle(self, payload: PlanRequest, cancellation_token: CancellationToken) -> ModuleGraph:
        request = {"role": "planner", "task": payload.task.text, "profile": payload.profile.model_dump()}
        schema = ModuleGraph.model_json_schema()
        prompt = render_prompt("planner", task_text=payload.task.text, request=request, schema=schema)
        messages: list = [SystemMessage(content="You plan machine-learning programs. Answer in JSON."),
                          UserMessage(content=prompt, source="orchestrator")]
        settings = getattr(self.client, "settings", None)
        extra = ({"response_format": {"type": "json_schema", "json_schema": {"name": "ModuleGraph", "schema": schema}}}
                 if settings is not None and settings.structured_output else {})
        json_mode = None if extra or (settings is not None and not settings.json_output) else True
        why = f"the model's plan stayed invalid after {self.max_retries + 1} attempts"
        for attempt in range(self.max_retries + 1):
            try:
                result = await self.client.create(messages, json_output=json_mode, extra_create_args=extra,
                                                  cancellation_token=cancellation_token)
            except ModelBudgetExhausted as exc:
                why = f"no model plan: {exc.message}"
                break
            try:
                graph = ModuleGraph.model_validate(parse_json_answer(str(result.content)))
                return validate_graph(graph)
            except (ValueError, ValidationError) as exc:
                error = f"Your plan was invalid: {exc}. Answer again with corrected JSON only."
                self.record({"role": self.name, "event": "invalid_plan", "attempt": attempt, "error": str(exc)[:2000]})
                messages += [AssistantMessage(content=str(result.content), source=self.name),
                             UserMessage(content=error, source="orchestrator")]
        log.warning("%s; using the built-in planner", why)
        graph = builtin_plan(payload.profile)
        graph.rationale.append(f"{why}: the built-in planner took over")
        return validate_graph(graph)
