"""The run loop: profile -> plan -> code/test per module -> optimize -> export, checkpointed per stage."""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.messages import StructuredMessage
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient
from pydantic import BaseModel

from t2ml.agents import OptimizerAgent, PlannerAgent, TesterAgent
from t2ml.agents.clients import ModelGateway, make_client
from t2ml.agents.clients.builtin import plan as builtin_plan
from t2ml.agents.messages import (CandidateBatch, DataProfile, ModuleGraph, OptimizeRequest, PlanRequest, StudyResult,
                                  TrialRecord, VerifiedModule)
from t2ml.agents.pruning import PruneSettings
from t2ml.errors import BudgetExceeded, PipelineError
from t2ml.sandbox import Sandbox, make_sandbox

from .coding import code_and_test
from .config import WATCHDOG_GRACE_S, Event, EventHandler, RunConfig, RunSummary
from .finish import export_and_report
from .intake import read_table
from .profile import build_profile, check_test_file
from .runfolder import STAGES, RunFolder

log = logging.getLogger(__name__)
TESTING_SHARE = 0.4  # after this share of the budget, only each module's preferred variant is still tested


class Run:
    def __init__(self, config: RunConfig, folder: RunFolder, on_event: EventHandler | None = None,
                 elapsed_before: float = 0.0, client: ChatCompletionClient | None = None,
                 storage_url: str | None = None) -> None:
        self.config, self.folder = config, folder
        self.storage_url = storage_url or config.storage  # with its password when given (never saved)
        self.on_event = on_event or (lambda e: None)
        self.started = time.monotonic() - elapsed_before
        self.deadline = self.started + config.task.time_budget_s
        if client is not None:  # a caller-supplied model client (extension, tests)
            inner, self.provenance = client, f"llm:{config.llm.model_name}"
        else:
            inner, self.provenance = make_client(config.llm)
        self.gateway = ModelGateway(inner, config.llm, record=self.record)
        self.sandbox: Sandbox = make_sandbox(config.sandbox)

    # -- plumbing -------------------------------------------------------------------------
    def emit(self, stage: str, message: str, **kw: Any) -> None:
        self.on_event(Event(stage=stage, message=message, **kw))
        self.folder.save_stage("clock", {"elapsed_s": time.monotonic() - self.started})

    def record(self, event: dict[str, Any]) -> None:
        self.folder.append_transcript(event.get("role", "?"), "model_call" if "request" in event else "event", event)

    async def send(self, sender: str, agent: BaseChatAgent, payload: BaseModel) -> Any:
        """Deliver a typed message to a role and return its typed answer; both go to the transcript."""
        self.folder.append_transcript(sender, type(payload).__name__, {"to": agent.name, **payload.model_dump(mode="json")})
        msg = StructuredMessage[type(payload)](content=payload, source=sender)  # type: ignore[misc]
        response = await agent.on_messages([msg], CancellationToken())
        answer = response.chat_message.content  # type: ignore[attr-defined]
        self.folder.append_transcript(agent.name, type(answer).__name__, answer.model_dump(mode="json"))
        return answer

    # -- stages ---------------------------------------------------------------------------
    def stage_profile(self) -> DataProfile:
        if self.folder.done("profile"):
            return DataProfile.model_validate(self.folder.load_stage("profile"))
        self.emit("profile", f"reading {self.config.task.train_path}")
        table = read_table(self.config.task.train_path)
        profile = build_profile(table, self.config.task)
        if self.config.task.test_path:
            check_test_file(self.config.task.test_path, profile)
        sample = table.frame[table.frame[profile.target].notna()]
        sample = sample.sample(n=min(self.config.sample_rows, len(sample)), random_state=self.config.task.seed)
        sample.to_csv(self.folder.file("sample.csv"), index=False)
        self.folder.append_transcript("user", "TaskSpec", self.config.task)
        self.folder.append_transcript("profiler", "DataProfile", profile)
        self.folder.write_json("profile.json", profile)
        self.folder.save_stage("profile", profile)
        return profile

    async def stage_plan(self, profile: DataProfile) -> ModuleGraph:
        if self.folder.done("plan"):
            return ModuleGraph.model_validate(self.folder.load_stage("plan"))
        self.emit("plan", "planning the module graph")
        planner = PlannerAgent(self.gateway.for_role("planner"), record=self.record)
        graph: ModuleGraph = await self.send("orchestrator", planner, PlanRequest(task=self.config.task, profile=profile))
        self.folder.write_json("graph.json", graph)
        self.folder.save_stage("plan", graph)
        return graph

    async def stage_code_and_test(self, profile: DataProfile, graph: ModuleGraph) -> tuple[ModuleGraph, list[VerifiedModule]]:
        if self.folder.done("test"):
            graph = ModuleGraph.model_validate(self.folder.load_stage("plan"))
            return graph, [VerifiedModule.model_validate(v) for v in self.folder.load_stage("test")]
        sample_cfg = {**profile.program_config(self.config.task.folds, self.config.task.seed), "sep": ",", "encoding": "utf-8"}
        tester = TesterAgent(self.sandbox, self.folder.file("sample.csv"), sample_cfg, record=self.record,
                             soft_deadline=self.started + TESTING_SHARE * self.config.task.time_budget_s,
                             hard_deadline=self.deadline)
        try:
            result = await code_and_test(self, profile, graph, tester)
        except PipelineError as exc:
            rules = builtin_plan(profile)
            if self.config.llm.is_builtin or graph.modules == rules.modules:
                raise
            # the model's plan could not be implemented: the built-in plan (templates always fit it) takes over
            rules.rationale.append(f"the model's plan could not be implemented ({exc.message[:300]}); "
                                   "the built-in planner took over")
            self.emit("plan", "the model's plan could not be implemented; using the built-in plan")
            graph = rules
            self.folder.write_json("graph.json", graph)
            self.folder.save_stage("plan", graph)
            result = await code_and_test(self, profile, graph, tester)
        self.folder.save_stage("test", [v.model_dump(mode="json") for v in result])
        return graph, result

    def save_sources(self, batch: CandidateBatch) -> None:
        for cand in batch.candidates:
            path = self.folder.file("modules", cand.module, f"{cand.variant}.py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(cand.source, encoding="utf-8")

    async def stage_optimize(self, profile: DataProfile, graph: ModuleGraph, modules: list[VerifiedModule]) -> StudyResult:
        if self.folder.done("optimize"):
            return StudyResult.model_validate(self.folder.load_stage("optimize"))
        config = profile.program_config(self.config.task.folds, self.config.task.seed)
        n = self.config.task.trials

        def on_trial(rec: TrialRecord, study: Any) -> None:
            best = study.best_value if any(t.state.name == "COMPLETE" for t in study.trials) else None
            msg = f"trial {rec.number + 1}: {rec.state.lower()}" + (f" {rec.score:.4f}" if rec.score is not None else "")
            self.emit("optimize", msg, trial=rec.number + 1, n_trials=n, best=best)

        self.emit("optimize", f"searching {sum(len(m.candidates) for m in modules)} variants over {len(modules)} modules",
                  trial=0, n_trials=n)
        if self.config.storage:
            self.emit("optimize", f"study {self.config.study!r} in {self.config.storage}: add workers with "
                      f"`t2ml worker --storage {self.config.storage} --study {self.config.study} --data PATH`")
        optimizer = OptimizerAgent(self.sandbox, Path(profile.path), config, self.folder.file("study.log"), n,
                                   self.deadline, on_trial=on_trial, record=self.record,
                                   pruning=PruneSettings(enabled=self.config.prune), jobs=self.config.jobs,
                                   storage_url=self.storage_url, study_name=self.config.study or "t2ml")
        try:
            result: StudyResult = await self.send("orchestrator", optimizer, OptimizeRequest(graph=graph, modules=modules))
        except RuntimeError as exc:
            raise PipelineError(str(exc), hint="give a larger --time-budget or check the transcript") from None
        self.folder.save_stage("optimize", result)
        return result

    async def execute(self) -> RunSummary:
        """All stages under a watchdog: the run never outlives its time budget by more than a few seconds."""
        try:
            return await asyncio.wait_for(self._stages(), timeout=self.deadline + WATCHDOG_GRACE_S - time.monotonic())
        except asyncio.TimeoutError:
            stage = next((s for s in reversed(STAGES) if self.folder.done(s)), "start")
            raise BudgetExceeded(f"the time budget ({self.config.task.time_budget_s:.0f}s) ran out after stage {stage!r}",
                                 hint=f"give a larger --time-budget, or continue with --resume {self.folder.path}") from None

    def _lap(self, stage: str) -> None:
        """Seconds spent per stage in this session (shown in the summary and the report)."""
        now = time.monotonic()
        self.stage_seconds[stage] = round(now - self._lap_start, 1)
        self._lap_start = now

    async def _stages(self) -> RunSummary:
        self.stage_seconds: dict[str, float] = {}
        self._lap_start = time.monotonic()
        async with self.sandbox:
            profile = self.stage_profile()
            graph = await self.stage_plan(profile)
            self._lap("profile+plan")
            graph, modules = await self.stage_code_and_test(profile, graph)
            self._lap("contract tests")
            study = await self.stage_optimize(profile, graph, modules)
            self._lap("search")
            self.emit("export", "writing program.py and running it once")
            return await export_and_report(self, profile, graph, modules, study)
