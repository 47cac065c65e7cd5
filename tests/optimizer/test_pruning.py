"""Proxy and fold-wise pruning inside one trial, and what pruned trials may not do (ensemble, export)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from t2ml.agents import ensemble, proxies
from t2ml.agents.messages import ModuleCandidate, TrialRecord, VerifiedModule
from t2ml.agents.pruning import ProxyFoldPruner, PruneSettings, proxy_stats
from t2ml.agents.scheduler import EvalSlot, TrialContext, record_of
from t2ml.agents.trial_eval import ProxyTrial
from t2ml.sandbox import LocalSandbox
from t2ml.templates import library
from t2ml.agents.clients.builtin import plan
from t2ml.orchestrator.intake import read_table
from t2ml.orchestrator.profile import build_profile
from t2ml.agents.messages import TaskSpec

# A hopeless model: the same probabilities for every row (ROC AUC 0.5).
CONSTANT = '''"""Predicts the class prior for every row (planted by the test)."""
import numpy as np
from sklearn.base import BaseEstimator

SEARCH_SPACE = {}


class PlantedConstant(BaseEstimator):
    def __init__(self, task=None):
        self.task = task

    def fit(self, X, y):
        y = np.asarray(y).astype("int64")
        self.prior_ = np.bincount(y, minlength=2) / len(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)
'''


def _cand(module: str, variant: str, source: str) -> ModuleCandidate:
    parsed = library.parse_source(source)
    return ModuleCandidate(module=module, variant=variant, class_name=parsed.class_name, source=source,
                           search_space=parsed.search_space, defaults=parsed.defaults, provenance="template")


def titanic_modules(titanic: dict[str, Path]) -> tuple[list[VerifiedModule], dict[str, Any]]:
    profile = build_profile(read_table(titanic["train"]), TaskSpec(text="who survived", train_path=str(titanic["train"]),
                                                                    target="survived"))
    modules = []
    for spec in plan(profile).ordered():
        if spec.stage == "model":
            cands = [_cand(spec.name, "linear", library.template_source("model", "linear")),
                     _cand(spec.name, "constant", CONSTANT)]
        else:
            variant = library.variants_for(spec.kind, profile)[0]
            cands = [_cand(spec.name, variant, library.template_source(spec.kind, variant))]
        modules.append(VerifiedModule(module=spec.name, spec=spec, candidates=cands))
    return modules, profile.program_config(3, 0)


def run_trials(titanic: dict[str, Path], tmp_path: Path, settings: PruneSettings, variants: list[str]) -> optuna.Study:
    modules, config = titanic_modules(titanic)
    study = optuna.create_study(direction="maximize")
    for v in variants:
        study.enqueue_trial({"model.variant": v, "model.linear.C": 1.0} if v == "linear" else {"model.variant": v})
    ctx = TrialContext(modules=modules, oof_dir=tmp_path / "oof")

    async def go() -> None:
        async with LocalSandbox() as sbx:
            slot = EvalSlot(sbx, Path(titanic["train"]), config, modules)
            try:
                for _ in variants:
                    await ProxyTrial(settings)(ctx, slot, study, study.ask(), 120.0)
            finally:
                await slot.close()
    asyncio.run(go())
    return study


def test_hopeless_trial_is_pruned_after_one_fold_and_stays_out_of_the_ensemble(titanic: dict[str, Path],
                                                                                  tmp_path: Path) -> None:
    settings = PruneSettings(proxies=[], warmup_trials=2, min_peers=2)
    study = run_trials(titanic, tmp_path, settings, ["linear", "linear", "constant"])
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED]
    pruned = study.trials[2]
    assert pruned.user_attrs["pruned_step"] == 1 and sorted(pruned.intermediate_values) == [1]
    assert sorted(p.name for p in (tmp_path / "oof").iterdir()) == ["0.npy", "1.npy"]
    records = [record_of(t) for t in study.trials]
    assert records[2].state == "PRUNED" and records[2].score is None
    from t2ml.templates.program import runtime

    _, y = runtime.load_training(str(titanic["train"]), titanic_modules(titanic)[1])
    members, _ = ensemble.select(records, tmp_path / "oof", y, titanic_modules(titanic)[1], time_left=1e9)
    assert 2 not in [n for n, _ in members]
    assert study.best_trial.number in (0, 1)  # the exported pipeline comes from a COMPLETE trial


def test_proxy_reported_at_step_0_and_complete_trials_match_plain_cv(titanic: dict[str, Path], tmp_path: Path) -> None:
    settings = PruneSettings(proxies=["low_fidelity"], proxy_args={"low_fidelity": {"max_share": 1.0}},  # on titanic too
                             warmup_trials=1, min_peers=1, proxy_keep=0.01)
    study = run_trials(titanic, tmp_path, settings, ["linear", "constant"])
    first, second = study.trials
    assert first.state == TrialState.COMPLETE and 0 in first.intermediate_values
    assert first.user_attrs["proxy"] == "low_fidelity" and first.user_attrs["proxy_costs"]["low_fidelity"] > 0
    assert second.state == TrialState.PRUNED and second.user_attrs["pruned_step"] == 0  # by the proxy
    assert len(first.user_attrs["fold_scores"]) == 3 and abs(first.value - 0.84) < 0.05


def test_pruner_compares_proxies_only_with_the_same_proxy() -> None:
    study = optuna.create_study(direction="maximize")
    dist = {"x": FloatDistribution(0, 1)}
    for proxy, value in [("a", 0.9), ("a", 0.8), ("b", 100.0), ("b", 200.0)]:
        study.add_trial(create_trial(value=0.8, params={"x": 0.5}, distributions=dist, intermediate_values={0: value},
                                     user_attrs={"proxy": proxy, "proxy_higher_is_better": True}))
    pruner = ProxyFoldPruner(PruneSettings(warmup_trials=2, min_peers=2))
    trial = create_trial(state=TrialState.RUNNING, params={"x": 0.5}, distributions=dist, intermediate_values={0: 0.95},
                         user_attrs={"proxy": "a", "proxy_higher_is_better": True})
    assert not pruner.prune(study, trial)  # good for proxy a, although far below proxy b's scale
    trial.intermediate_values = {0: 50.0}
    trial.user_attrs = {"proxy": "b", "proxy_higher_is_better": True}
    assert pruner.prune(study, trial)
    assert not ProxyFoldPruner(PruneSettings(warmup_trials=5, min_peers=2)).prune(study, trial)  # still warming up


def test_every_step_is_compared_with_every_trial_that_reached_it() -> None:
    """Successive halving: at step 0 the proxies of pruned trials count too, and after fold s the running means
    of pruned trials that got that far count too. Compared with the survivors only, the bar rises to the best
    few (an elite that all passed the same rule) and almost nothing passes."""
    study = optuna.create_study(direction="maximize")
    dist = {"x": FloatDistribution(0, 1)}
    attrs = {"proxy": "a", "proxy_higher_is_better": True}
    for value in (0.9, 0.8):
        study.add_trial(create_trial(value=0.85, params={"x": 0.5}, distributions=dist,
                                     intermediate_values={0: value, 1: 0.85}, user_attrs=attrs))
    for value in (0.1, 0.2, 0.3):
        study.add_trial(create_trial(state=TrialState.PRUNED, params={"x": 0.5}, distributions=dist,
                                     intermediate_values={0: value, 1: 0.5}, user_attrs=attrs))
    study.add_trial(create_trial(state=TrialState.PRUNED, params={"x": 0.5}, distributions=dist,
                                 intermediate_values={0: 0.05}, user_attrs=attrs))  # stopped at step 0: not a fold-1 peer
    pruner = ProxyFoldPruner(PruneSettings(warmup_trials=2, min_peers=2, proxy_keep=0.35, fold_keep=0.5))
    trial = create_trial(state=TrialState.RUNNING, params={"x": 0.5}, distributions=dist, intermediate_values={0: 0.7},
                         user_attrs=attrs)
    assert not pruner.prune(study, trial)  # below both survivors' proxies, but within the best 35% of all six
    trial.intermediate_values = {0: 0.25}
    assert pruner.prune(study, trial)
    trial.intermediate_values = {0: 0.7, 1: 0.6}
    assert not pruner.prune(study, trial)  # below both complete trials' fold 1, but in the best half of all five
    trial.intermediate_values = {0: 0.7, 1: 0.45}
    assert pruner.prune(study, trial)


def test_low_fidelity_is_used_only_where_it_is_cheaper_than_a_fold(titanic: dict[str, Path], tmp_path: Path) -> None:
    lowfi = proxies.get("low_fidelity")
    assert lowfi.worth_it(20000) and not lowfi.worth_it(19999) and not lowfi.worth_it(3600)  # 300 rows <= 1.5% of the data
    settings = PruneSettings(proxies=["low_fidelity"], proxy_args={"low_fidelity": {"max_share": 0.1}},
                             warmup_trials=1, min_peers=1, fold_keep=0.01)
    study = run_trials(titanic, tmp_path, settings, ["linear", "constant"])
    first, second = study.trials
    assert first.state == TrialState.COMPLETE and "proxy" not in first.user_attrs and 0 not in first.intermediate_values
    assert second.state == TrialState.PRUNED and second.user_attrs["pruned_step"] == 1  # the first fold is the check


def test_kendall_tau_and_cost_fraction() -> None:
    def rec(n: int, state: str, score: float | None, lowfi: float, naswot: float | None = None) -> TrialRecord:
        scores = {"low_fidelity": lowfi, **({"naswot": naswot} if naswot is not None else {})}
        return TrialRecord(number=n, state=state, params={}, score=score, proxy="low_fidelity", proxy_scores=scores,
                           proxy_costs={k: 0.5 for k in scores}, proxy_higher={k: True for k in scores}, eval_s=5.0,
                           pruned_step=0 if state == "PRUNED" else None)
    trials = [rec(0, "COMPLETE", 0.9, 0.8, 1.0), rec(1, "COMPLETE", 0.8, 0.7, 3.0), rec(2, "COMPLETE", 0.7, 0.6, 2.0),
              rec(3, "PRUNED", None, 0.1)]
    stats = {s.name: s for s in proxy_stats(trials, maximize=True)}
    assert stats["low_fidelity"].kendall_tau == pytest.approx(1.0) and stats["low_fidelity"].n_both == 3
    assert stats["low_fidelity"].cost_fraction == pytest.approx(0.1) and stats["low_fidelity"].pruned == 1
    assert stats["naswot"].kendall_tau == pytest.approx(-1 / 3, abs=1e-3) and stats["naswot"].n_scored == 3
    flipped = {s.name: s for s in proxy_stats([t.model_copy(update={"score": -t.score} if t.score else {})
                                               for t in trials], maximize=False)}
    assert flipped["low_fidelity"].kendall_tau == pytest.approx(1.0)  # oriented by the metric's direction
