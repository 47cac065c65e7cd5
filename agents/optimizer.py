"""Optimizer role: an Optuna study over (variant per module + hyperparameters), evaluated by a
long-lived worker in the sandbox, under hard trial and wall-clock budgets."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import optuna
from autogen_core import CancellationToken
from optuna.trial import TrialState

from t2ml.sandbox import Limits, Sandbox, Worker, WorkerCrashed, WorkerTimeout
from t2ml.templates.program import runtime

from . import ensemble
from . import study_storage as ss
from ._base import Recorder, Role
from .pruning import PruneSettings, proxy_stats
from .trial_eval import ProxyTrial
from .messages import OptimizeRequest, StudyResult, TrialRecord, VerifiedModule
from .scheduler import EvalSlot, Scheduler, TrialContext, record_of, steps_payload
from .search_space import pipeline_from_params, warm_start_params
from .tester import runtime_files

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)

STUDY = "t2ml"


def open_study(storage: str | Path, metric: str, seed: int, name: str = STUDY) -> optuna.Study:
    """The run's study: a journal file path (default) or a PostgreSQL URL (see study_storage)."""
    return ss.open_study(ss.open_storage(storage), name, metric in runtime.MINIMIZE, seed)


class OptimizerAgent(Role[OptimizeRequest, StudyResult]):
    consumes = OptimizeRequest
    produces = StudyResult

    def __init__(self, sandbox: Sandbox, data_path: Path, config: dict[str, Any], storage_path: Path,
                 n_trials: int, hard_deadline: float, on_trial: Callable[[TrialRecord, optuna.Study], None] | None = None,
                 record: Recorder | None = None, jobs: int = 1, storage_url: str | None = None,
                 study_name: str = STUDY, pruning: PruneSettings | None = None) -> None:
        """``storage_path``: the journal file (also: ``oof/`` goes beside it); ``storage_url``: PostgreSQL
        instead, shared with ``t2ml worker`` processes; ``jobs``: trials run at once by this process."""
        super().__init__("optimizer", "Searches module variants and hyperparameters with Optuna.", record)
        self.sandbox, self.data_path, self.config = sandbox, data_path, config
        self.storage_path, self.n_trials, self.hard_deadline = storage_path, n_trials, hard_deadline
        self.on_trial, self.jobs, self.storage_url, self.study_name = on_trial, jobs, storage_url, study_name
        self.pruning = pruning or PruneSettings()  # what happens inside one trial: see trial_eval.py
        self._worker: Worker | None = None
        self.evaluated: list[int] = []  # trial numbers evaluated by this process (not by remote workers)

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

    @property
    def oof_dir(self) -> Path:
        return self.storage_path.parent / "oof"

    def _fetch_remote_oof(self, study: optuna.Study) -> None:
        """Out-of-fold predictions of trials that ran on other machines come from the study."""
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            path = self.oof_dir / f"{t.number}.npy"
            if "oof" in t.user_attrs and not path.is_file():
                self.oof_dir.mkdir(exist_ok=True)
                np.save(path, ss.decode_oof(t.user_attrs["oof"]))

    def _publish(self, study: optuna.Study, modules: list[VerifiedModule]) -> None:
        """Everything a ``t2ml worker`` needs besides the data file goes into the study."""
        data = Path(self.data_path)
        deadline_epoch = time.time() + (self.hard_deadline - time.monotonic())
        for key, value in {"config": self.config, "modules": [m.model_dump(mode="json") for m in modules],
                           "data": {"name": data.name, "path": str(data.resolve()), "sha256": ss.file_sha256(data)},
                           "n_trials": self.n_trials, "deadline_epoch": deadline_epoch, "finished": False,
                           "pruning": self.pruning.model_dump(mode="json")}.items():
            ss.set_attr(study, key, value)

    def _on_finished(self, study: optuna.Study, t: optuna.trial.FrozenTrial) -> None:
        rec = record_of(t)
        self.record({"role": self.name, "trial": rec.model_dump()})
        if self.on_trial:
            self.on_trial(rec, study)

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
        study = open_study(self.storage_url or self.storage_path, self.config["metric"], self.config["seed"], self.study_name)
        rdb = ss.rdb_of(study._storage) is not None
        if not rdb:  # one process owns a journal: its RUNNING trials died with it (PostgreSQL: heartbeats decide)
            self._fail_stale(study)
        if not study.trials:
            for params in warm_start_params(modules):
                study.enqueue_trial(params, skip_if_exists=True)
        self._publish(study, modules)
        slots = [EvalSlot(self.sandbox, self.data_path, self.config, modules) for _ in range(self.jobs)]
        ctx = TrialContext(modules, oof_dir=self.oof_dir, oof_in_study=rdb)
        scheduler = Scheduler(study, slots, ctx, self.n_trials, self.hard_deadline,
                              journal=None if rdb else self.storage_path,
                              on_finished=lambda t: self._on_finished(study, t), trial_fn=ProxyTrial(self.pruning))
        start = time.monotonic()
        try:
            stopped = await scheduler.run()
            ss.set_attr(study, "finished", True)  # remote workers stop taking trials
            self._worker, slots[0].worker = slots[0].worker, None  # the probe reuses a loaded worker
            probe = await self._leakage_probe(study, modules)
        finally:
            self.evaluated = scheduler.evaluated
            for slot in slots:
                await slot.close()
            if self._worker is not None:
                await self._worker.close()
                self._worker = None
            try:
                ss.set_attr(study, "finished", True)
            except Exception:  # the storage is gone: workers stop at the deadline anyway
                log.warning("could not mark the study finished", exc_info=True)
        if rdb:
            self._fetch_remote_oof(study)
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        if not complete:
            failed = study.get_trials(states=(TrialState.FAIL,))
            if not failed:
                raise RuntimeError(f"the time budget ran out before the first trial could run ({stopped})")
            errors = sorted({(t.user_attrs.get("error") or "unknown error")[:300] for t in failed})
            raise RuntimeError(f"no trial completed ({stopped}); {len(failed)} failed, e.g.: {errors[:3]}")
        best = study.best_trial
        records = [record_of(t) for t in study.get_trials(states=(TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED))]
        members, ens_score = self._ensemble(records, probe_s=0.0)
        return StudyResult(best_params=best.params, best_score=float(best.value), best_std=best.user_attrs.get("std", 0.0),
                           direction="minimize" if self.config["metric"] in runtime.MINIMIZE else "maximize",
                           trials=records, stopped_because=stopped, elapsed_s=time.monotonic() - start,
                           leakage_probe=probe, ensemble=members, ensemble_score=ens_score, pruning=self.pruning.enabled,
                           proxy_stats=proxy_stats(records, maximize=self.config["metric"] not in runtime.MINIMIZE))

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
