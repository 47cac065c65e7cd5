"""Full runs on the bundled real data: CLI summary, run folder, standalone program, consistency."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from t2ml.orchestrator.cli import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def titanic_run(tmp_path_factory, titanic):
    out = tmp_path_factory.mktemp("runs")
    result = CliRunner().invoke(cli, ["run", "Predict which passengers survived the Titanic", "--data", str(titanic["train"]),
                                      "--test", str(titanic["test"]), "--time-budget", "6m", "--trials", "8",
                                      "--folds", "3", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_summary_names_target_metric_score_and_files(titanic_run):
    s = titanic_run
    assert s["ok"] and s["target"] == "survived" and s["task"] == "binary" and s["metric"] == "roc_auc"
    assert 0.8 < s["cv_score"] < 0.95 and s["cv_std"] > 0
    assert s["consistent"] is True
    assert s["modules"]["model"] in {"catboost", "hist_gradient_boosting", "forest", "linear"}
    assert s["elapsed_s"] <= 360 + 10 and s["stopped_because"] == "trial budget reached"
    states = [t["state"] for t in json.loads((Path(s["run_dir"]) / "state" / "optimize.json").read_text())["trials"]]
    assert s["n_pruned_trials"] == states.count("PRUNED") and s["n_failed_trials"] == states.count("FAIL")


def test_run_folder_holds_everything(titanic_run, titanic):
    from pathlib import Path

    run = Path(titanic_run["run_dir"])
    for name in ("run.json", "transcript.jsonl", "graph.json", "program.py", "model.joblib", "predictions.csv",
                 "report.md", "study.log", "profile.json"):
        assert (run / name).is_file(), name
    preds = pd.read_csv(run / "predictions.csv")
    test = pd.read_csv(titanic["test"])
    assert len(preds) == len(test) and set(preds["survived"]) <= {"yes", "no"}
    assert {"proba_no", "proba_yes"} <= set(preds.columns)
    kinds = {json.loads(line)["type"] for line in (run / "transcript.jsonl").open()}
    assert {"TaskSpec", "DataProfile", "PlanRequest", "ModuleGraph", "CodeRequest", "CandidateBatch",
            "TestRequest", "TestOutcome", "OptimizeRequest", "StudyResult", "ProgramCheck"} <= kinds
    assert list((run / "modules").glob("model/*.py"))
    report = (run / "report.md").read_text()
    assert "Trial leaderboard" in report and "name" in report  # the text column is profiled and used
    trials = json.loads((run / "state" / "optimize.json").read_text())["trials"]
    stopped = [t for t in trials if t["state"] == "PRUNED" and t["pruned_step"]]
    if stopped:  # each trial stopped after some folds is listed with its running score (the best 10 of them)
        assert f"the best {min(10, len(stopped))} of {len(stopped)} by their running score" in report, report
    probe = next(json.loads(l)["content"] for l in (run / "transcript.jsonl").open() if '"ProgramCheck"' in l)
    probe = probe["leakage probe (permuted target, 3 folds)"]
    assert probe["passed"] and abs(probe["shuffled_target_score"] - 0.5) < 0.1, probe
    meta = json.loads((run / "run.json").read_text())
    assert meta["config"]["task"]["seed"] == 0 and meta["versions"]["scikit-learn"]


def test_program_runs_alone_and_reproduces_the_cv_score(titanic_run, titanic, tmp_path):
    from pathlib import Path

    program = Path(titanic_run["run_dir"]) / "program.py"
    source = program.read_text()
    assert "t2ml" not in "".join(l for l in source.splitlines() if l.startswith(("import", "from")))
    assert "Requires (versions this run used):" in source
    done = subprocess.run([sys.executable, "-I", str(program), "--train", str(titanic["train"]),
                           "--test", str(titanic["test"]), "--out", str(tmp_path / "p.csv"),
                           "--metrics", str(tmp_path / "m.json")], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "CV roc_auc" in done.stdout
    score = json.loads((tmp_path / "m.json").read_text())["score"]
    assert abs(score - titanic_run["cv_score"]) < 1e-9
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(pd.read_csv(titanic["test"]))
    # the header's score is the program's: with one pipeline also its std; an ensemble's std only the program prints
    header = source.split('"""')[1]
    assert f"cross-validated {score:.4f}" in header
    std = json.loads((tmp_path / "m.json").read_text())["std"]
    assert (f"+/- {std:.4f}" in header) if "an ensemble of" not in header else ("+/-" not in header)


def test_program_rejects_bad_input_with_exit_2_and_keeps_files(titanic_run, titanic, tmp_path):
    from pathlib import Path

    program = Path(titanic_run["run_dir"]) / "program.py"
    lacking = tmp_path / "lacking.csv"
    pd.read_csv(titanic["test"]).drop(columns=["sex", "age"]).to_csv(lacking, index=False)
    kept = tmp_path / "kept.csv"
    kept.write_text("mine\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-I", str(program), *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)

    done = run("--test", str(lacking), "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "lacks columns the model uses: ['sex', 'age']" in done.stderr and "--drop sex --drop age" in done.stderr
    done = run("--test", str(titanic["test"]), "--out", str(kept))
    assert done.returncode == 2 and "--force" in done.stderr and kept.read_text() == "mine\n", done.stderr
    done = run("--train", str(tmp_path / "nowhere.csv"))
    assert done.returncode == 2 and "file not found" in done.stderr and "nowhere.csv" in done.stderr


def test_time_budget_is_a_hard_limit(tmp_path, credit):
    """Many trials allowed, little time: the run ends within budget + 10 s, whatever it was doing."""
    import time

    start = time.monotonic()
    result = CliRunner().invoke(cli, ["run", str(credit["task"]), "--data", str(credit["train"]), "--time-budget", "40s",
                                      "--trials", "500", "--out", str(tmp_path), "--json"])
    wall = time.monotonic() - start
    assert wall <= 40 + 10, f"run took {wall:.1f}s for a 40s budget"
    line = json.loads(result.output.strip().splitlines()[-1])
    if result.exit_code == 0:  # normal case: stopped by the clock with the best program so far
        assert line["stopped_because"] == "time budget reached" and line["n_trials"] < 500
    else:  # a very loaded machine: nothing finished in time; said plainly (5: no trial ran, 6: watchdog)
        assert result.exit_code in (5, 6) and "time budget" in line["error"]
