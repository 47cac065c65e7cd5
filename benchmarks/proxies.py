"""Proxy pruning, measured: the same seed and number of trials with and without pruning, side by side.

    python -m benchmarks.proxies [--trials 60] [--datasets titanic,credit,penguins] [--seeds 0,1,2] [--work DIR]

Per dataset and seed, two t2ml runs (training rows only; the held-out rows are never used) with a time budget
large enough that the trial count, not the clock, ends the search: `--no-prune` and the default.
Prints and writes benchmarks/PROXIES.md: total evaluation time (sum over trials of proxy + folds),
its ratio, the final CV score of the exported program and the relative loss, how many trials were
pruned, and per proxy its Kendall tau with the full score and its cost as a share of a full evaluation;
then per dataset over all seeds: the ratio of the summed evaluation times and the mean and worst loss.
One seed's loss mostly measures where each search happened to go; the mean over seeds is the figure.
Not a timed test: the numbers depend on the machine and its load. Run folders stay in --work
(default: a temporary folder); a finished `--no-prune` run found there is reused (same seed and
trials give the same search), so tuning the pruning settings re-runs only the pruned side.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .datasets import DATASETS

HERE = Path(__file__).resolve().parent
PROXIES = ["low_fidelity", "naswot", "synflow", "grad_norm"]
NOTES = "<!-- notes: kept when the benchmark rewrites the tables above -->"


def one_run(dataset: str, train: Path, trials: int, seed: int, prune: bool, out: Path) -> dict[str, Any]:
    import t2ml

    d = DATASETS[dataset]
    start = time.monotonic()
    name = f"{dataset}-{'prune' if prune else 'full'}-t{trials}-s{seed}"
    if not prune and (out / name / "state" / "export.json").is_file():
        summary = t2ml.RunSummary.model_validate_json((out / name / "state" / "export.json").read_text())
    else:
        shutil.rmtree(out / name, ignore_errors=True)
        summary = t2ml.run(d.description, str(train), target=d.target, trials=trials, seed=seed, time_budget="60m",
                           sandbox="local", out=str(out), name=name, prune=prune)
    study = json.loads((out / name / "state" / "optimize.json").read_text())
    trials_ = study["trials"]
    return {"cv": summary.cv_score, "metric": summary.metric, "direction": study["direction"],
            "eval_s": sum(t["duration_s"] for t in trials_), "n": len(trials_),
            "pruned": sum(t["state"] == "PRUNED" for t in trials_),
            "pruned_at_proxy": sum(t["state"] == "PRUNED" and t.get("pruned_step") == 0 for t in trials_),
            "best_single": study["best_score"], "stats": {s["name"]: s for s in study.get("proxy_stats", [])},
            "wall_s": time.monotonic() - start}


def compare(dataset: str, trials: int, seed: int, work: Path) -> dict[str, Any]:
    train = work / f"{dataset}.csv"
    if not train.is_file():
        train_frame, _ = DATASETS[dataset].load()  # the test part is not used here
        train_frame.to_csv(train, index=False)
    full = one_run(dataset, train, trials, seed, False, work)
    pruned = one_run(dataset, train, trials, seed, True, work)
    sign = 1.0 if full["direction"] == "maximize" else -1.0
    loss = sign * (full["cv"] - pruned["cv"]) / abs(full["cv"])
    return {"dataset": dataset, "seed": seed, "full": full, "prune": pruned,
            "speedup": full["eval_s"] / max(pruned["eval_s"], 1e-9), "rel_loss": loss}


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def table(rows: list[dict[str, Any]]) -> str:
    head = ["dataset", "seed", "metric", "trials", "eval time full", "eval time pruned", "speed-up", "CV full", "CV pruned",
            "relative loss", "pruned (at proxy)"] + [f"tau {p}" for p in PROXIES] + [f"cost {p}" for p in PROXIES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        f, p, stats = r["full"], r["prune"], r["prune"]["stats"]
        taus = [_fmt(stats[n]["kendall_tau"], "+.2f") + f" (n={stats[n]['n_both']})" if n in stats else "-" for n in PROXIES]
        costs = [_fmt(stats[n]["cost_fraction"], ".1%") if n in stats else "-" for n in PROXIES]
        lines.append("| " + " | ".join([r["dataset"], str(r["seed"]), f["metric"], str(f["n"]), f"{f['eval_s']:.0f}s", f"{p['eval_s']:.0f}s",
                                        f"{r['speedup']:.2f}x", f"{f['cv']:.4f}", f"{p['cv']:.4f}", f"{r['rel_loss']:+.2%}",
                                        f"{p['pruned']} ({p['pruned_at_proxy']})", *taus, *costs]) + " |")
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]]) -> str:
    """Per dataset over its seeds: summed evaluation times and their ratio, mean and worst relative loss."""
    lines = ["| dataset | seeds | eval time full | eval time pruned | speed-up | mean relative loss | worst |",
             "|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        full, pruned = sum(r["full"]["eval_s"] for r in mine), sum(r["prune"]["eval_s"] for r in mine)
        losses = [r["rel_loss"] for r in mine]
        lines.append(f"| {name} | {len(mine)} | {full:.0f}s | {pruned:.0f}s | {full / max(pruned, 1e-9):.2f}x | "
                     f"{sum(losses) / len(losses):+.2%} | {max(losses):+.2%} |")
    return "\n".join(lines)


def write(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    total_full = sum(r["full"]["eval_s"] for r in rows)
    total_prune = sum(r["prune"]["eval_s"] for r in rows)
    mean_loss = sum(r["rel_loss"] for r in rows) / len(rows)
    text = (f"# Proxy pruning: measured\n\n`python -m benchmarks.proxies --trials {args.trials} --datasets "
            f"{','.join(dict.fromkeys(r['dataset'] for r in rows))} --seeds {args.seeds}` on {platform.node() or 'this machine'} "
            f"({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, local sandbox).\n\n"
            "Same seed, same number of trials; left: `--no-prune` (every trial gets the full 5-fold CV), right: "
            "default pruning (see the settings below). Evaluation time = sum over trials of proxy + fold time. CV = the "
            "exported program's cross-validated score (ensemble when chosen). Relative loss > 0 means pruning "
            "scored worse. tau = Kendall rank correlation of the proxy with the full CV score on trials that got "
            "both (+1 = same ranking); cost = the proxy's mean time as a share of a full evaluation.\n\n"
            f"Pruning settings: {settings_line()}.\n\n"
            + table(rows) + "\n\nPer dataset, over its seeds:\n\n" + summary(rows)
            + f"\n\nAll runs: evaluation time {total_full:.0f}s without pruning, {total_prune:.0f}s with pruning "
            f"({total_full / max(total_prune, 1e-9):.2f}x), mean relative loss {mean_loss:+.2%}; target: at least 2x "
            "for at most 0.3% relative loss.\n")
    out = HERE / "PROXIES.md"
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    if NOTES in old:  # the hand-written reading of the numbers below the marker is kept
        text += "\n" + old[old.index(NOTES):]
    out.write_text(text, encoding="utf-8")
    return text


def settings_line() -> str:
    from t2ml.agents import proxies
    from t2ml.agents.pruning import PruneSettings

    s, lowfi = PruneSettings(), proxies.get("low_fidelity")
    return (f"proxies {', '.join(s.proxies)} (the first that applies is reported at step 0; low_fidelity only where "
            f"its {lowfi.max_rows} rows are at most {lowfi.max_share:.1%} of the data); step 0 goes on if the proxy is in the best "
            f"{s.proxy_keep:.0%} of every trial scored by the same proxy; after each fold, if the running mean is in "
            f"the best {s.fold_keep:.0%} of every trial that reached that fold (same folds); TPE sees a trial stopped after "
            f"some folds at its estimated full score; no pruning before "
            f"{s.warmup_trials} trials completed or with fewer than {s.min_peers} to compare with")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60, help="trials per run (60: the default of t2ml run)")
    parser.add_argument("--datasets", default="titanic,credit,penguins")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds; each runs both sides")
    parser.add_argument("--work", help="folder for the run folders (kept; finished --no-prune runs are reused)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="t2ml-proxies-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for seed in (int(x) for x in args.seeds.split(",")):
            for name in args.datasets.split(","):
                rows.append(compare(name, args.trials, seed, work))
                print(table(rows[-1:]), flush=True)
    print(write(rows, args))


if __name__ == "__main__":
    main()
