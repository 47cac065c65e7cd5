"""Contract tests for one module variant, run INSIDE the sandbox.

The checks are derived from the module's declared contracts (see request.json), not written per
module: synthetic frames matching the input contract (NaN, unseen categories, constant and
all-missing columns, one row), a real sample of the user's data passed through upstream modules,
output contract, determinism under a seed, pickling, and a time bound.

Usage: python contract_runner.py request.json result.json
"""
import ast
import importlib.util
import json
import os
import pickle
import random
import sys
import time
import traceback

sys.path.insert(0, os.getcwd())
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import runtime  # noqa: E402

CHECKS = []


def check(name, passed, detail=""):
    CHECKS.append({"name": name, "passed": bool(passed), "detail": str(detail)[:2000]})
    return passed


def load(file, class_name):
    name = os.path.splitext(os.path.basename(file))[0]
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return getattr(mod, class_name)


def sample_params(space, rng):
    out = {}
    for key, dist in space.items():
        if dist["type"] == "categorical":
            out[key] = rng.choice(dist["choices"])
        elif dist["type"] == "int":
            out[key] = rng.randint(dist["low"], dist["high"])
        else:
            lo, hi = dist["low"], dist["high"]
            out[key] = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if dist.get("log") else rng.uniform(lo, hi)
    return out


def synthetic(contract, n, rng, unseen=False):
    kinds, nan = contract["kinds"], contract["nan_allowed"]
    r = np.random.RandomState(rng.randint(0, 10**6))
    cols = {"num_a": r.normal(size=n), "num_b": r.randint(0, 5, size=n).astype(float), "num_const": np.ones(n)}
    if nan:
        cols["num_a"][r.rand(n) < 0.2] = np.nan
        cols["num_allnan"] = np.full(n, np.nan)
    if "categorical" in kinds and not contract.get("numeric_only"):
        levels = ["u", "v", "w"] if unseen else ["a", "b", "c"]
        cat = np.array([levels[i] for i in r.randint(0, 3, size=n)], dtype=object)
        if nan:
            cat[r.rand(n) < 0.2] = None
        cols["cat_a"] = cat
        cols["cat_const"] = np.array(["k"] * n, dtype=object)
    if "text" in kinds and not contract.get("numeric_only"):
        words = ["mr.", "mrs.", "alpha", "beta", "gamma", "delta", "eps"] + (["zeta"] if unseen else [])
        cols["text_a"] = [" ".join(r.choice(words, size=3)) + " %d" % i for i in range(n)]
    return pd.DataFrame(cols, index=pd.RangeIndex(100, 100 + n))


def synthetic_y(task, n, rng):
    r = np.random.RandomState(rng.randint(0, 10**6))
    if task == "regression":
        return r.lognormal(size=n)
    k = 2 if task == "binary" else 3
    return np.arange(n) % k


def check_frame(tag, contract, X_in, X_out, columns=None):
    ok = check(tag + ": returns a DataFrame", isinstance(X_out, pd.DataFrame), type(X_out).__name__)
    if not ok:
        return None
    if contract.get("rows_preserved", True):
        check(tag + ": rows and index preserved", len(X_out) == len(X_in) and X_out.index.equals(X_in.index),
              "%d rows in, %d out" % (len(X_in), len(X_out)))
    if columns is not None:
        check(tag + ": same columns as at fit time", list(X_out.columns) == columns,
              "fit: %s / now: %s" % (columns[:8], list(X_out.columns)[:8]))
    if contract.get("numeric_only"):
        bad = [c for c in X_out.columns if not pd.api.types.is_numeric_dtype(X_out[c])]
        check(tag + ": numeric-only output", not bad, "non-numeric columns: %s" % bad[:5])
    if not contract.get("nan_allowed", True):
        num = X_out.select_dtypes("number")
        bad = [c for c in num.columns if not np.isfinite(num[c].to_numpy(dtype=float)).all()]
        bad += [c for c in X_out.columns if c not in num.columns and X_out[c].isna().any()]
        check(tag + ": no NaN/inf in output", not bad, "columns with NaN/inf: %s" % bad[:5])
    return list(X_out.columns)


def check_predictions(tag, task, pred, n, k):
    pred = np.asarray(pred, dtype=float)
    if task == "regression":
        check(tag + ": predictions have shape (n,)", pred.shape == (n,), pred.shape)
        check(tag + ": predictions are finite", np.isfinite(pred).all())
        return pred
    check(tag + ": probabilities have shape (n, classes)", pred.shape == (n, k), "%s vs %s" % (pred.shape, (n, k)))
    check(tag + ": probabilities are finite, in [0, 1], rows sum to 1",
          np.isfinite(pred).all() and pred.min() >= -1e-9 and pred.max() <= 1 + 1e-9
          and np.allclose(pred.sum(axis=1), 1, atol=1e-6))
    return pred


def exercise(req, cls, params, X, y, X_new, tag):
    """Fit and apply one configured instance; return something comparable for determinism."""
    stage, task, contract = req["stage"], req["config"]["task"], req["output_contract"]
    obj = runtime._construct(cls, params, 0, task)
    if stage == "prepare":
        out = obj.fit(X, y).transform(X)
        cols = check_frame(tag + " fit data", contract, X, out)
        check_frame(tag + " new data", contract, X_new, obj.transform(X_new), cols)
        check_frame(tag + " one row", contract, X_new.iloc[:1], obj.transform(X_new.iloc[:1]), cols)
        result = out
    elif stage == "model":
        obj.fit(X, y)
        k = len(np.unique(y))
        result = check_predictions(tag, task, obj.predict_proba(X_new) if task != "regression" else obj.predict(X_new), len(X_new), k)
    elif stage == "target":
        yt = np.asarray(obj.fit(y).transform(y), dtype=float)
        check(tag + ": transformed target finite", np.isfinite(yt).all())
        check(tag + ": inverse_transform undoes transform", np.allclose(obj.inverse_transform(yt), y, rtol=1e-6, atol=1e-6))
        result = yt
    else:
        k = len(np.unique(y))
        r = np.random.RandomState(0)
        raw = r.dirichlet(np.ones(k), size=len(y))
        obj.fit(y, raw)
        result = check_predictions(tag, task, obj.transform(raw), len(y), k)
    return obj, result


def same(a, b):
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


def real_input(req):
    """The user's real sample, passed through the upstream modules' default variants."""
    config = req["config"]
    X, y = runtime.load_training(req["sample"], config)
    for up in req.get("upstream", []):
        step = runtime._construct(load(up["file"], up["class_name"]), up.get("params", {}), 0, config["task"])
        X = step.fit(X, y).transform(X)
    return X, y


def run(req):
    rng = random.Random(req.get("seed", 0))
    cls = load(req["file"], req["class_name"])
    check("imports and defines " + req["class_name"], True)
    declared = {}
    with open(req["file"], encoding="utf-8") as fh:
        for node in ast.parse(fh.read()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SEARCH_SPACE" for t in node.targets):
                declared = ast.literal_eval(node.value)
    task = req["config"]["task"]
    settings = [("defaults", {})] + [("sampled#%d" % i, sample_params(declared, rng)) for i in range(req.get("n_param_samples", 1))]
    n = 60
    for label, params in settings:
        X = synthetic(req["input_contract"], n, rng)
        Xn = synthetic(req["input_contract"], 15, rng, unseen=True)
        try:
            exercise(req, cls, params, X, synthetic_y(task, n, rng), Xn, "synthetic/" + label)
        except Exception as exc:
            check("synthetic/%s %s runs" % (label, params), False, "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc(limit=4)))
    X, y = real_input(req)
    half = len(y) // 2 or 1
    start = time.monotonic()
    obj, first = exercise(req, cls, {}, X, y, X.iloc[half:], "real sample")
    check("real sample: fits within the time bound", time.monotonic() - start < req.get("time_bound_s", 60),
          "%.1fs" % (time.monotonic() - start))
    _, second = exercise(req, cls, {}, X, y, X.iloc[half:], "real sample (repeat)")
    check("deterministic under a fixed seed", same(first, second))
    clone = pickle.loads(pickle.dumps(obj))
    check("picklable", type(clone) is type(obj))


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        req = json.load(fh)
    error = None
    try:
        run(req)
    except Exception as exc:
        error = "%s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc(limit=6))
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump({"checks": CHECKS, "error": error}, fh)


if __name__ == "__main__":
    main()
