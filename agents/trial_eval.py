"""What happens inside one trial when pruning is on: proxies -> pruner -> fold-by-fold evaluation.

``ProxyTrial(settings)`` has the signature of ``scheduler.run_trial`` (the scheduler calls it in its
place). Step 0: every applicable proxy is computed by the sandboxed worker and the first one is
reported to Optuna; the pruner may stop the trial there. Steps 1..k: one fold per worker request,
the running mean of the raw fold scores reported after each; the pruner may stop the trial after any
fold. A trial that survives every fold is finished by the worker exactly like ``runtime.cross_validate``
(same folds, same cross-fitted post-processing), so its score and out-of-fold predictions are those
of the plain evaluation. Pruned trials end PRUNED and save no out-of-fold predictions.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import TrialState

from t2ml.sandbox import Worker, WorkerCrashed, WorkerTimeout

from . import proxies
from . import study_storage as ss
from .pruning import ProxyFoldPruner, PruneSettings
from .scheduler import EvalSlot, TrialContext, run_trial, steps_payload
from .search_space import suggest_pipeline

log = logging.getLogger(__name__)


class _Stop(Exception):
    """The trial ends early: pruned, failed in the worker, or the worker was lost."""

    def __init__(self, state: TrialState, error: str | None = None) -> None:
        super().__init__(error or state.name)
        self.state, self.error = state, error


class ProxyTrial:
    """One trial with proxy and fold-wise pruning; a plain ``run_trial`` when pruning is disabled."""

    def __init__(self, settings: PruneSettings | None = None) -> None:
        self.settings = settings or PruneSettings()
        self.pruner = ProxyFoldPruner(self.settings)
        self.proxies = [proxies.get(n, **self.settings.proxy_args.get(n, {})) for n in self.settings.proxies]

    async def __call__(self, ctx: TrialContext, slot: EvalSlot, study: optuna.Study, trial: optuna.Trial,
                       timeout: float) -> None:
        if not self.settings.enabled:
            await run_trial(ctx, slot, study, trial, timeout)
            return
        chosen = suggest_pipeline(trial, ctx.modules)
        steps = steps_payload(chosen, ctx.modules)
        model_source = next((c.source for c, _ in chosen if any(
            vm.module == c.module and vm.spec.stage == "model" for vm in ctx.modules)), "")
        start, key = time.monotonic(), f"trial-{trial.number}"
        deadline = start + timeout
        try:
            worker = await slot.ensure()
            await self._proxies(worker, study, trial, steps, model_source, slot.rows, deadline)
            reply = await self._folds(worker, study, trial, steps, key, deadline)
        except (WorkerTimeout, WorkerCrashed) as exc:
            slot.worker = None  # the worker was killed; the next trial starts a fresh one
            self._end(study, trial, start, TrialState.FAIL, f"{type(exc).__name__}: {exc}")
            return
        except _Stop as stop:
            if stop.state == TrialState.PRUNED and slot.worker is not None:
                try:  # free the pruned trial's out-of-fold predictions in the worker
                    await slot.worker.request({"op": "forget", "key": key}, timeout_s=10)
                except (WorkerTimeout, WorkerCrashed):
                    slot.worker = None
            self._end(study, trial, start, stop.state, stop.error)
            return
        trial.set_user_attr("std", reply["std"])
        trial.set_user_attr("fold_scores", reply["fold_scores"])
        save_oof(ctx, trial, reply.get("oof"))
        self._end(study, trial, start, TrialState.COMPLETE, value=reply["score"])

    async def _proxies(self, worker: Worker, study: optuna.Study, trial: optuna.Trial, steps: list[dict[str, Any]],
                       model_source: str, n_rows: int, deadline: float) -> None:
        maximize = study.direction == StudyDirection.MAXIMIZE
        scores: dict[str, float] = {}
        costs: dict[str, float] = {}
        higher: dict[str, bool] = {}
        for proxy in self.proxies:
            if not proxy.applies(model_source) or not proxy.worth_it(n_rows):
                continue
            try:
                res = await proxy.score(worker, steps, maximize, timeout_s=max(1.0, deadline - time.monotonic()))
            except proxies.ProxyError as exc:
                log.info("trial %d: %s", trial.number, exc)
                continue
            scores[res.name], costs[res.name], higher[res.name] = res.score, round(res.cost_s, 4), res.higher_is_better
        if not scores:
            return
        primary = next(iter(scores))
        for name, value in (("proxy", primary), ("proxy_higher_is_better", higher[primary]), ("proxy_scores", scores),
                            ("proxy_costs", costs), ("proxy_higher", higher)):
            trial.set_user_attr(name, value)
        trial.report(scores[primary], step=0)
        if self._should_prune(study, trial):
            trial.set_user_attr("pruned_step", 0)
            raise _Stop(TrialState.PRUNED)

    async def _folds(self, worker: Worker, study: optuna.Study, trial: optuna.Trial, steps: list[dict[str, Any]],
                     key: str, deadline: float) -> dict[str, Any]:
        t0, raw, n_folds, i = time.monotonic(), [], None, 0
        while n_folds is None or i < n_folds:
            reply = await worker.request({"op": "fold", "key": key, "steps": steps, "fold": i},
                                         timeout_s=max(1.0, deadline - time.monotonic()))
            _check(reply)
            n_folds = reply["n_folds"]
            raw.append(float(reply["raw_score"]))
            i += 1
            trial.report(float(np.mean(raw)), step=i)
            if i < n_folds and self._should_prune(study, trial):
                trial.set_user_attr("pruned_step", i)
                trial.set_user_attr("eval_s", round(time.monotonic() - t0, 3))
                raise _Stop(TrialState.PRUNED)
        reply = await worker.request({"op": "finish", "key": key, "steps": steps, "return_oof": True},
                                     timeout_s=max(1.0, deadline - time.monotonic()))
        _check(reply)
        trial.set_user_attr("eval_s", round(time.monotonic() - t0, 3))
        return reply

    def _should_prune(self, study: optuna.Study, trial: optuna.Trial) -> bool:
        frozen = study._storage.get_trial(trial._trial_id)
        return self.pruner.prune(study, frozen)

    @staticmethod
    def _end(study: optuna.Study, trial: optuna.Trial, start: float, state: TrialState, error: str | None = None,
             value: float | None = None) -> None:
        trial.set_user_attr("duration_s", round(time.monotonic() - start, 3))
        if error:
            trial.set_user_attr("error", error)
        study.tell(trial, value, state=None if state == TrialState.COMPLETE else state)


def _check(reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        raise _Stop(TrialState.FAIL, f"{reply.get('error')}\n{reply.get('traceback', '')}"[-3000:])


def save_oof(ctx: TrialContext, trial: optuna.Trial, oof: list | None) -> None:
    """Out-of-fold predictions of a COMPLETE trial, for the ensemble (as ``run_trial`` saves them)."""
    if oof is None:
        return
    if ctx.oof_dir is not None:
        ctx.oof_dir.mkdir(exist_ok=True)
        np.save(ctx.oof_dir / f"{trial.number}.npy", np.asarray(oof, dtype="float64"))
    if ctx.oof_in_study:
        trial.set_user_attr("oof", ss.encode_oof(oof))
