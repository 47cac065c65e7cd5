"""How trials are scheduled: N concurrent trials per process, each on its own sandboxed evaluation
worker, sharing one Optuna study with other processes (``t2ml worker``) through its storage.

The coordinator (``OptimizerAgent``) and every ``t2ml worker`` run the same ``Scheduler``; what one
trial does (suggest, evaluate, tell) is ``run_trial``. The trial budget is exact across processes
(see ``study_storage.reservation_lock``); the time budget is enforced by giving each trial at most
the time left before ``stop_at`` and by not starting a trial that cannot finish.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np
import optuna
from optuna.storages import fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from t2ml.sandbox import Limits, Sandbox, Worker, WorkerCrashed, WorkerTimeout

from . import study_storage as ss
from .messages import ModuleCandidate, TrialRecord, VerifiedModule
from .search_space import suggest_pipeline
from .tester import runtime_files

log = logging.getLogger(__name__)
POLL_S = 0.5
PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def steps_payload(chosen: list[tuple[ModuleCandidate, dict[str, Any]]], modules: list[VerifiedModule]) -> list[dict[str, Any]]:
    stage = {vm.module: vm.spec.stage for vm in modules}
    return [{"name": c.module, "stage": stage[c.module], "file": c.filename, "class_name": c.class_name,
             "params": p} for c, p in chosen]


def record_of(t: FrozenTrial) -> TrialRecord:
    from .pruning import trial_fields  # proxy scores and costs, when the trial had any
    error = t.user_attrs.get("error")
    if t.state == TrialState.FAIL and error is None:
        error = "interrupted (its process stopped sending heartbeats)"
    return TrialRecord(number=t.number, state=t.state.name, params=t.params,
                       score=t.value if t.state == TrialState.COMPLETE else None,  # PRUNED: its last step, not a score
                       std=t.user_attrs.get("std"), fold_scores=t.user_attrs.get("fold_scores", []),
                       duration_s=t.user_attrs.get("duration_s", 0.0), error=error, **trial_fields(t.user_attrs),
                       running_score=_running_score(t))


def _running_score(t: FrozenTrial) -> float | None:
    step = t.user_attrs.get("pruned_step")
    if t.state != TrialState.PRUNED or not step:
        return None
    return t.intermediate_values.get(step)


def completed_durations(study: optuna.Study) -> list[float]:
    return sorted(t.user_attrs.get("duration_s", 0.0) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def stop_at(study: optuna.Study, hard_deadline: float) -> float:
    """When to stop starting trials: leave time for the leakage probe (~0.7 trial) and for the exported
    program to re-run CV and fit once (~1.3 trial), plus 10 s."""
    done = completed_durations(study)
    if not done:  # nothing to export yet: the first trial may use all but the last 10 s
        return hard_deadline - 10.0
    return hard_deadline - (2.0 * done[-1] + 5.0)


class EvalSlot:
    """One long-lived sandboxed evaluation worker: runs one trial at a time; restarted after a crash."""

    def __init__(self, sandbox: Sandbox, data_path: Path, config: dict[str, Any], modules: list[VerifiedModule]) -> None:
        self.sandbox, self.data_path, self.config, self.modules = sandbox, data_path, config, modules
        self.worker: Worker | None = None
        self.rows = 0  # training rows, as loaded by the worker

    async def ensure(self) -> Worker:
        if self.worker is None:
            data_name = "train" + self.data_path.suffix
            files: dict[str, Any] = {**runtime_files(), data_name: self.data_path}
            files.update({c.filename: c.source for vm in self.modules for c in vm.candidates})
            self.worker = await self.sandbox.start_worker(files, ["python", "eval_worker.py"], Limits(memory_mb=8192))
            reply = await self.worker.request({"op": "load", "data": data_name, "config": self.config}, timeout_s=120)
            if not reply.get("ok"):
                raise RuntimeError(f"the evaluation worker could not load the data: {reply.get('error')}")
            self.rows = int(reply.get("rows", 0))
        return self.worker

    async def evaluate(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any] | None, str | None]:
        """(reply, None) or (None, error text); a timeout or crash ends the worker (the next call starts one)."""
        try:
            worker = await self.ensure()
            reply = await worker.request({"op": "evaluate", **request}, timeout_s=timeout)
        except (WorkerTimeout, WorkerCrashed) as exc:
            self.worker = None
            return None, f"{type(exc).__name__}: {exc}"
        if not reply.get("ok"):
            return None, f"{reply.get('error')}\n{reply.get('traceback', '')}"[-3000:]
        return reply, None

    async def close(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            await worker.close()


@dataclass
class TrialContext:
    """What ``run_trial`` needs besides the slot: the modules, and where out-of-fold predictions go
    (a folder on the coordinator's machine; the study itself for trials run elsewhere)."""

    modules: list[VerifiedModule]
    oof_dir: Path | None = None
    oof_in_study: bool = False


async def run_trial(ctx: TrialContext, slot: EvalSlot, study: optuna.Study, trial: optuna.Trial, timeout: float) -> None:
    """One trial, start to end: suggest the pipeline, evaluate it by cross-validation, tell the study."""
    steps = steps_payload(suggest_pipeline(trial, ctx.modules), ctx.modules)
    t0 = time.monotonic()
    reply, error = await slot.evaluate({"steps": steps, "return_oof": True}, timeout)
    trial.set_user_attr("duration_s", round(time.monotonic() - t0, 3))
    if reply is None:
        trial.set_user_attr("error", error)
        study.tell(trial, state=TrialState.FAIL)
        return
    trial.set_user_attr("std", reply["std"])
    trial.set_user_attr("fold_scores", reply["fold_scores"])
    oof = reply.get("oof")
    if oof is not None and ctx.oof_dir is not None:
        ctx.oof_dir.mkdir(exist_ok=True)
        np.save(ctx.oof_dir / f"{trial.number}.npy", np.asarray(oof, dtype="float64"))
    if oof is not None and ctx.oof_in_study:
        trial.set_user_attr("oof", ss.encode_oof(oof))
    study.tell(trial, reply["score"])


TrialFn = Callable[[TrialContext, EvalSlot, optuna.Study, optuna.Trial, float], Awaitable[None]]


class Scheduler:
    """Keeps up to ``len(slots)`` trials of ``study`` running until the trial budget (counted over all
    processes) is used up, the time runs out, or ``stop_requested()`` says so."""

    def __init__(self, study: optuna.Study, slots: list[EvalSlot], ctx: TrialContext, n_trials: int,
                 hard_deadline: float, journal: Path | None = None, trial_fn: TrialFn = run_trial,
                 on_finished: Callable[[FrozenTrial], None] | None = None,
                 stop_requested: Callable[[], bool] = lambda: False, wait_for_others: bool = True) -> None:
        self.study, self.slots, self.ctx, self.n_trials = study, slots, ctx, n_trials
        self.hard_deadline, self.journal, self.trial_fn = hard_deadline, journal, trial_fn
        self.on_finished, self.stop_requested, self.wait_for_others = on_finished, stop_requested, wait_for_others
        self.storage = study._storage
        self.rdb = ss.rdb_of(self.storage) is not None
        self.running: dict[asyncio.Task, tuple[EvalSlot, optuna.Trial]] = {}
        self.evaluated: list[int] = []  # trial numbers this process ran
        self._seen = {t.number for t in study.get_trials(deepcopy=False, states=ss.FINISHED)}
        self._last_beat = 0.0

    def _reserve(self) -> optuna.Trial | None:
        """Count the trials of every process and ask a new one only while the budget allows it."""
        with ss.reservation_lock(self.storage, self.study.study_name, self.journal):
            if ss.count(self.study, ss.USED) >= self.n_trials:
                return None
            with warnings.catch_warnings():  # "heartbeat is supposed to be used with Study.optimize": we beat ourselves
                warnings.simplefilter("ignore", UserWarning)
                trial = self.study.ask()
            trial.set_user_attr("process", PROCESS)  # who evaluates it (the report, the tests)
            if self.rdb:
                self.storage.record_heartbeat(trial._trial_id)
            return trial

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.rdb and now - self._last_beat >= ss.HEARTBEAT_S:
            for _, trial in self.running.values():
                self.storage.record_heartbeat(trial._trial_id)
            with warnings.catch_warnings():  # flagged experimental upstream
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                fail_stale_trials(self.study)  # trials of processes that died
            self._last_beat = now
        if self.on_finished is not None:
            for t in self.study.get_trials(deepcopy=False, states=ss.FINISHED):
                if t.number not in self._seen:
                    self._seen.add(t.number)
                    self.on_finished(t)

    async def _guarded(self, slot: EvalSlot, trial: optuna.Trial, timeout: float) -> None:
        try:
            await self.trial_fn(self.ctx, slot, self.study, trial, timeout)
        except asyncio.CancelledError:  # the run was cut (budget, coordinator finished, Ctrl-C)
            await slot.close()
            self._fail(trial, "stopped before it finished (time budget or the study was finished)")
            raise
        except Exception as exc:  # a bug must not leave the trial RUNNING forever
            self._fail(trial, f"{type(exc).__name__}: {exc}")
            raise

    def _fail(self, trial: optuna.Trial, error: str) -> None:
        try:
            if self.storage.get_trial(trial._trial_id).state == TrialState.RUNNING:
                trial.set_user_attr("error", error)
                self.study.tell(trial, state=TrialState.FAIL)
        except Exception:  # already finished by someone else
            log.debug("could not fail trial %s", trial.number, exc_info=True)

    async def run(self) -> str:
        free = list(self.slots)
        try:
            while True:
                self._housekeeping()
                if self.stop_requested():
                    return "the study was finished by the coordinator"
                remaining = stop_at(self.study, self.hard_deadline) - time.monotonic()
                durations = completed_durations(self.study)
                typical = durations[len(durations) // 2] if durations else 0.0
                time_ok = remaining > max(1.0, typical)  # a trial that cannot finish is not started
                while free and time_ok and (trial := self._reserve()) is not None:
                    slot = free.pop()
                    self.evaluated.append(trial.number)
                    self.running[asyncio.create_task(self._guarded(slot, trial, remaining))] = (slot, trial)
                if not self.running:
                    if not time_ok:
                        return "time budget reached"
                    if ss.count(self.study, ss.FINISHED) >= self.n_trials or not self.wait_for_others:
                        return "trial budget reached"
                    await asyncio.sleep(POLL_S)  # the last trials run in other processes
                    continue
                done, _ = await asyncio.wait(self.running, timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    free.append(self.running.pop(task)[0])
                    task.result()
        finally:
            await self._cancel_running()
            self._housekeeping()

    async def _cancel_running(self) -> None:
        for task in self.running:
            task.cancel()
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
        self.running.clear()
