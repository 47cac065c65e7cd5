"""The report's section on proxies and pruning: each proxy's cost and Kendall tau, and a plot of
proxy vs full score (``proxies.png``, when matplotlib is installed)."""
from __future__ import annotations

from pathlib import Path

from t2ml.agents.messages import StudyResult


def _plot(study: StudyResult, path: Path, metric: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [s.name for s in study.proxy_stats if s.n_both]
    if not names:
        return False
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
    return True


def proxy_section(study: StudyResult, run_dir: Path, metric: str) -> list[str]:
    pruned = [t for t in study.trials if t.state == "PRUNED"]
    if not study.pruning:
        return ["\n\n## Proxies and pruning\n", "Pruning was off (`--no-prune`): every trial got the full evaluation."]
    at_proxy = sum(1 for t in pruned if t.pruned_step == 0)
    out = ["\n\n## Proxies and pruning\n",
           f"{len(pruned)} of {len(study.trials)} trials were pruned: {at_proxy} by their proxy score (step 0), "
           f"{len(pruned) - at_proxy} after one or more folds. Pruned trials are not in the ensemble or the program. "
           "Kendall tau is measured on the trials that got both the proxy and the full evaluation (the first "
           "trials are never pruned, so this holds for them whatever the proxy says); +1 means the proxy ranks "
           "trials exactly as the full score does. Cost is the proxy's mean time as a share of a full evaluation.\n"]
    rows = ["| proxy | trials scored | with full score | Kendall tau | cost / full evaluation | pruned at step 0 |",
            "|---|---|---|---|---|---|"]
    for s in study.proxy_stats:
        tau = f"{s.kendall_tau:+.3f}" if s.kendall_tau is not None else "n/a (fewer than 3 pairs)"
        cost = f"{s.cost_fraction:.1%}" if s.cost_fraction is not None else "n/a"
        rows.append(f"| {s.name} | {s.n_scored} | {s.n_both} | {tau} | {cost} | {s.pruned} |")
    out.append("\n".join(rows) if study.proxy_stats else "No proxy applied to the searched variants.")
    if _plot(study, run_dir / "proxies.png", metric):
        out.append("\n\n![proxy vs full score](proxies.png)")
    elif study.proxy_stats:
        out.append("\n\n(No plot of proxy vs full score: matplotlib is not installed, or no trial got both.)")
    return out
