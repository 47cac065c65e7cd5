"""The report's section on proxies and pruning: each proxy's cost and Kendall tau, and a plot of
proxy vs full score (``proxies.png``, when matplotlib is installed)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from t2ml.agents.messages import StudyResult
from t2ml.agents.pruning import PruneSettings


def variant_names(params: dict[str, Any]) -> str:
    return ", ".join(f"{k.split('.')[0]}={v}" for k, v in params.items() if k.endswith(".variant"))


def _plot(study: StudyResult, path: Path, metric: str) -> str | None:
    """Draw proxies.png; None when drawn, else why not."""
    names = [s.name for s in study.proxy_stats if s.n_both]
    if not names:
        return "no trial got both a proxy score and the full evaluation"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed"
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False)
    for ax, name in zip(axes[0], names):
        both = [t for t in study.trials if t.state == "COMPLETE" and t.score is not None and name in t.proxy_scores]
        ax.scatter([t.proxy_scores[name] for t in both], [t.score for t in both], s=12)
        tau = next(s.kendall_tau for s in study.proxy_stats if s.name == name)
        ax.set_title(f"{name} (tau {tau if tau is not None else 'n/a'})", fontsize=9)
        ax.set_xlabel("proxy score")
        ax.set_ylabel(f"full CV {metric}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


def proxy_section(study: StudyResult, run_dir: Path, metric: str) -> list[str]:
    pruned = [t for t in study.trials if t.state == "PRUNED"]
    if not study.pruning:
        return ["\n\n## Proxies and pruning\n", "Pruning was off (`--no-prune`): every trial got the full evaluation."]
    at_proxy = [t for t in pruned if t.pruned_step == 0]
    rule = PruneSettings()  # the run uses the defaults (only --no-prune changes them)
    out = ["\n\n## Proxies and pruning\n",
           f"{len(pruned)} of {len(study.trials)} trials were pruned: {len(at_proxy)} by their proxy score (step 0), "
           f"{len(pruned) - len(at_proxy)} after one or more folds. Pruned trials are not in the ensemble or the "
           "program. The rule:\n\n"
           "- Step 0: a trial the proxies apply to gets them all, but only the first (the table's first row that "
           f"scored it) decides: it goes on if its score is in the best {rule.proxy_keep:.0%} of every trial that "
           "proxy scored.\n"
           f"- After fold s: it goes on if the mean of its first s fold scores is in the best {rule.fold_keep:.0%} of "
           "every trial that reached fold s. The bar rises as better trials arrive, so a trial stopped late can sit "
           "above a complete one that was judged earlier.\n"
           f"- Nothing is pruned before {rule.warmup_trials} trials completed (the first trials always complete), or "
           f"with fewer than {rule.min_peers} trials to compare with at that step.\n\n"
           "Kendall tau compares each proxy's ranking with the full score's, on the trials that got both: +1 is the "
           "same ranking; with fewer than 3 such trials it is n/a, and the proxy still prunes by its own ranking. "
           "Cost is the proxy's mean time as a share of a full evaluation.\n"]
    rows = ["| proxy | trials scored | with full score | Kendall tau | cost / full evaluation | pruned at step 0 |",
            "|---|---|---|---|---|---|"]
    for s in study.proxy_stats:
        tau = f"{s.kendall_tau:+.3f}" if s.kendall_tau is not None else "n/a (fewer than 3 with both)"
        cost = f"{s.cost_fraction:.1%}" if s.cost_fraction is not None else "n/a"
        rows.append(f"| {s.name} | {s.n_scored} | {s.n_both} | {tau} | {cost} | {s.pruned} |")
    out.append("\n".join(rows) if study.proxy_stats else "No proxy applied to the searched variants.")
    why_not = _plot(study, run_dir / "proxies.png", metric) if study.proxy_stats else None
    if study.proxy_stats:
        out.append("\n\n![proxy vs full score (complete trials only)](proxies.png)" if why_not is None
                   else f"\n\n(No plot of proxy vs full score: {why_not}.)")
    if at_proxy:
        out.append("\n\nStopped by their proxy score: " + "; ".join(
            f"trial {t.number + 1} ({t.proxy} {t.proxy_scores.get(t.proxy or '', float('nan')):.4g}, "
            f"{variant_names(t.params)})" for t in at_proxy[:10]) + (" ..." if len(at_proxy) > 10 else "") + ".")
    stopped = [t for t in pruned if t.running_score is not None]
    if stopped:
        best = sorted(stopped, key=lambda t: t.running_score or 0.0, reverse=study.direction == "maximize")[:10]
        out.append(f"\n\nTrials stopped after some folds (the best {len(best)} of {len(stopped)} by their running "
                   "score: the mean raw score of the folds they ran, before any post-processor such as a "
                   "threshold):\n")
        out.append("\n".join(["| trial | stopped after fold | running score | time | variants |", "|---|---|---|---|---|"]
                              + [f"| {t.number + 1} | {t.pruned_step} | {t.running_score:.4f} | {t.duration_s:.1f}s | "
                                 f"{variant_names(t.params)} |" for t in best]))
    return out
