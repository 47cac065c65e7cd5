"""The report's pruning section: which trials were stopped, where, and at what running score."""
from __future__ import annotations

from t2ml.agents.messages import ProxyStats, StudyResult, TrialRecord
from t2ml.orchestrator.report_proxies import proxy_section


def _study(trials: list[TrialRecord], stats: list[ProxyStats]) -> StudyResult:
    return StudyResult(best_params=trials[0].params, best_score=trials[0].score or 0.0, best_std=0.01,
                       direction="maximize", trials=trials, stopped_because="trial budget reached", elapsed_s=1.0,
                       pruning=True, proxy_stats=stats)


def test_stopped_trials_are_listed_best_first_with_their_fold_and_running_score(tmp_path):
    params = {"model.variant": "forest", "scale.variant": "none"}
    trials = [TrialRecord(number=0, state="COMPLETE", params=params, score=0.86)]
    trials += [TrialRecord(number=i, state="PRUNED", params=params, pruned_step=1 + i % 3, running_score=0.70 + i / 100)
               for i in range(1, 14)]
    trials.append(TrialRecord(number=14, state="PRUNED", params=params, pruned_step=0, proxy="naswot",
                              proxy_scores={"naswot": 1.0}))
    text = "".join(proxy_section(_study(trials, []), tmp_path, "roc_auc"))
    assert "14 of 15 trials were pruned: 1 by their proxy score (step 0), 13 after one or more folds" in text
    assert "Stopped by their proxy score: trial 15 (naswot 1, model=forest, scale=none)." in text
    assert "the best 10 of 13 by their running score" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "forest" in line]
    assert len(rows) == 10
    assert rows[0].startswith("| 14 | 2 | 0.8300 |")  # 1-based trial 14: the best running score, after fold 2
    assert [int(r.split("|")[1]) for r in rows] == list(range(14, 4, -1))  # the three worst (2-4) are left out


def test_missing_proxy_plot_says_why(tmp_path):
    params = {"model.variant": "mlp"}
    trials = [TrialRecord(number=0, state="COMPLETE", params=params, score=0.8),
              TrialRecord(number=1, state="PRUNED", params=params, pruned_step=0, proxy="naswot",
                          proxy_scores={"naswot": 2.0})]
    stats = [ProxyStats(name="naswot", n_scored=1, n_both=0, kendall_tau=None, cost_fraction=0.02, pruned=1)]
    text = "".join(proxy_section(_study(trials, stats), tmp_path, "roc_auc"))
    assert "(No plot of proxy vs full score: no trial got both a proxy score and the full evaluation.)" in text
    assert not (tmp_path / "proxies.png").exists()
