"""Whole `t2ml run`s with `--model openai:...` through the real openai client, against a real HTTP
server on loopback that speaks the chat-completions API with scripted answers (tests/openai_server.py).

One scripted model that misbehaves in every way a real one does: HTTP 429, HTTP 500, a timeout,
malformed JSON, prose around code, several code blocks, a broken module repaired on the second round,
and answers with no code at all.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from t2ml.agents.clients.builtin import plan
from t2ml.agents.messages import DataProfile
from openai_server import Reply, ScriptedOpenAIServer, role_of, user_texts

pytestmark = pytest.mark.slow

SCALER_V1 = '''"""Rank scaler (scripted model, first try: returns a bare array)."""
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

SEARCH_SPACE = {"pct": {"type": "categorical", "choices": [True, False]}}


class RankScaler(BaseEstimator, TransformerMixin):
    def __init__(self, pct=True):
        self.pct = pct

    def fit(self, X, y=None):
        self.columns_ = list(X.columns)
        return self

    def transform(self, X):
        return X[self.columns_].to_numpy()
'''
SCALER_V2 = SCALER_V1.replace("first try: returns a bare array", "repaired").replace(
    "return X[self.columns_].to_numpy()", "return X[self.columns_].astype('float64').copy()")

NAIVE_BAYES = '''"""Gaussian naive Bayes classifier (scripted model)."""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.naive_bayes import GaussianNB

SEARCH_SPACE = {"var_smoothing": {"type": "float", "low": 1e-10, "high": 1e-2, "log": True}}


class NaiveBayes(BaseEstimator):
    def __init__(self, var_smoothing=1e-9):
        self.var_smoothing = var_smoothing

    def fit(self, X, y):
        y = np.asarray(y).astype("int64")
        self.n_classes_ = max(int(y.max()) + 1, 2)
        self.model_ = GaussianNB(var_smoothing=self.var_smoothing).fit(pd.DataFrame(X).to_numpy("float64"), y)
        return self

    def predict_proba(self, X):
        out = np.zeros((len(X), self.n_classes_))
        out[:, self.model_.classes_] = self.model_.predict_proba(pd.DataFrame(X).to_numpy("float64"))
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)
'''


def fenced(code: str, prose: str = "") -> str:
    return f"{prose}\n```python\n{code}```\n{'Hope this helps!' if prose else ''}"


class Misbehaving:
    """The script: what a flaky, chatty real model does, call by call, keyed by the role asking."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, request: dict, n: int) -> Reply:
        role = role_of(request)
        k = self.seen[role] = self.seen.get(role, 0) + 1
        if role == "planner":
            if k == 1:
                return Reply(status=429, content="rate limited", headers={"Retry-After": "0"})
            if k == 2:
                return Reply(content='```json\n{"task": "binary", "modules": [ oops\n```')  # malformed JSON
            found = re.search(r"<request>\s*(.*?)\s*</request>", user_texts(request)[0], re.S)
            profile = DataProfile.model_validate(json.loads(found.group(1))["profile"])
            return Reply(content=plan(profile).model_dump_json())
        if role == "coder:scale":
            return Reply(status=500, content="upstream exploded") if k == 1 else Reply(
                content=fenced(SCALER_V1, "Here is a rank-based scaler:"))
        if role == "repair:scale":
            return Reply(content=fenced(SCALER_V2, "You are right, it must return a DataFrame. Fixed:"))
        if role == "coder:model":
            if k == 1:
                return Reply(delay_s=3.0, content="too late")  # the client times out at 1.5 s
            usage = "```python\nclf = NaiveBayes().fit(X, y)\n```\n"
            return Reply(content="A simple baseline. Usage:\n" + usage + "The module:\n" + fenced(NAIVE_BAYES))
        return Reply(content="I am sorry, I cannot write that module.")  # no code: rejected before testing


@pytest.fixture
def llm_env(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("T2ML_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "t2ml.toml"
    config.write_text("[model]\nname = \"openai:scripted-7b\"\ntimeout_s = 1.5\nbackoff_s = 0.05\nmax_retries = 3\n")
    return config


def run_llm(run_cli, server, config, titanic, *extra):
    # 300 s: after 40% of the budget only preferred variants are tested, and on a loaded machine 120 s left the
    # model-written ones untested; the run itself ends after its 4 trials, well before the budget
    return run_cli("Predict which passengers survived the Titanic", "--data", titanic["train"], "--config", config,
                   "--base-url", server.base_url, "--time-budget", "300s", "--trials", "4", "--folds", "3",
                   "--sandbox", "local", "--json", *extra)


def summary_of(result) -> dict:
    lines = [line for line in result.output.splitlines() if line.startswith("{")]  # stderr lines are mixed in
    assert lines, result.output
    return json.loads(lines[-1])


def test_scripted_model_run_repairs_retries_and_replays_from_cache(run_cli, llm_env, titanic, tmp_path):
    with ScriptedOpenAIServer(Misbehaving()) as server:
        first = run_llm(run_cli, server, llm_env, titanic, "--name", "first")
        s1 = summary_of(first)
        assert first.exit_code == 0 and s1["ok"], first.output
        assert {429, 500} <= set(server.statuses)
        calls_after_first = len(server.requests)
        second = run_llm(run_cli, server, llm_env, titanic, "--name", "second")
        s2 = summary_of(second)
        assert second.exit_code == 0 and s2["ok"], second.output
        assert len(server.requests) == calls_after_first  # every answer came from the cache

    run1 = Path(s1["run_dir"])
    tested = {vm["module"]: vm for vm in json.loads((run1 / "state" / "test.json").read_text())}
    scale = {c["variant"]: c for c in tested["scale"]["candidates"]}
    assert scale["llm"]["provenance"] == "llm:scripted-7b" and scale["llm"]["attempt"] == 1  # repaired in round 1
    assert "astype('float64')" in scale["llm"]["source"]
    model = {c["variant"]: c for c in tested["model"]["candidates"]}
    assert model["llm"]["class_name"] == "NaiveBayes"  # the real module, not the usage snippet around it
    assert "llm" in tested["impute"]["excluded"]  # no code, even after repairs: rejected with the reason
    assert "rejected before testing" in tested["impute"]["excluded"]["llm"]

    # the model-written variants compete in the final search: each is measured by a trial of its own
    trials = json.loads((run1 / "state" / "optimize.json").read_text())["trials"]
    assert any(t["params"].get("scale.variant") == "llm" and t["score"] for t in trials), trials
    assert any(t["params"].get("model.variant") == "llm" and t["score"] for t in trials), trials
    assert s1["llm_variants"]["scale/llm"].startswith("passed, repaired in round 1; best CV")

    # the transcript holds the tester's feedback to coder_scale and the repair request/response
    lines = [json.loads(line) for line in (run1 / "transcript.jsonl").read_text().splitlines()]
    feedback = [e for e in lines if e["type"] == "CodeRequest" and e["content"]["to"] == "coder_scale"
                and (e["content"].get("feedback") or {}).get("variant") == "llm"]
    assert feedback and feedback[0]["content"]["feedback"]["failed_checks"], "no feedback reached coder_scale"
    calls = [e["content"] for e in lines if e["type"] == "model_call"]
    repairs = [c for c in calls if c["role"] == "coder_scale" and "failed its contract tests" in c["request"][-1]["content"]]
    assert repairs and "Fixed:" in repairs[0]["response"]
    events = [e["content"] for e in lines if e["type"] == "event"]
    retries = [e for e in events if e.get("event") == "model_retry"]
    assert {e["role"] for e in retries} >= {"planner", "coder_scale", "coder_model"}  # 429, 500, timeout
    invalid = [e for e in events if e.get("event") == "invalid_plan"]
    assert invalid and "not JSON" in invalid[0]["error"]

    # usage: tokens spent in the first run, none in the second; the same program both times
    assert s1["llm_usage"]["total"]["tokens"] > 0 and s1["llm_usage"]["planner"]["retries"] >= 1
    assert s2["llm_usage"]["total"]["tokens"] == 0
    assert s2["llm_usage"]["total"]["cached_calls"] == s2["llm_usage"]["total"]["calls"] > 0
    program = lambda s: re.sub(r"(?m)^# (run|generated).*$", "", Path(s["program"]).read_text())  # noqa: E731
    assert program(s1) == program(s2)
    assert s1["cv_score"] == pytest.approx(s2["cv_score"], abs=1e-12)
    report = (run1 / "report.md").read_text()
    assert "## Language model" in report and "scale/llm" in report


def test_token_budget_too_small_ends_with_the_template_program_and_exit_7(run_cli, llm_env, titanic):
    with ScriptedOpenAIServer(Misbehaving()) as server:
        result = run_llm(run_cli, server, llm_env, titanic, "--max-tokens", "300")
    assert result.exit_code == 7, result.output
    summary = summary_of(result)
    assert summary["ok"] and Path(summary["program"]).is_file()  # the best verified program so far
    assert "token budget" in summary["model_budget_exhausted"]
    assert summary["llm_usage"].get("total", {}).get("tokens", 0) <= 300
    assert all(not v.startswith("passed") for v in summary["llm_variants"].values())


@pytest.mark.parametrize("status, error, hint", [(401, "rejected the API key", "OPENAI_API_KEY"),
                                                 (404, "'scripted-7b' is unknown to the server", "--model openai:NAME")])
def test_auth_and_unknown_model_errors_name_the_setting_to_fix(run_cli, llm_env, titanic, status, error, hint):
    with ScriptedOpenAIServer(lambda request, n: Reply(status=status, content="scripted failure")) as server:
        result = run_llm(run_cli, server, llm_env, titanic)
        assert len(server.requests) == 1  # not retried: retrying cannot fix a key or a model name
    assert result.exit_code == 4, result.output
    out = summary_of(result)
    assert not out["ok"] and error in out["error"] and hint in out["hint"], out
    assert "Traceback" not in result.output
