"""Pruning settings, the pruner, and the measured quality of each proxy (cost share, Kendall tau).

Step 0 of a trial is its proxy score; steps 1..k are the running mean of its raw fold scores. The rule is
successive halving: at each step a trial goes on if it is in the best share of every trial that reached
that step, pruned ones included. At step 0 that is every trial scored by the same proxy (proxies are on
different scales); at step s >= 1, every trial's running mean over its first s folds (the same folds for
every trial, so the comparison is paired). Compared with the survivors only (the COMPLETE trials), the
bar rises to an elite that all passed the same rule, and almost nothing passes: on titanic, a median rule
against complete trials pruned 51 of 60 trials, most after one noisy fold.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from pydantic import BaseModel, Field

from .messages import ProxyStats, TrialRecord


class PruneSettings(BaseModel):
    """``enabled=False`` (CLI ``--no-prune``): every trial gets the plain full evaluation, no proxy."""

    enabled: bool = True
    proxies: list[str] = Field(default_factory=lambda: ["low_fidelity", "naswot", "synflow", "grad_norm"])
    proxy_args: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per proxy name: its constructor's arguments
    warmup_trials: int = 3  # never pruned before this many trials completed (the first enqueued defaults)
    proxy_keep: float = 0.25  # step 0: go on only if the proxy is within this best share of the trials it scored
    fold_keep: float = 1 / 3  # steps 1..k: go on only if the running mean is within this best share of the trials at that step
    min_peers: int = 3  # fewer trials to compare with: no pruning at that step


class ProxyFoldPruner(BasePruner):
    """Percentile pruning at step 0 (per proxy) and after each fold (running mean of fold scores)."""

    def __init__(self, settings: PruneSettings) -> None:
        self.s = settings

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < self.s.warmup_trials:
            return False
        value = trial.intermediate_values[step]
        scored = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        if step == 0:
            name = trial.user_attrs.get("proxy")
            peers = [t.intermediate_values[0] for t in scored
                     if t.user_attrs.get("proxy") == name and 0 in t.intermediate_values]
            higher, keep = bool(trial.user_attrs.get("proxy_higher_is_better", True)), self.s.proxy_keep
        else:
            peers = [t.intermediate_values[step] for t in scored if step in t.intermediate_values]
            higher, keep = study.direction == StudyDirection.MAXIMIZE, self.s.fold_keep
        peers = [p for p in peers if math.isfinite(p)]
        if len(peers) < self.s.min_peers:
            return False
        if not math.isfinite(value):
            return True
        sign = 1.0 if higher else -1.0
        threshold = float(np.quantile(sign * np.asarray(peers), 1.0 - keep))
        return sign * value < threshold


def trial_fields(attrs: dict[str, Any]) -> dict[str, Any]:
    """The proxy/pruning fields of a TrialRecord, from a trial's user attributes."""
    return {"proxy": attrs.get("proxy"), "proxy_scores": attrs.get("proxy_scores", {}), "proxy_costs": attrs.get("proxy_costs", {}),
            "proxy_higher": attrs.get("proxy_higher", {}), "eval_s": attrs.get("eval_s"),
            "pruned_step": attrs.get("pruned_step")}


def kendall_tau(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    from scipy.stats import kendalltau

    tau = kendalltau(a, b).statistic
    return None if tau is None or not math.isfinite(tau) else round(float(tau), 3)


def proxy_stats(trials: list[TrialRecord], maximize: bool) -> list[ProxyStats]:
    complete = [t for t in trials if t.state == "COMPLETE" and t.score is not None]
    full_cost = [t.eval_s for t in complete if t.eval_s]
    mean_full = float(np.mean(full_cost)) if full_cost else None
    out = []
    for name in dict.fromkeys(n for t in trials for n in t.proxy_scores):
        scored = [t for t in trials if name in t.proxy_scores]
        both = [t for t in complete if name in t.proxy_scores]
        higher = next(t.proxy_higher.get(name, True) for t in scored)
        proxy = [(1 if higher else -1) * t.proxy_scores[name] for t in both]
        full = [(1 if maximize else -1) * float(t.score) for t in both]  # type: ignore[arg-type]
        costs = [t.proxy_costs.get(name, 0.0) for t in scored]
        pruned = sum(1 for t in scored if t.state == "PRUNED" and t.pruned_step == 0 and t.proxy == name)
        out.append(ProxyStats(name=name, n_scored=len(scored), n_both=len(both), kendall_tau=kendall_tau(proxy, full),
                              cost_fraction=round(float(np.mean(costs)) / mean_full, 4) if mean_full else None,
                              pruned=pruned))
    return out
