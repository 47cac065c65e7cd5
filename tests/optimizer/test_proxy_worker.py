"""The worker side of proxies and fold-by-fold evaluation (local sandbox, small real data)."""
from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from t2ml.agents import proxies
from t2ml.agents.tester import runtime_files
from t2ml.sandbox import Limits, LocalSandbox
from t2ml.templates.library import template_source

CONFIG = {"target": "survived", "task": "binary", "metric": "roc_auc", "classes": ["no", "yes"],
          "feature_columns": ["sex", "age", "passengerClass"], "folds": 3, "seed": 0}
HAS_TORCH = importlib.util.find_spec("torch") is not None


def steps(model: str, **params: Any) -> list[dict[str, Any]]:
    return [{"name": "impute", "stage": "prepare", "file": "impute.py", "class_name": "T2MLSimpleImputer", "params": {}},
            {"name": "encode", "stage": "prepare", "file": "encode.py", "class_name": "T2MLOrdinalEncoder", "params": {}},
            {"name": "model", "stage": "model", "file": f"{model}.py", "class_name": CLASSES[model], "params": params},
            {"name": "post", "stage": "postprocess", "file": "post.py", "class_name": "T2MLIdentityPost", "params": {}}]


CLASSES = {"hist_gradient_boosting": "T2MLHistGradientBoosting", "linear": "T2MLLinear", "mlp": "T2MLMLP"}


def worker_files(titanic: dict[str, Path]) -> dict[str, Any]:
    files: dict[str, Any] = {**runtime_files(), "train.csv": titanic["train"],
                             "impute.py": template_source("impute", "simple"),
                             "encode.py": template_source("encode", "ordinal"),
                             "post.py": template_source("postprocess", "identity")}
    for model in CLASSES:
        files[f"{model}.py"] = template_source("model", model)
    return files


def run_worker(titanic: dict[str, Path], requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with LocalSandbox() as sbx:
            worker = await sbx.start_worker(worker_files(titanic), ["python", "eval_worker.py"], Limits(memory_mb=4096))
            try:
                assert (await worker.request({"op": "load", "data": "train.csv", "config": CONFIG}, 60))["ok"]
                return [await worker.request(r, 120) for r in requests]
            finally:
                await worker.close()
    return asyncio.run(go())


def test_fold_by_fold_equals_plain_evaluation(titanic: dict[str, Path]) -> None:
    s = steps("linear")
    folds = [{"op": "fold", "key": "t", "steps": s, "fold": i} for i in range(3)]
    replies = run_worker(titanic, [{"op": "evaluate", "steps": s, "return_oof": True}, *folds,
                                   {"op": "finish", "key": "t", "steps": s, "return_oof": True},
                                   {"op": "finish", "key": "t", "steps": s}])
    plain, staged, again = replies[0], replies[4], replies[5]
    assert all(r["ok"] for r in replies[:5]), replies
    assert [r["n_folds"] for r in replies[1:4]] == [3, 3, 3]
    assert staged["score"] == plain["score"] and staged["fold_scores"] == plain["fold_scores"]
    assert staged["oof"] == plain["oof"]
    assert not again["ok"] and "every fold" in again["error"]  # the session is gone after finish


@pytest.mark.parametrize("model", ["hist_gradient_boosting", "linear"])
def test_low_fidelity_proxy_scores_and_costs(titanic: dict[str, Path], model: str) -> None:
    req = {"op": "proxy", "steps": steps(model), **proxies.get("low_fidelity", max_rows=200).request()}
    full, proxy = run_worker(titanic, [{"op": "evaluate", "steps": steps(model)}, req])
    assert proxy["ok"], proxy
    assert 0.5 < proxy["score"] <= 1.0 and 0 < proxy["cost_s"]
    if model == "hist_gradient_boosting":
        assert proxy["cost_s"] < full["duration_s"]


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (pip install -e '.[torch]')")
def test_training_free_proxies_on_the_mlp(titanic: dict[str, Path]) -> None:
    names = ["naswot", "synflow", "grad_norm"]
    small, big = steps("mlp", hidden=16, layers=1), steps("mlp", hidden=128, layers=3)
    reqs = [{"op": "proxy", "steps": s, **proxies.get(n).request()} for s in (small, big) for n in names]
    replies = run_worker(titanic, reqs + [{"op": "proxy", "steps": steps("linear"), "kind": "naswot"}])
    assert all(r["ok"] for r in replies[:6]), replies
    by = {(i // 3, names[i % 3]): r["score"] for i, r in enumerate(replies[:6])}
    assert by[(1, "synflow")] > by[(0, "synflow")]  # more parameters carry more synaptic flow
    assert all(r["cost_s"] < 5 and abs(r["score"]) < 1e6 for r in replies[:6])  # finite, also on duplicate rows
    assert not replies[6]["ok"] and "zero_cost_inputs" in replies[6]["error"]


def test_registry() -> None:
    assert {"low_fidelity", "naswot", "synflow", "grad_norm"} <= set(proxies.names())
    mlp = template_source("model", "mlp")
    assert proxies.get("naswot").applies(mlp) and not proxies.get("naswot").applies(template_source("model", "linear"))
    assert proxies.get("low_fidelity").applies(mlp)
    with pytest.raises(KeyError, match="register"):
        proxies.get("nope")

    @proxies.register
    class Constant(proxies.Proxy):
        name = "constant_test"

        def applies(self, model_source: str) -> bool:
            return True

        def request(self) -> dict[str, Any]:
            return {"kind": "low_fidelity"}

    assert isinstance(proxies.get("constant_test"), Constant)
