"""RESULTS.md (+ results.png) from the per-pair JSON results."""
from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

from t2ml.versions import installed

from .scoring import PRIMARY

SYSTEM_ORDER = ["t2ml", "hgb", "flaml", "autogluon"]
PACKAGES = ["t2ml", "scikit-learn", "catboost", "optuna", "flaml", "autogluon.tabular", "lightgbm", "xgboost",
            "pandas", "numpy"]


def versions() -> dict[str, str]:
    """The versions this process sees (stored with each result: a partial re-run mixes environments)."""
    found = {p: installed(p) for p in PACKAGES}
    return {**{p: v for p, v in found.items() if v}, "python": platform.python_version()}


def _versions_lines(results: dict) -> list[str]:
    by_system: dict[str, set[str]] = {}
    for (_, system), r in sorted(results.items()):
        if r.get("versions"):
            by_system.setdefault(system, set()).add(", ".join(f"{p} {v}" for p, v in r["versions"].items()))
    if not by_system:  # results from before versions were recorded per result: this process's versions
        return [", ".join(f"{p} {v}" for p, v in versions().items())]
    return [f"- {s}: " + " | ".join(sorted(v)) for s, v in by_system.items()]


def _load(results_dir: Path) -> dict[tuple[str, str], dict]:
    out = {}
    for path in sorted(results_dir.glob("*.json")):
        r = json.loads(path.read_text())
        out[(r["dataset"], r["system"])] = r
    return out


def _normalized(results: dict, dataset: str, systems: list[str], task: str) -> dict[str, float]:
    metric, direction = PRIMARY[task]
    scores = {s: results[(dataset, s)]["scores"][metric] for s in systems
              if (dataset, s) in results and results[(dataset, s)].get("ok")}
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = (hi - lo) or 1.0
    return {s: (v - lo) / span if direction == "maximize" else (hi - v) / span for s, v in scores.items()}


def _cell(r: dict | None, metric: str) -> str:
    if r is None:
        return "not run"
    if not r.get("ok"):
        return f"failed: {r.get('error', '?')[:80]}"
    return f"{r['scores'][metric]:.4f} ({r['wall_s']:.0f}s, {r.get('peak_rss_mb', 0):.0f} MB)"


def _verdict(results: dict, datasets: list[str]) -> list[str]:
    wins = ties = losses = below_hgb = 0
    for d in datasets:
        metric, direction = PRIMARY[results[next(k for k in results if k[0] == d)]["task"]]
        get = lambda s: results.get((d, s), {}).get("scores", {}).get(metric) if results.get((d, s), {}).get("ok") else None  # noqa: E731
        ours, peers, hgb = get("t2ml"), [get("flaml"), get("autogluon")], get("hgb")
        peers = [p for p in peers if p is not None]
        sign = 1 if direction == "maximize" else -1
        if ours is not None and peers:
            best_peer = max(peers) if sign > 0 else min(peers)
            diff = sign * (ours - best_peer)
            wins, ties, losses = wins + (diff > 1e-9), ties + (abs(diff) <= 1e-9), losses + (diff < -1e-9)
        if ours is not None and hgb is not None and sign * (ours - hgb) < 0:
            below_hgb += 1
    overshoot = max((r["wall_s"] - r["budget_s"] for k, r in results.items() if k[1] == "t2ml"), default=0.0)
    peer_over = {s: max((r["wall_s"] - r["budget_s"] for k, r in results.items() if k[1] == s), default=0.0)
                 for s in ("flaml", "autogluon")}
    return [f"- t2ml vs the better of FLAML and AutoGluon: {wins} wins, {ties} ties, {losses} losses.",
            f"- t2ml below the default HistGradientBoosting baseline on {below_hgb} dataset(s).",
            f"- Largest wall time minus budget (includes process start and data loading): t2ml {overshoot:+.0f}s, "
            + ", ".join(f"{s} {v:+.0f}s" for s, v in peer_over.items()) + "."]


def _plot(results: dict, datasets: list[str], systems: list[str], png: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(datasets)), 3.8))
    width = 0.8 / len(systems)
    for i, s in enumerate(systems):
        vals = [_normalized(results, d, systems, results[next(k for k in results if k[0] == d)]["task"]).get(s, 0.0)
                for d in datasets]
        ax.bar([j + i * width for j in range(len(datasets))], vals, width, label=s)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(datasets))], datasets, rotation=20)
    ax.set_ylabel("normalized test score\n(1 = best, 0 = worst)")
    ax.legend(ncol=len(systems), fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return True


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def write_results(results_dir: Path, md_path: Path, png: Path, budget: float, argv: str) -> None:
    results = _load(results_dir)
    datasets = list(dict.fromkeys(d for d, _ in results))
    systems = [s for s in SYSTEM_ORDER if any(k[1] == s for k in results)]
    lines = [f"# Benchmark: t2ml vs HGB baseline, FLAML, AutoGluon at a {budget:.0f}s budget\n",
             "Produced by `python -m benchmarks.run` (last call: `" + argv + "`) on a 2-core machine ("
             + platform.platform() + "), shared with other work (timings are noisy). Commits per system: "
             + "; ".join(f"{s}: {', '.join(sorted({r.get('commit', '?') for k, r in results.items() if k[1] == s}))}"
                         for s in systems) + ".",
             "Fixed seeded train/test splits (see benchmarks/datasets.py); each system sees only the training part;",
             "one shared scorer on the test part: **ROC AUC** (binary), **accuracy** (multiclass; log loss also",
             "recorded in results/), **RMSE** (regression, lower is better). Cells: test score (wall time, peak RSS).\n",
             "| dataset | task | metric | " + " | ".join(systems) + " |", "|---|---|---|" + "---|" * len(systems)]
    for d in datasets:
        task = results[next(k for k in results if k[0] == d)]["task"]
        metric = PRIMARY[task][0]
        lines.append(f"| {d} | {task} | {metric} | " + " | ".join(_cell(results.get((d, s)), metric) for s in systems) + " |")
    lines += ["\nNormalized score per dataset (1 = best system, 0 = worst):\n",
              "| dataset | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for d in datasets:
        norm = _normalized(results, d, systems, results[next(k for k in results if k[0] == d)]["task"])
        lines.append(f"| {d} | " + " | ".join(f"{norm[s]:.2f}" if s in norm else "-" for s in systems) + " |")
    lines += ["\n## Verdict\n", *_verdict(results, datasets)]
    if _plot(results, datasets, systems, png):
        lines.append(f"\n![normalized scores]({png.name})")
    if (md_path.parent / "ANALYSIS.md").is_file():
        lines.append("\nWhere t2ml loses and why: [ANALYSIS.md](ANALYSIS.md).")
    lines += ["\n## Versions (as each result recorded them)\n", *_versions_lines(results),
              "\n## Command lines (per pair)\n", "```"]
    lines += [f"python {results[k]['command']}" for k in sorted(results) if results[k].get("command")]
    lines.append("```")
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
