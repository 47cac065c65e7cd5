"""Optimizer role: an Optuna study over (variant per module + hyperparameters), evaluated by a
long-lived worker in the sandbox, under hard trial and wall-clock budgets."""
from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import optuna
from autogen_core import CancellationToken
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from t2ml.sandbox import Limits, Sandbox, Worker, WorkerCrashed, WorkerTimeout
from t2ml.templates.program import runtime

from . import ensemble
from ._base import Recorder, Role
from .messages import ModuleCandidate, OptimizeRequest, StudyResult, TrialRecord, VerifiedModule
from .search_space import pipeline_from_params, suggest_pipeline, warm_start_params
from .tester import runtime_files

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

STUDY = "t2ml"


def open_study(path: Path, metric: str, seed: int) -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(path)))
    with warnings.catch_warnings():  # multivariate/group are flagged experimental upstream
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, n_startup_trials=8)
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler, load_if_exists=True,
                               direction="minimize" if metric in runtime.MINIMIZE else "maximize")


def steps_payload(chosen: list[tuple[ModuleCandidate, dict[str, Any]]], modules: list[VerifiedModule]) -> list[dict[str, Any]]:
    stage = {vm.module: vm.spec.stage for vm in modules}
    return [{"name": c.module, "stage": stage[c.module], "file": c.filename, "class_name": c.class_name,
             "params": p} for c, p in chosen]


def record_of(t: optuna.trial.FrozenTrial) -> TrialRecord:
    return TrialRecord(number=t.number, state=t.state.name, params=t.params, score=t.value,
                       std=t.user_attrs.get("std"), fold_scores=t.user_attrs.get("fold_scores", []),
                       duration_s=t.user_attrs.get("duration_s", 0.0), error=t.user_attrs.get("error"))


class OptimizerAgent(Role[OptimizeRequest, StudyResult]):
    consumes = OptimizeRequest
    produces = StudyResult

    def __init__(self, sandbox: Sandbox, data_path: Path, config: dict[str, Any], storage_path: Path,
                 n_trials: int, hard_deadline: float, on_trial: Callable[[TrialRecord, optuna.Study], None] | None = None,
                 record: Recorder | None = None) -> None:
        super().__init__("optimizer", "Searches module variants and hyperparameters with Optuna.", record)
        self.sandbox, self.data_path, self.config = sandbox, data_path, config
        self.storage_path, self.n_trials, self.hard_deadline = storage_path, n_trials, hard_deadline
        self.on_trial = on_trial
        self._worker: Worker | None = None

    def _stop_at(self, study: optuna.Study) -> float:
        """Leave time for the leakage probe (~0.7 trial) and for the exported program to re-run CV
        and fit once (~1.3 trial), plus 10 s."""
        done = [t.user_attrs.get("duration_s", 0.0) for t in study.get_trials(states=(TrialState.COMPLETE,))]
        if not done:  # nothing to export yet: the first trial may use all but the last 10 s
            return self.hard_deadline - 10.0
        return self.hard_deadline - (2.0 * max(done) + 5.0)

    @staticmethod
    def _typical_duration(study: optuna.Study) -> float:
        done = sorted(t.user_attrs.get("duration_s", 0.0) for t in study.get_trials(states=(TrialState.COMPLETE,)))
        return done[len(done) // 2] if done else 0.0

    async def _ensure_worker(self, modules: list[VerifiedModule]) -> Worker:
        if self._worker is None:
            data_name = "train" + self.data_path.suffix
            files: dict[str, Any] = {**runtime_files(), data_name: self.data_path}
            files.update({c.filename: c.source for vm in modules for c in vm.candidates})
            self._worker = await self.sandbox.start_worker(files, ["python", "eval_worker.py"], Limits(memory_mb=8192))
            reply = await self._worker.request({"op": "load", "data": data_name, "config": self.config}, timeout_s=120)
            if not reply.get("ok"):
                raise RuntimeError(f"the evaluation worker could not load the data: {reply.get('error')}")
        return self._worker

    async def _evaluate(self, trial: optuna.Trial, steps: list[dict[str, Any]], modules: list[VerifiedModule],
                        timeout: float) -> tuple[dict[str, Any] | None, str | None]:
        try:
            worker = await self._ensure_worker(modules)
            reply = await worker.request({"op": "evaluate", "steps": steps, "return_oof": True}, timeout_s=timeout)
        except (WorkerTimeout, WorkerCrashed) as exc:
            self._worker = None  # the worker was killed; the next trial starts a fresh one
            return None, f"{type(exc).__name__}: {exc}"
        if not reply.get("ok"):
            return None, f"{reply.get('error')}\n{reply.get('traceback', '')}"[-3000:]
        return reply, None

    @property
    def oof_dir(self) -> Path:
        return self.storage_path.parent / "oof"

    def _save_oof(self, number: int, oof: list | None) -> None:
        if oof is not None:
            self.oof_dir.mkdir(exist_ok=True)
            np.save(self.oof_dir / f"{number}.npy", np.asarray(oof, dtype="float64"))

    def _ensemble(self, trials: list[TrialRecord], probe_s: float) -> tuple[list[tuple[int, float]], float | None]:
        """Greedy ensemble of completed trials, sized so the exported program can re-run it in time."""
        _, y = runtime.load_training(str(self.data_path), self.config)
        # the exported program re-runs each member's CV (its trial time) and fits it once more (~+25%),
        # after a few seconds of start-up; keep a margin for a busier machine than during the search
        time_left = (self.hard_deadline - time.monotonic() - probe_s - 8.0) / 1.6
        members, score = ensemble.select(trials, self.oof_dir, y, self.config, time_left)
        return (members, score) if len(members) > 1 else ([], None)

    def _fail_stale(self, study: optuna.Study) -> None:
        """Trials left RUNNING by a killed run are marked failed; they are not silently redone."""
        for t in study.get_trials(states=(TrialState.RUNNING,)):
            study._storage.set_trial_user_attr(t._trial_id, "error", "interrupted (run was killed)")
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)

    async def handle(self, payload: OptimizeRequest, cancellation_token: CancellationToken) -> StudyResult:
        modules = payload.modules
        study = open_study(self.storage_path, self.config["metric"], self.config["seed"])
        self._fail_stale(study)
        if not study.trials:
            for params in warm_start_params(modules):
                study.enqueue_trial(params, skip_if_exists=True)
        start, stopped = time.monotonic(), "trial budget reached"
        try:
            while len(study.get_trials(states=(TrialState.COMPLETE, TrialState.FAIL))) < self.n_trials:
                remaining = self._stop_at(study) - time.monotonic()
                if remaining <= max(1.0, self._typical_duration(study)):  # a trial that cannot finish is not started
                    stopped = "time budget reached"
                    break
                trial = study.ask()
                steps = steps_payload(suggest_pipeline(trial, modules), modules)
                t0 = time.monotonic()
                reply, error = await self._evaluate(trial, steps, modules, timeout=remaining)
                trial.set_user_attr("duration_s", round(time.monotonic() - t0, 3))
                if reply is None:
                    trial.set_user_attr("error", error)
                    study.tell(trial, state=TrialState.FAIL)
                else:
                    trial.set_user_attr("std", reply["std"])
                    trial.set_user_attr("fold_scores", reply["fold_scores"])
                    self._save_oof(trial.number, reply.get("oof"))
                    study.tell(trial, reply["score"])
                rec = record_of(study.trials[trial.number])
                self.record({"role": self.name, "trial": rec.model_dump()})
                if self.on_trial:
                    self.on_trial(rec, study)
            probe = await self._leakage_probe(study, modules)
        finally:
            if self._worker is not None:
                await self._worker.close()
                self._worker = None
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        if not complete:
            failed = study.get_trials(states=(TrialState.FAIL,))
            if not failed:
                raise RuntimeError(f"the time budget ran out before the first trial could run ({stopped})")
            errors = sorted({(t.user_attrs.get("error") or "unknown error")[:300] for t in failed})
            raise RuntimeError(f"no trial completed ({stopped}); {len(failed)} failed, e.g.: {errors[:3]}")
        best = study.best_trial
        records = [record_of(t) for t in study.get_trials(states=(TrialState.COMPLETE, TrialState.FAIL))]
        members, ens_score = self._ensemble(records, probe_s=0.0)
        return StudyResult(best_params=best.params, best_score=float(best.value), best_std=best.user_attrs.get("std", 0.0),
                           direction="minimize" if self.config["metric"] in runtime.MINIMIZE else "maximize",
                           trials=records, stopped_because=stopped, elapsed_s=time.monotonic() - start,
                           leakage_probe=probe, ensemble=members, ensemble_score=ens_score)

    async def _leakage_probe(self, study: optuna.Study, modules: list[VerifiedModule]) -> dict[str, Any] | None:
        """Re-run the best pipeline on a permuted target (3 folds): its score must fall to chance."""
        if not study.get_trials(states=(TrialState.COMPLETE,)):
            return None
        best = study.best_trial
        steps = steps_payload(pipeline_from_params(best.params, modules), modules)
        timeout = self.hard_deadline - time.monotonic() - (1.3 * best.user_attrs.get("duration_s", 5.0) + 5.0)
        if timeout < 1.0:
            return {"skipped": "no time left"}
        try:
            worker = await self._ensure_worker(modules)
            reply = await worker.request({"op": "evaluate", "steps": steps, "shuffle_target": True, "folds": 3}, timeout)
        except (WorkerTimeout, WorkerCrashed) as exc:
            self._worker = None
            return {"skipped": f"{type(exc).__name__}: {exc}"}
        if not reply.get("ok"):
            return {"skipped": str(reply.get("error"))[:300]}
        gap = float(best.value) - reply["chance"]
        recovered = (reply["score"] - reply["chance"]) / gap if abs(gap) > 1e-12 else 0.0
        return {"shuffled_target_score": reply["score"], "chance_score": reply["chance"], "best_score": best.value,
                "share_of_gain_recovered": round(recovered, 3), "passed": recovered < 0.5}
