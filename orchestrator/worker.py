"""``t2ml worker``: evaluate trials of a coordinator's study, from any machine that reaches its storage.

What a worker needs comes from the study (published by ``t2ml run --storage URL``: program config,
verified module sources, pruning settings, trial budget, deadline, the data file's hash) plus a path
to the same data file. A worker stops when the study is marked finished, when no trial of the budget
is left to start, or at the coordinator's deadline. Trials it was running when it died are failed by
whoever notices their heartbeat stopped (any worker or the coordinator), and count in the budget.
"""
from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from t2ml.agents import study_storage as ss
from t2ml.agents.messages import VerifiedModule
from t2ml.agents.pruning import PruneSettings
from t2ml.agents.scheduler import EvalSlot, Scheduler, TrialContext
from t2ml.agents.trial_eval import ProxyTrial
from t2ml.errors import ConfigError, DataError
from t2ml.sandbox import make_sandbox
from t2ml.templates.program import runtime


class WorkerSummary(BaseModel):
    study: str
    evaluated: list[int]
    stopped_because: str
    sandbox: str


def _published(storage: Any, name: str, wait_s: float) -> dict[str, Any]:
    """The study's t2ml attributes, waiting up to ``wait_s`` for the coordinator to publish them."""
    end = time.monotonic() + wait_s
    while True:
        if ss.study_exists(storage, name):
            study_id = storage.get_study_id_from_name(name)
            attrs = storage.get_study_user_attrs(study_id)
            if ss.ATTR + "modules" in attrs:
                return {k[len(ss.ATTR):]: v for k, v in attrs.items() if k.startswith(ss.ATTR)}
        if time.monotonic() >= end:
            raise ConfigError(f"no t2ml study named {name!r} is ready in {ss.redact(str(storage.url))} "
                              f"(waited {wait_s:.0f}s)",
                              hint="start the coordinator (`t2ml run ... --storage URL --study NAME`) or give --wait")
        time.sleep(1.0)


def _data_path(spec: dict[str, Any], data: str | None) -> Path:
    path = Path(data) if data else Path(spec["data"]["path"])
    if not path.is_file():
        raise DataError(f"data file not found: {path}",
                        hint=f"give --data PATH: a copy of the coordinator's {spec['data']['name']}")
    if ss.file_sha256(path) != spec["data"]["sha256"]:
        raise DataError(f"{path} is not the file the coordinator searches on (its SHA-256 differs)",
                        hint=f"copy the coordinator's {spec['data']['name']} here and give it with --data")
    return path


async def work(storage: str, study: str, data: str | None = None, jobs: int = 1, sandbox: str = "auto",
               wait_s: float = 60.0) -> WorkerSummary:
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}", hint="e.g. --jobs 2")
    if not ss.is_url(storage):
        raise ConfigError(f"--storage must be a PostgreSQL URL, got {storage!r}",
                          hint="e.g. postgresql://USER@HOST:5432/DB (the coordinator's --storage)")
    backend = ss.open_storage(storage)
    spec = await asyncio.to_thread(_published, backend, study, wait_s)
    path = _data_path(spec, data)
    config = spec["config"]
    # each worker samples with its own seed: the same seed everywhere would propose the same trials
    handle = ss.open_study(backend, study, config["metric"] in runtime.MINIMIZE,
                           config["seed"] + random.SystemRandom().randrange(1, 2**31), create=False)
    if spec.get("finished"):
        return WorkerSummary(study=study, evaluated=[], stopped_because="the study is already finished", sandbox="none")
    modules = [VerifiedModule.model_validate(m) for m in spec["modules"]]
    hard_deadline = time.monotonic() + (float(spec["deadline_epoch"]) - time.time())
    box = make_sandbox(sandbox)
    async with box:
        slots = [EvalSlot(box, path, config, modules) for _ in range(jobs)]
        scheduler = Scheduler(handle, slots, TrialContext(modules, oof_in_study=True), int(spec["n_trials"]), hard_deadline,
                              trial_fn=ProxyTrial(PruneSettings.model_validate(spec.get("pruning") or {})),
                              stop_requested=lambda: bool(ss.get_attr(handle, "finished")), wait_for_others=False)
        try:
            stopped = await scheduler.run()
        finally:
            for slot in slots:
                await slot.close()
    return WorkerSummary(study=study, evaluated=scheduler.evaluated, stopped_because=stopped, sandbox=box.name)


def run_worker(storage: str, study: str, data: str | None = None, jobs: int = 1, sandbox: str = "auto",
               wait_s: float = 60.0) -> WorkerSummary:
    return asyncio.run(work(storage, study, data, jobs, sandbox, wait_s))
