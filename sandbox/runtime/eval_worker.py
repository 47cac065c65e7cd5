"""Long-lived evaluation worker, run INSIDE the sandbox.

Protocol: one JSON request per line on stdin, one JSON reply per line on the original stdout.
Everything the evaluated code prints (Python or C level) is redirected to stderr, so it cannot
corrupt the protocol. Requests:
  {"op": "load", "data": "train.csv", "config": {...}}
  {"op": "evaluate", "steps": [{"name", "stage", "file", "class_name", "params"}], "folds": 5,
   "seed": 0, "max_rows": null}
  {"op": "proxy", "kind": "low_fidelity" | "synflow" | "naswot" | "grad_norm", "steps": [...], ...}
  {"op": "fold", "key": "trial-3", "steps": [...], "fold": 0, "folds": 5}   (one fold; raw score)
  {"op": "finish", "key": "trial-3", "steps": [...], "return_oof": true}   (after every fold)
  {"op": "forget", "key": "trial-3"}
  {"op": "ping"}
"""
import importlib.util
import json
import os
import sys
import time
import traceback

_proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
sys.path.insert(0, os.getcwd())

import numpy as np  # noqa: E402

import proxy_ops  # noqa: E402
import runtime  # noqa: E402

_STATE = {}
_MODULES = {}


def load_class(file, class_name):
    key = (file, os.path.getmtime(file))
    if key not in _MODULES:
        name = os.path.splitext(os.path.basename(file))[0]
        spec = importlib.util.spec_from_file_location(name, file)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        _MODULES[key] = mod
    return getattr(_MODULES[key], class_name)


def build_steps(steps):
    return [(s["name"], s["stage"], load_class(s["file"], s["class_name"]), s.get("params", {}))
            for s in steps]


def subsample(X, y, max_rows, seed, task):
    if not max_rows or len(y) <= max_rows:
        return X, y
    rng = np.random.RandomState(seed)
    idx = np.sort(rng.choice(len(y), size=max_rows, replace=False))
    return X.iloc[idx].reset_index(drop=True), y[idx]


def chance_score(y, config):
    """The score of predicting the training prior (class frequencies, or the mean) for every row."""
    if config["task"] == "regression":
        pred = np.full(len(y), float(np.mean(y)))
    else:
        k = len(config["classes"])
        pred = np.tile(np.bincount(y, minlength=k) / len(y), (len(y), 1))
    return runtime.score(config["metric"], y, pred)


def handle(req):
    op = req.get("op")
    if op == "ping":
        return {"ok": True}
    if op == "load":
        config = req["config"]
        X, y = runtime.load_training(req["data"], config)
        _STATE.update(X=X, y=y, config=config)
        return {"ok": True, "rows": int(len(y)), "columns": list(map(str, X.columns))}
    if op == "evaluate":
        config = dict(_STATE["config"])
        X, y = subsample(_STATE["X"], _STATE["y"], req.get("max_rows"), config["seed"], config["task"])
        if req.get("shuffle_target"):  # leakage probe: with a permuted target the score must fall to chance
            y = np.random.RandomState(config["seed"] + 1).permutation(y)
        start = time.monotonic()
        out = runtime.cross_validate(build_steps(req["steps"]), X, y, config,
                                     n_folds=req.get("folds"), seed=req.get("seed"))
        return {"ok": True, "score": out["score"], "std": out["std"], "fold_scores": out["fold_scores"],
                "duration_s": time.monotonic() - start, "chance": chance_score(y, config),
                "oof": out["oof"].tolist() if req.get("return_oof") else None}
    if op in ("proxy", "fold", "finish"):
        return handle_staged(op, req)
    if op == "forget":
        proxy_ops.forget(req["key"])
        return {"ok": True}
    return {"ok": False, "error": "unknown op %r" % op}


def handle_staged(op, req):
    """Proxies and fold-by-fold evaluation (see proxy_ops.py)."""
    config, X, y = _STATE["config"], _STATE["X"], _STATE["y"]
    steps = build_steps(req["steps"])
    start = time.monotonic()
    if op == "proxy":
        value, cost = proxy_ops.proxy(steps, X, y, config, req)
        return {"ok": True, "score": value, "cost_s": cost}
    if op == "fold":
        raw, n_folds = proxy_ops.fold(steps, X, y, config, req)
        return {"ok": True, "raw_score": raw, "n_folds": n_folds, "duration_s": time.monotonic() - start}
    out = proxy_ops.finish(steps, y, config, req)
    return {"ok": True, "score": out["score"], "std": out["std"], "fold_scores": out["fold_scores"],
            "duration_s": time.monotonic() - start,
            "oof": out["oof"].tolist() if req.get("return_oof") else None}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            reply = handle(req)
        except Exception as exc:  # the evaluated code failed: report it, stay alive
            reply = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc),
                     "traceback": traceback.format_exc(limit=8)}
        reply["id"] = req.get("id")
        _proto.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
