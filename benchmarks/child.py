"""Run ONE system on ONE dataset in this process; write a JSON result. Used by run.py via subprocess."""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import traceback
from pathlib import Path

from .datasets import DATASETS
from .report import git_commit, versions
from .scoring import score
from .systems import SYSTEMS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ds = DATASETS[args.dataset]
    train, test = ds.load()
    result = {"system": args.system, "dataset": args.dataset, "task": ds.task, "rows_train": len(train),
              "rows_test": len(test), "columns": train.shape[1] - 1, "commit": git_commit(),
              "versions": versions()}
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{args.system}-") as work:
            pred = SYSTEMS[args.system](train, test.drop(columns=[ds.target]), ds, args.budget, Path(work), args.seed)
        result["fit_predict_s"] = time.monotonic() - start
        result["scores"] = score(ds.task, test[ds.target], pred)
        result["ok"] = True
    except Exception as exc:  # a failing system is a result, not a crash of the benchmark
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:500], traceback=traceback.format_exc()[-2000:],
                      fit_predict_s=time.monotonic() - start)
    rss = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    result["peak_rss_mb"] = round(max(rss) / 1024, 1)
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
