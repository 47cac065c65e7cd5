"""--no-prune reaches the run's configuration; the report and run.json carry each proxy's tau and cost."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from t2ml.agents.messages import ProxyStats, StudyResult, TrialRecord
from t2ml.orchestrator import api
from t2ml.orchestrator.report_proxies import proxy_section


class _Captured(Exception):
    pass


@pytest.mark.parametrize("flag, expected", [((), True), (("--no-prune",), False)])
def test_no_prune_flag_reaches_run_config(run_cli: Any, monkeypatch: pytest.MonkeyPatch, titanic: dict[str, Path],
                                          flag: tuple[str, ...], expected: bool) -> None:
    seen: dict[str, Any] = {}

    def fake_run(config: Any, *args: Any, **kwargs: Any) -> None:
        seen["prune"] = config.prune
        raise _Captured

    monkeypatch.setattr(api, "Run", fake_run)
    result = run_cli("who survived", "--data", titanic["train"], "--sandbox", "local", *flag)
    assert isinstance(result.exception, _Captured) or seen, result.output
    assert seen["prune"] is expected


def test_report_section_shows_tau_cost_and_plot(tmp_path: Path) -> None:
    trials = [TrialRecord(number=i, state="COMPLETE", params={}, score=0.8 + i / 100, proxy="low_fidelity",
                          proxy_scores={"low_fidelity": 0.7 + i / 100}) for i in range(4)]
    trials.append(TrialRecord(number=4, state="PRUNED", params={}, proxy="low_fidelity", pruned_step=0,
                              proxy_scores={"low_fidelity": 0.1}))
    study = StudyResult(best_params={}, best_score=0.83, best_std=0.0, direction="maximize", trials=trials,
                        stopped_because="trial budget reached", elapsed_s=1.0, pruning=True,
                        proxy_stats=[ProxyStats(name="low_fidelity", n_scored=5, n_both=4, kendall_tau=1.0,
                                                cost_fraction=0.1, pruned=1)])
    text = "\n".join(proxy_section(study, tmp_path, "roc_auc"))
    assert "| low_fidelity | 5 | 4 | +1.000 | 10.0% | 1 |" in text
    assert "1 of 5 trials were pruned: 1 by their proxy score" in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "No plot" in text
    else:
        assert (tmp_path / "proxies.png").is_file() and "proxies.png" in text
    off = "\n".join(proxy_section(study.model_copy(update={"pruning": False}), tmp_path, "roc_auc"))
    assert "--no-prune" in off
