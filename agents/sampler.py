"""The search's sampler: Optuna's TPE, told what a trial stopped after k folds would likely have scored.

Plain TPE ranks every PRUNED trial below every COMPLETE one. With fold pruning most trials are pruned,
so its "good" group becomes the few complete trials (the warm-up defaults first) and the search stays
near them: a HistGradientBoosting trial stopped after a weak first fold never pulls the search its way
again, however close it was. Here a trial stopped after k >= 1 folds is shown to TPE as complete, with
the value it would likely have reached: its running mean over those k folds plus the mean gap between
the complete trials' final score and their own running mean over the same k folds (every trial sees the
same folds, so the gap is paired). A trial stopped at its proxy (step 0, no fold) stays PRUNED: proxies
are on their own scales. Only what TPE sees changes; the study, the pruner, the report and the export
still see a pruned trial.
"""
from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Container

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import TPESampler
from optuna.trial import FrozenTrial, TrialState

MIN_PAIRED = 2  # complete trials needed at a step before its gap is trusted


def with_estimates(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """``trials`` with each PRUNED trial stopped after k >= 1 folds replaced by a COMPLETE copy whose
    value is its estimated full score (see the module doc). Others are returned as they are."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)]
    gaps: dict[int, list[float]] = {}
    for t in complete:
        for step, mean in t.intermediate_values.items():
            if step >= 1 and math.isfinite(mean):
                gaps.setdefault(step, []).append(float(t.value) - mean)  # type: ignore[arg-type]
    out = []
    for t in trials:
        step = t.last_step if t.state == TrialState.PRUNED else None
        mean = t.intermediate_values.get(step) if step else None
        if mean is None or not math.isfinite(mean) or len(gaps.get(step, ())) < MIN_PAIRED:  # type: ignore[arg-type]
            out.append(t)
            continue
        shown = copy.copy(t)
        shown.state = TrialState.COMPLETE
        shown.value = mean + float(np.mean(gaps[step]))  # type: ignore[index]
        out.append(shown)
    return out


class _EstimatedView:
    """The study as TPE reads it: the same in every way but ``_get_trials``, which adds the estimates."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None,
                    use_cache: bool = False) -> list[FrozenTrial]:
        trials = self._study._get_trials(deepcopy=deepcopy, states=states, use_cache=use_cache)
        return with_estimates(trials)

    def get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        return self._get_trials(deepcopy=deepcopy, states=states)


class FoldAwareTPESampler(TPESampler):
    """TPE that ranks trials stopped after some folds by their estimated full score (module doc)."""

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return super().sample_relative(_EstimatedView(study), trial, search_space)  # type: ignore[arg-type]

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return super().sample_independent(_EstimatedView(study), trial, param_name,  # type: ignore[arg-type]
                                          param_distribution)


def make_sampler(seed: int) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():  # multivariate/group/constant_liar are flagged experimental upstream
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return FoldAwareTPESampler(seed=seed, multivariate=True, group=True, n_startup_trials=8, constant_liar=True)
