"""The sandbox interface: run untrusted generated code away from the orchestrator's process."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, Field


class Limits(BaseModel):
    """Resource limits for one execution (or one long-lived worker)."""

    timeout_s: float = 120.0
    memory_mb: int = 8192
    cpu_s: int | None = None
    max_processes: int = 256
    max_file_mb: int = 1024
    max_output_bytes: int = 1_000_000


class RunResult(BaseModel):
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    oom: bool = False
    files: dict[str, str] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.oom

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.duration_s:.1f}s"
        if self.oom:
            return "ran out of memory"
        return f"exit code {self.exit_code}"


Files = Mapping[str, "str | bytes | Path"]


class Worker(abc.ABC):
    """A long-lived process in the sandbox answering JSON requests, one at a time."""

    @abc.abstractmethod
    async def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request; return its reply. Raises WorkerCrashed / WorkerTimeout."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def stderr_tail(self) -> str: ...


class WorkerCrashed(Exception):
    """The worker died while handling a request (its other work is lost, not the run)."""


class WorkerTimeout(Exception):
    """The worker did not answer in time and was killed."""


class Sandbox(abc.ABC):
    """Async context manager: ``async with sandbox: await sandbox.run(...)``."""

    name: str = "abstract"

    async def __aenter__(self) -> "Sandbox":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Prepare the backend (default: nothing)."""

    async def stop(self) -> None:
        """Release everything the backend holds (default: nothing)."""

    @abc.abstractmethod
    async def run(self, files: Files, command: list[str], limits: Limits,
                  collect: list[str] | None = None, collect_to: Path | None = None) -> RunResult:
        """Write ``files`` into a fresh work dir, run ``command`` there, return the outcome.

        ``collect`` names work-dir files whose text is returned in ``RunResult.files``; with
        ``collect_to`` they are copied (as bytes) into that host folder instead.
        The command's first element ``python`` means the sandbox's Python interpreter.
        """

    @abc.abstractmethod
    async def start_worker(self, files: Files, command: list[str], limits: Limits) -> Worker:
        """Start a long-lived worker speaking JSON lines on stdin/stdout."""

    @property
    def warnings(self) -> list[str]:
        """What this backend cannot enforce on this machine."""
        return []
