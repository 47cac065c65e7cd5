"""The MLP model variant (PyTorch extra): offered only when torch imports; passes its contract tests
for classification and regression in the sandbox, like every other variant."""
from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from t2ml.agents.clients.builtin import plan
from t2ml.agents import messages as msg
from t2ml.agents import tester
from t2ml.orchestrator.intake import read_table
from t2ml.orchestrator.profile import build_profile
from t2ml.sandbox import LocalSandbox
from t2ml.templates import library

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                reason="torch is not installed (pip install -e '.[torch]')")


def candidate(kind: str, variant: str, module: str) -> msg.ModuleCandidate:
    source = library.template_source(kind, variant)
    parsed = library.parse_source(source)
    return msg.ModuleCandidate(module=module, variant=variant, class_name=parsed.class_name, source=source,
                           search_space=parsed.search_space, defaults=parsed.defaults, provenance="template")


def contract_report(tmp_path: Path, data: Path, task: msg.TaskSpec) -> tuple[msg.TestReport, msg.ModuleGraph]:
    profile = build_profile(read_table(data), task)
    graph = plan(profile)
    sample = tmp_path / "sample.csv"
    pd.read_csv(data).sample(n=150, random_state=0).to_csv(sample, index=False)
    config = {**profile.program_config(3, 0), "sep": ",", "encoding": "utf-8"}
    spec = next(m for m in graph.modules if m.stage == "model")
    ups = [candidate(m.kind, library.variants_for(m.kind, profile)[0], m.name) for m in graph.upstream(spec.name)]
    mlp = candidate("model", "mlp", spec.name)
    assert "mlp" in library.variants_for("model", profile)
    req = msg.TestRequest(spec=spec, batch=msg.CandidateBatch(module=spec.name, candidates=[mlp]), upstream=ups,
                      upstream_specs=graph.upstream(spec.name))

    async def go() -> msg.TestReport:
        async with LocalSandbox() as sbx:
            return await tester.TesterAgent(sbx, sample, config).test_one(req, mlp)
    return asyncio.run(go()), graph


@pytest.mark.parametrize("case", ["binary", "regression"])
def test_mlp_passes_contract_tests(tmp_path: Path, examples: Path, case: str) -> None:
    if case == "binary":
        data, task = examples / "titanic" / "train.csv", msg.TaskSpec(text="who survived", train_path="", target="survived")
    else:
        frame = pd.read_csv(examples / "penguins" / "train.csv").drop(columns=["species"])
        data = tmp_path / "mass.csv"
        frame[frame["body_mass_g"].notna()].to_csv(data, index=False)
        task = msg.TaskSpec(text="body mass", train_path="", target="body_mass_g")
    task.train_path = str(data)
    report, _ = contract_report(tmp_path, data, task)
    assert report.passed, [c for c in report.checks if not c.passed] or report.error


def test_mlp_is_offered_only_when_torch_imports(monkeypatch: pytest.MonkeyPatch, examples: Path) -> None:
    data = examples / "titanic" / "train.csv"
    profile = build_profile(read_table(data), msg.TaskSpec(text="who survived", train_path=str(data), target="survived"))
    assert "mlp" in library.variants_for("model", profile)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert "mlp" not in library.variants_for("model", profile)
    assert "hist_gradient_boosting" in library.variants_for("model", profile)


def test_exported_program_with_the_mlp_runs_and_reports_its_cv_score(tmp_path: Path, examples: Path) -> None:
    from t2ml.orchestrator.export import render_program
    from t2ml.sandbox import Limits

    data = examples / "titanic" / "train.csv"
    task = msg.TaskSpec(text="who survived", train_path=str(data), target="survived", folds=3)
    profile = build_profile(read_table(data), task)
    graph = plan(profile)
    chosen = []
    for spec in graph.ordered():
        variant = "mlp" if spec.stage == "model" else library.variants_for(spec.kind, profile)[0]
        params = {"epochs": 20, "hidden": 32} if variant == "mlp" else {}
        chosen.append((candidate(spec.kind, variant, spec.name), params, spec.stage))
    config = {**profile.program_config(3, 0), "train_path": str(data)}
    source = render_program(task, profile, [(1.0, chosen)], config, 0.0, 0.0)
    assert "import torch" in source

    async def go():  # type: ignore[no-untyped-def]
        async with LocalSandbox() as sbx:
            return await sbx.run({"program.py": source, "train.csv": data},
                                 ["python", "program.py", "--train", "train.csv", "--metrics", "metrics.json"],
                                 Limits(timeout_s=300, memory_mb=4096), collect=["metrics.json"])
    result = asyncio.run(go())
    assert result.ok, result.stderr[-2000:]
    import json

    metrics = json.loads(result.files["metrics.json"])
    assert 0.75 < metrics["score"] < 0.95
