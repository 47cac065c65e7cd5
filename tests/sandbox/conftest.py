"""Both sandbox backends behind one fixture; Docker cases skip without a daemon unless T2ML_REQUIRE_DOCKER=1.

At the end of the session no container labeled t2ml.sandbox may be left by this process (or by a
t2ml process that died); containers of other live t2ml processes on the same daemon are theirs.
"""
from __future__ import annotations

import asyncio
import os
import textwrap
from typing import Any, Callable, Iterator

import pytest

from t2ml.errors import SandboxError
from t2ml.sandbox import DockerSandbox, Limits, LocalSandbox, RunResult, Sandbox, engine

BACKENDS = ["local", "docker"]


def require_docker() -> None:
    """Skip when no daemon answers, or fail when the run demands Docker (CI sets T2ML_REQUIRE_DOCKER=1)."""
    try:
        engine.connect().close()
    except SandboxError as exc:
        if os.environ.get("T2ML_REQUIRE_DOCKER") == "1":
            pytest.fail(f"T2ML_REQUIRE_DOCKER=1 but Docker is unavailable: {exc.message}")
        pytest.skip(f"no Docker daemon answers: {exc.message}")


def make(backend: str) -> Sandbox:
    return DockerSandbox() if backend == "docker" else LocalSandbox()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        require_docker()
    return request.param


@pytest.fixture
def new_sandbox(backend: str) -> Callable[[], Sandbox]:
    """A factory of fresh, unstarted sandboxes of ``backend``."""
    return lambda: make(backend)


@pytest.fixture
def docker() -> None:
    """For tests that need Docker whatever their parameters."""
    require_docker()


@pytest.fixture
def run_code(backend: str) -> Callable[..., RunResult]:
    """``run_code(code, limits=None, **files)``: run ``code`` as main.py in a fresh sandbox of ``backend``."""
    def run(code: str, limits: Limits | None = None, **files: Any) -> RunResult:
        async def go() -> RunResult:
            async with make(backend) as sbx:
                return await sbx.run({"main.py": textwrap.dedent(code), **files}, ["python", "main.py"],
                                     limits or Limits(timeout_s=30))
        return asyncio.run(go())
    return run


@pytest.fixture(scope="session", autouse=True)
def no_leftover_containers() -> Iterator[None]:
    yield
    try:
        client = engine.connect()
    except SandboxError:
        return
    left = [f"{c.short_id} {c.status} {c.labels}" for c in engine.orphans(client, include_own=True)]
    client.close()
    assert not left, f"sandbox containers left behind: {left}"
