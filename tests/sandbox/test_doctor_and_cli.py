"""`t2ml doctor`, `t2ml sandbox build` and what `t2ml run` says about its sandbox, in-process with click."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

from t2ml.orchestrator import cli as cli_module
from t2ml.sandbox import image

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setattr(cli_module.err, "soft_wrap", True)
    return lambda *args: CliRunner().invoke(cli_module.cli, list(args))


def test_doctor_reports_and_never_prints_secrets(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-doctor-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:pw@localhost:11434/v1")
    res = invoke("doctor")
    assert res.exit_code == 0, res.output
    for topic in ("python", "libraries", "docker daemon", "local sandbox", "model settings", "--sandbox auto uses"):
        assert topic in res.output
    assert f"scikit-learn {metadata.version('scikit-learn')}" in res.output.replace("\n", " ")
    assert "sk-doctor-secret-value" not in res.output and "pw@" not in res.output
    assert "OPENAI_API_KEY is set" in res.output and "localhost:11434" in res.output


def test_doctor_without_docker_says_what_to_do(invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    res = invoke("doctor")
    out = " ".join(res.output.split())
    assert res.exit_code == 0 and "MISSING docker daemon" in out and "dockerd --bridge=none" in out
    assert "--sandbox auto uses: local" in out


def test_run_with_local_sandbox_warns_once_before_starting(invoke: Invoke, tmp_path: Path) -> None:
    res = invoke("run", "Predict y", "--data", str(tmp_path / "missing.csv"), "--sandbox", "local")
    assert res.output.count("can read files your user can read") == 1
    assert res.exit_code == 2  # then the missing file is reported as usual


def test_run_with_docker_sandbox_and_no_daemon_fails_with_the_fix(invoke: Invoke, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path, titanic: dict[str, Path]) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    res = invoke("run", "Predict survived", "--data", str(titanic["train"]), "--sandbox", "docker",
                 "--out", str(tmp_path / "runs"))
    assert res.exit_code == 3 and "no Docker daemon answers" in res.output and "--sandbox local" in res.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_build_context_pins_the_host_versions(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    image.build_context(ctx, ca)
    pins = (ctx / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in pins
    assert f"catboost=={metadata.version('catboost')}" in pins and f"numpy=={metadata.version('numpy')}" in pins
    assert "ARG BASE_IMAGE=python:3.11-slim" in (ctx / "Dockerfile").read_text()
    assert (ctx / "ca-bundle.pem").read_text() == ca.read_text()


def test_sandbox_build_without_a_reachable_base_image_explains(invoke: Invoke, docker: None) -> None:
    res = invoke("sandbox", "build", "--base-image", "t2ml-no-such-base:never", "--tag", "t2ml-test-never:1")
    out = " ".join(res.output.split())
    assert res.exit_code == 3 and "t2ml-no-such-base:never" in out and "import a base image" in out


def test_doctor_reports_the_model_config_file(invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    (tmp_path / "t2ml.toml").write_text('[model]\nname = "openai:qwen"\nbase_url = "http://127.0.0.1:9/v1"\n'
                                        "max_tokens = 5000\n")
    out = " ".join(invoke("doctor").output.split())
    assert "t2ml.toml: model openai:qwen at http://127.0.0.1:9/v1" in out and "max_tokens 5000" in out
    (tmp_path / "t2ml.toml").write_text('[model]\nname = "openai:qwen"\nmax_tokens = "lots"\n')
    res = invoke("doctor")
    out = " ".join(res.output.split())
    assert res.exit_code == 0 and "MISSING t2ml.toml" in out and "max_tokens" in out
