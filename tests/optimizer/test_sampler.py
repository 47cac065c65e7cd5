"""The sampler sees a trial stopped after some folds at its estimated full score, not below every complete trial."""
from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from agents.sampler import make_sampler, with_estimates

X = FloatDistribution(0.0, 10.0)


def _trials() -> list:
    """Four complete trials near x=2 (final 0.80, running mean after fold 1 is 0.05 lower), and six trials near
    x=8 stopped after fold 1 at 0.84: had they gone on, they would likely have ended near 0.89, above all."""
    out = []
    for x, final in ((1.5, 0.79), (2.0, 0.80), (2.5, 0.81), (3.0, 0.78)):
        out.append(create_trial(state=TrialState.COMPLETE, value=final, params={"x": x}, distributions={"x": X},
                                intermediate_values={1: final - 0.05, 2: final - 0.02, 3: final}))
    for x in (7.5, 7.8, 8.0, 8.2, 8.5, 8.8):
        out.append(create_trial(state=TrialState.PRUNED, value=0.84, params={"x": x}, distributions={"x": X},
                                intermediate_values={1: 0.84}))
    out.append(create_trial(state=TrialState.PRUNED, value=None, params={"x": 5.0}, distributions={"x": X},
                            intermediate_values={0: 123.0}))  # stopped at its proxy: no fold, stays pruned
    return out


def test_estimate_is_running_mean_plus_the_complete_trials_paired_gap() -> None:
    shown = with_estimates(_trials())
    assert [t.state for t in shown[:4]] == [TrialState.COMPLETE] * 4
    assert [t.value for t in shown[:4]] == [0.79, 0.80, 0.81, 0.78]
    for t in shown[4:10]:
        assert t.state == TrialState.COMPLETE
        assert t.value == pytest.approx(0.84 + 0.05)
    assert shown[10].state == TrialState.PRUNED


def test_estimate_needs_complete_trials_at_that_step() -> None:
    trials = _trials()
    only_one = [trials[0]] + trials[4:]
    assert all(t.state == TrialState.PRUNED for t in with_estimates(only_one)[1:])


def _next_xs(sampler: optuna.samplers.BaseSampler) -> list[float]:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trials(_trials())
    xs = []
    for _ in range(12):
        trial = study.ask({"x": X})
        xs.append(trial.params["x"])
        study.tell(trial, state=TrialState.FAIL)  # failed trials are ignored by TPE: every draw sees the same history
    return xs


def test_search_goes_where_the_pruned_trials_were_promising() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        plain = optuna.samplers.TPESampler(seed=0, multivariate=True, group=True, n_startup_trials=8, constant_liar=True)
    ours, theirs = np.median(_next_xs(make_sampler(0))), np.median(_next_xs(plain))
    assert ours > 6.0, f"the search stayed near the complete trials (median x {ours:.2f})"
    assert theirs < 4.5, f"plain TPE is expected to stay near the complete trials (median x {theirs:.2f})"
