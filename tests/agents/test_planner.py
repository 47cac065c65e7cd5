"""Planner: built-in plans are valid DAGs; model output is validated, retried, then replaced."""
from __future__ import annotations

import asyncio
import json

import pytest
from autogen_agentchat.messages import StructuredMessage
from autogen_core import CancellationToken
from autogen_ext.models.replay import ReplayChatCompletionClient

from t2ml.agents.clients import ModelGateway, ModelSettings
from t2ml.agents.clients.builtin import plan
from t2ml.agents.messages import ModuleGraph, PlanRequest, TaskSpec
from t2ml.agents.planner import PlannerAgent, validate_graph
from t2ml.orchestrator.intake import read_table
from t2ml.orchestrator.profile import build_profile


@pytest.fixture(scope="module")
def request_(titanic):
    task = TaskSpec(text="Predict which passengers survived the Titanic", train_path=str(titanic["train"]))
    return PlanRequest(task=task, profile=build_profile(read_table(titanic["train"]), task))


def ask(client, request_, tmp_path):
    """The planner behind the run's model gateway (which records every call's exact request and response)."""
    events = []
    gateway = ModelGateway(client, ModelSettings(model="openai:replay", cache_dir=str(tmp_path)), record=events.append)
    agent = PlannerAgent(gateway.for_role("planner"), record=events.append)
    msg = StructuredMessage[PlanRequest](content=request_, source="test")
    response = asyncio.run(agent.on_messages([msg], CancellationToken()))
    return response.chat_message.content, events


def test_builtin_plan_for_titanic(request_):
    graph = validate_graph(plan(request_.profile))
    names = [m.name for m in graph.ordered()]
    assert names == ["text", "impute", "encode", "scale", "model"]  # text column `name`; AUC -> no postprocess
    assert graph.to_networkx().number_of_edges() == 4


def test_valid_model_plan_is_used(request_, tmp_path):
    good = plan(request_.profile).model_copy(update={"rationale": ["from the model"]})
    graph, events = ask(ReplayChatCompletionClient([f"```json\n{good.model_dump_json()}\n```"]), request_, tmp_path)
    assert isinstance(graph, ModuleGraph) and graph.rationale == ["from the model"]
    assert events[0]["response"].startswith("```json")


def test_invalid_plans_are_retried_then_the_builtin_planner_takes_over(request_, tmp_path):
    cyclic = plan(request_.profile).model_dump()
    cyclic["modules"][0]["inputs"] = ["model"]  # text <- model: a cycle
    client = ReplayChatCompletionClient(["not json at all", json.dumps(cyclic), '{"task": "binary"}'])
    graph, events = ask(client, request_, tmp_path)
    calls = [e for e in events if "response" in e]
    assert len(calls) == 3  # one try + two retries, each with the validation error
    assert "not JSON" in calls[1]["request"][-1]["content"] and "cycle" in calls[2]["request"][-1]["content"]
    assert graph.rationale[-1].startswith("the model's plan stayed invalid")
    validate_graph(graph)


@pytest.mark.parametrize("breakage, message", [
    (lambda g: g["modules"].append(dict(g["modules"][-1])), "unique"),
    (lambda g: g["modules"][1]["inputs"].append("ghost"), "unknown modules"),
    (lambda g: [m for m in g["modules"] if m["stage"] == "model"][0].update(stage="prepare"), "exactly one module"),
])
def test_graph_validation_names_the_problem(request_, breakage, message):
    data = plan(request_.profile).model_dump()
    breakage(data)
    with pytest.raises(ValueError, match=message):
        validate_graph(ModuleGraph.model_validate(data))
