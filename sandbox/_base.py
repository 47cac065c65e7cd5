"""The sandbox interface: run untrusted generated code away from the orchestrator's process."""
from __future__ import annotations

import abc
import asyncio
import json
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
    """A long-lived process in the sandbox answering JSON requests, one at a time (JSON lines).

    Backends supply the byte transport (``_send``, ``_readline``); the protocol, its timeout and
    crash handling live here.
    """

    async def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request; return its reply. A timeout or a dead worker ends the worker."""
        try:
            await self._send((json.dumps(payload) + "\n").encode())
            line = await asyncio.wait_for(self._readline(), timeout=timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise WorkerTimeout(f"no answer within {timeout_s:.0f}s") from None
        except ConnectionError:  # includes BrokenPipeError, ConnectionResetError
            line = b""
        if not line:
            reason = await self._exit_reason()
            tail = self.stderr_tail[-1500:]
            await self.close()
            raise WorkerCrashed(f"worker exited ({reason}): {tail}")
        return json.loads(line)

    @abc.abstractmethod
    async def _send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def _readline(self) -> bytes:
        """The next reply line, or b'' when the worker's output ended."""

    async def _exit_reason(self) -> str:
        return "reason unknown"

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
