"""Benchmark t2ml against a HistGradientBoosting baseline, FLAML and AutoGluon at equal time budgets.

    python -m benchmarks.run [--budget 120] [--datasets all] [--systems all] [--fresh]

Each (system, dataset) runs in its own process (wall time and peak memory measured per run); finished
pairs are kept in benchmarks/results/ and skipped on the next call unless --fresh. Writes
benchmarks/RESULTS.md and benchmarks/results.png.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .datasets import DATASETS
from .report import write_results
from .systems import SYSTEMS

HERE = Path(__file__).resolve().parent
GRACE_S = 300  # a peer overshooting its budget by more than this is killed and shown as failed


def run_pair(system: str, dataset: str, budget: float, seed: int, out: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.child", "--system", system, "--dataset", dataset,
           "--budget", str(budget), "--seed", str(seed), "--out", str(out)]
    start = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True, timeout=budget + GRACE_S)
        wall = time.monotonic() - start
        if out.exists():
            result = json.loads(out.read_text())
        else:
            result = {"ok": False, "error": f"exit code {done.returncode}: {done.stderr[-400:]}"}
    except subprocess.TimeoutExpired:
        wall = time.monotonic() - start
        result = {"ok": False, "error": f"killed after {wall:.0f}s (budget {budget:.0f}s + {GRACE_S}s grace)"}
    result.update(system=system, dataset=dataset, task=DATASETS[dataset].task, wall_s=round(wall, 1),
                  budget_s=budget, command=" ".join(cmd[1:]))
    out.write_text(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--datasets", default="all", help=f"comma list of {','.join(DATASETS)}")
    parser.add_argument("--systems", default="all", help=f"comma list of {','.join(SYSTEMS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true", help="re-run pairs that already have a result")
    args = parser.parse_args()
    datasets = list(DATASETS) if args.datasets == "all" else args.datasets.split(",")
    systems = list(SYSTEMS) if args.systems == "all" else args.systems.split(",")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    for dataset in datasets:
        for system in systems:
            out = results_dir / f"{dataset}__{system}.json"
            if out.exists() and not args.fresh and json.loads(out.read_text()).get("budget_s") == args.budget:
                continue
            res = run_pair(system, dataset, args.budget, args.seed, out)
            status = res.get("scores") if res.get("ok") else res.get("error")
            print(f"{dataset:14s} {system:10s} {res['wall_s']:7.1f}s  {status}", flush=True)
    write_results(results_dir, HERE / "RESULTS.md", HERE / "results.png", args.budget, " ".join(sys.argv[1:]))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
