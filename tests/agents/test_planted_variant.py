"""A coder that writes a variant breaking its contract: the tester's feedback reaches that coder,
the variant is repaired or excluded, and the run still succeeds."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import t2ml
from t2ml.agents.clients.builtin import BuiltinChatCompletionClient, extract_request

pytestmark = pytest.mark.slow

# Breaks the scale contract "no NaN in output": every value of the first column becomes NaN.
BROKEN = '''"""Scaler that leaks NaN (planted by the test)."""
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class PlantedNaNScaler(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        out = X.copy()
        out[out.columns[0]] = np.nan
        return out
'''

# Breaks it the first time (returns a numpy array, not a DataFrame); the repaired version is fine.
FIXABLE_V1 = '''"""Scaler returning a bare array (planted by the test)."""
from sklearn.base import BaseEstimator, TransformerMixin


class PlantedArrayScaler(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.to_numpy()
'''
FIXABLE_V2 = FIXABLE_V1.replace("return X.to_numpy()", "return X.copy()").replace("bare array", "frame copy")


class PlantingClient(BuiltinChatCompletionClient):
    """The built-in coder, plus two planted variants for the ``scale`` module."""

    def __init__(self) -> None:
        super().__init__()
        self.feedback: list[dict[str, Any]] = []

    async def create(self, messages, **kwargs):  # type: ignore[override]
        result = await super().create(messages, **kwargs)
        request = extract_request(messages)
        if request["role"] != "coder" or request["spec"]["name"] != "scale":
            return result
        if request.get("feedback"):
            self.feedback.append(request["feedback"])
            fixed = [{"variant": "fixable", "source": FIXABLE_V2}] if request["feedback"]["variant"] == "fixable" else []
            return result.model_copy(update={"content": json.dumps({"variants": fixed})})
        answer = json.loads(result.content)
        answer["variants"] += [{"variant": "broken", "source": BROKEN}, {"variant": "fixable", "source": FIXABLE_V1}]
        return result.model_copy(update={"content": json.dumps(answer)})


def test_broken_variant_is_excluded_with_feedback_and_the_run_succeeds(tmp_path, titanic):
    client = PlantingClient()
    summary = t2ml.run("Predict which passengers survived the Titanic", str(titanic["train"]), time_budget="6m",
                       trials=6, folds=3, out=str(tmp_path), client=client, model="builtin")
    # the feedback reached the scale coder, naming the failing checks
    variants = {fb["variant"] for fb in client.feedback}
    assert variants == {"broken", "fixable"}
    broken_fb = next(fb for fb in client.feedback if fb["variant"] == "broken")
    assert any("NaN" in c["name"] for c in broken_fb["failed_checks"])
    # the broken variant is excluded with its reason; the repaired one joined the search
    assert "scale/broken" in summary.excluded and "NaN" in summary.excluded["scale/broken"]
    assert "scale/fixable" not in summary.excluded
    tested = json.loads((Path(summary.run_dir) / "state" / "test.json").read_text())
    scale = next(m for m in tested if m["module"] == "scale")
    fixable = next(c for c in scale["candidates"] if c["variant"] == "fixable")
    assert fixable["attempt"] == 1 and "frame copy" in fixable["source"]
    assert summary.modules["scale"] != "broken" and summary.consistent
    # the transcript shows the feedback travelling from the tester to the coder
    lines = [json.loads(l) for l in (Path(summary.run_dir) / "transcript.jsonl").open()]
    assert any(l["source"] == "tester" and l["type"] == "CodeRequest" and l["content"]["to"] == "coder_scale"
               and l["content"]["feedback"]["variant"] == "broken" for l in lines)
    report = (Path(summary.run_dir) / "report.md").read_text()
    assert "broken" in report and "excluded" in report
