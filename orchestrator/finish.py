"""Last stage: export program.py, run it once in the sandbox, check it, write report and run.json."""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from t2ml.agents.messages import DataProfile, ModuleGraph, StudyResult, VerifiedModule
from t2ml.agents.search_space import pipeline_from_params
from t2ml.errors import PipelineError
from t2ml.sandbox import Limits
from t2ml.versions import installed
from t2ml.templates.program import runtime

from .config import WATCHDOG_GRACE_S, RunSummary
from .report_llm import llm_outcomes
from .export import render_program
from .report import write_report

if TYPE_CHECKING:
    from .runner import Run

OUTPUTS = ["predictions.csv", "model.joblib", "metrics.json", "oof.csv"]


def recompute_score(train_path: str, config: dict[str, Any], oof_file: Path) -> float:
    """Numerical evaluation consistency: the metric recomputed from the program's own predictions."""
    X, y = runtime.load_training(train_path, config)
    oof = pd.read_csv(oof_file).to_numpy()
    oof = oof[:, 0] if config["task"] == "regression" else oof
    folds = runtime.make_folds(y, config["task"], config["folds"], config["seed"])
    return float(np.mean([runtime.score(config["metric"], y[v], oof[v]) for _, v in folds]))


def versions() -> dict[str, str]:
    dists = ("t2ml", "scikit-learn", "catboost", "optuna", "pandas", "numpy", "autogen-agentchat")
    return {"python": platform.python_version(), **{d: installed(d) or "?" for d in dists}}


async def export_and_report(run: "Run", profile: DataProfile, graph: ModuleGraph, modules: list[VerifiedModule],
                            study: StudyResult) -> RunSummary:
    folder, task = run.folder, run.config.task
    if folder.done("export"):
        return RunSummary.model_validate(folder.load_stage("export"))
    stage = {m.module: m.spec.stage for m in modules}
    members = [(w, [(c, p, stage[c.module]) for c, p in pipeline_from_params(params, modules)])
               for w, params in study.members()]
    chosen = members[0][1]
    train_path = str(Path(profile.path).resolve())
    config = {**profile.program_config(task.folds, task.seed), "train_path": train_path}
    source = render_program(task, profile, members, config, study.final_score,
                            None if len(members) > 1 else study.best_std)  # an ensemble's std: the program prints it
    folder.file("program.py").write_text(source, encoding="utf-8")
    train_name = "train" + Path(train_path).suffix
    files: dict[str, Any] = {"program.py": source, train_name: Path(train_path)}
    command = ["python", "program.py", "--train", train_name, "--save-model", "model.joblib",
               "--metrics", "metrics.json", "--oof", "oof.csv"]
    if task.test_path:
        test_name = "test" + Path(task.test_path).suffix
        files[test_name] = Path(task.test_path)
        command += ["--test", test_name, "--out", "predictions.csv"]
    timeout = max(run.deadline + WATCHDOG_GRACE_S - 1.0 - time.monotonic(), 5.0)  # within the run's hard limit
    result = await run.sandbox.run(files, command, Limits(timeout_s=timeout, memory_mb=8192),
                                   collect=OUTPUTS, collect_to=folder.path)
    folder.file("program.log").write_text(result.stdout + "\n" + result.stderr, encoding="utf-8")
    if not result.ok or "metrics.json" not in result.files:
        raise PipelineError(f"the exported program failed ({result.describe()}): {result.stderr[-1200:]}",
                            hint=f"its log is in {folder.file('program.log')}")
    metrics = json.loads(folder.file("metrics.json").read_text())
    recomputed = recompute_score(train_path, config, folder.file("oof.csv"))
    consistent = abs(metrics["score"] - study.final_score) < 1e-6 and abs(recomputed - metrics["score"]) < 1e-9
    checks = {"program score": metrics["score"], "optimizer best score (single pipeline)": study.best_score,
              "optimizer ensemble score": study.ensemble_score,
              "recomputed from program predictions": recomputed, "consistent": consistent,
              "leakage probe (permuted target, 3 folds)": study.leakage_probe}
    folder.append_transcript("tester", "ProgramCheck", checks)
    excluded = {f"{m.module}/{v}": why for m in modules for v, why in m.excluded.items()}
    summary = RunSummary(
        run_dir=str(folder.path), target=profile.target, task=profile.task, metric=profile.metric,
        cv_score=metrics["score"], cv_std=metrics["std"], modules={c.module: c.variant for c, _, _ in chosen},
        params={c.module: p for c, p, _ in chosen}, n_trials=len(study.trials),
        ensemble=[{"trial": n, "weight": round(w, 4), "modules": {c.module: c.variant for c, _, _ in ch}}
                  for n, (w, ch) in zip(study.member_trials(), members)],
        n_failed_trials=sum(t.state == "FAIL" for t in study.trials), excluded=excluded,
        n_pruned_trials=sum(t.state == "PRUNED" for t in study.trials),
        elapsed_s=round(time.monotonic() - run.started, 1), stopped_because=study.stopped_because,
        sandbox=run.sandbox.name, program=str(folder.file("program.py")), report=str(folder.file("report.md")),
        predictions=str(folder.file("predictions.csv")) if "predictions.csv" in result.files else None,
        model_file=str(folder.file("model.joblib")) if "model.joblib" in result.files else None,
        consistent=consistent, stage_seconds={**run.stage_seconds,
                                              "export": round(time.monotonic() - run._lap_start, 1)},
        model=run.config.llm.model, llm_usage=run.gateway.ledger.summary(), llm_variants=llm_outcomes(modules, study),
        model_budget_exhausted=run.gateway.ledger.exhausted)
    write_report(folder.file("report.md"), task, profile, graph, modules, study, summary, checks)
    run_json = folder.read_json("run.json")
    run_json.update(versions=versions(), result=summary.model_dump(mode="json"), sandbox=run.sandbox.name,
                    pruning={"enabled": study.pruning, "pruned_trials": summary.n_pruned_trials,
                             "proxies": [s.model_dump() for s in study.proxy_stats]},
                    llm_usage=summary.llm_usage,
                    sandbox_warnings=run.sandbox.warnings)
    folder.write_json("run.json", run_json)
    folder.save_stage("export", summary)
    return summary
