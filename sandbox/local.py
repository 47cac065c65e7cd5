"""Local backend: a subprocess in a fresh temp dir, own session, rlimits, scrubbed env, no network."""
from __future__ import annotations

import asyncio
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._base import Files, Limits, RunResult, Sandbox, Worker
from ._workdir import collect_files, environment, is_oom, tail, write_files

log = logging.getLogger(__name__)

# Most isolation first. --pid/--mount-proc: the code sees only its own processes (not yours, not their
# environment) and everything it started dies with it; --fork/--kill-child: its parent is `unshare`, so
# killing its parent cannot reach the orchestrator.
_ISOLATION = (("--net", "--pid", "--fork", "--kill-child", "--mount-proc"), ("--net", "--fork", "--kill-child"))


@lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...]:
    """The command prefix that cuts the network off, or () where this machine cannot."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    for flags in _ISOLATION:
        prefix = (exe, *flags)
        for candidate in (prefix, (exe, "--user", "--map-root-user", *flags)):
            if _works(candidate):
                return candidate
    return ()


def _works(prefix: tuple[str, ...]) -> bool:
    try:
        return subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pid_isolated() -> bool:
    """Whether sandboxed code runs in its own pid namespace (cannot see or signal your processes)."""
    return "--pid" in _unshare_prefix()


def _limiter(limits: Limits):
    def apply() -> None:
        mem = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
        fsize = limits.max_file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        if limits.cpu_s:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
        if os.geteuid() != 0:  # root ignores RLIMIT_NPROC
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
    return apply


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class LocalSandbox(Sandbox):
    name = "local"

    def __init__(self, keep_workdirs: bool = False) -> None:
        self.keep_workdirs = keep_workdirs

    @property
    def warnings(self) -> list[str]:
        out = ["local sandbox: generated code runs as your user and can read files your user can read"]
        if not _unshare_prefix():
            out.append("local sandbox: cannot cut network access on this machine (no usable `unshare`)")
        if not pid_isolated():
            out.append("local sandbox: no pid namespace here: generated code can see and signal your processes, "
                       "and a process that leaves its session can outlive the run")
        if os.geteuid() == 0:
            out.append("local sandbox: running as root, the process-count limit is not enforced")
        return out

    def _command(self, command: list[str]) -> list[str]:
        cmd = [sys.executable if c == "python" and i == 0 else c for i, c in enumerate(command)]
        # without `unshare --fork`, a shell in between is the parent that hostile code can kill, not us
        return [*(_unshare_prefix() or ("/bin/sh", "-c", '"$@"; exit $?', "sh")), *cmd]

    async def run(self, files: Files, command: list[str], limits: Limits,
                  collect: list[str] | None = None, collect_to: Path | None = None) -> RunResult:
        workdir = Path(tempfile.mkdtemp(prefix="t2ml-sbx-"))
        out_path, err_path = workdir / ".stdout", workdir / ".stderr"
        try:
            write_files(workdir, files)
            start = time.monotonic()
            with out_path.open("wb") as out, err_path.open("wb") as err:
                proc = await asyncio.create_subprocess_exec(
                    *self._command(command), cwd=workdir, env=environment(workdir),
                    stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err,
                    start_new_session=True, preexec_fn=_limiter(limits))
                timed_out = False
                try:
                    await asyncio.wait_for(proc.wait(), timeout=limits.timeout_s)
                except asyncio.TimeoutError:
                    timed_out = True
                finally:
                    _kill_group(proc.pid)  # also removes anything it left running in its session
                    await proc.wait()
            stderr = tail(err_path, limits.max_output_bytes)
            collected = collect_files(workdir, collect, collect_to)
            return RunResult(exit_code=None if timed_out else proc.returncode,
                             stdout=tail(out_path, limits.max_output_bytes), stderr=stderr,
                             duration_s=time.monotonic() - start, timed_out=timed_out,
                             oom=not timed_out and proc.returncode != 0 and is_oom(proc.returncode, stderr),
                             files=collected)
        finally:
            if not self.keep_workdirs:
                shutil.rmtree(workdir, ignore_errors=True)

    async def start_worker(self, files: Files, command: list[str], limits: Limits) -> Worker:
        workdir = Path(tempfile.mkdtemp(prefix="t2ml-wrk-"))
        write_files(workdir, files)
        err = (workdir / ".stderr").open("wb")
        proc = await asyncio.create_subprocess_exec(
            *self._command(command), cwd=workdir, env=environment(workdir),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            start_new_session=True, preexec_fn=_limiter(limits), limit=1 << 26)
        return LocalWorker(proc, workdir, err, self.keep_workdirs)


class LocalWorker(Worker):
    def __init__(self, proc: asyncio.subprocess.Process, workdir: Path, err: Any, keep: bool) -> None:
        self._proc, self._workdir, self._err, self._keep = proc, workdir, err, keep

    @property
    def stderr_tail(self) -> str:
        return tail(self._workdir / ".stderr", 4000)

    async def _send(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)
        await self._proc.stdin.drain()

    async def _readline(self) -> bytes:
        assert self._proc.stdout is not None
        return await self._proc.stdout.readline()

    async def _exit_reason(self) -> str:
        try:
            code = await asyncio.wait_for(self._proc.wait(), timeout=5)
        except asyncio.TimeoutError:
            return "output closed, process still running"
        return f"exit code {code}"

    async def close(self) -> None:
        _kill_group(self._proc.pid)
        try:
            await asyncio.wait_for(self._proc.wait(), timeout=10)
        except asyncio.TimeoutError:
            log.warning("worker %s did not exit after SIGKILL", self._proc.pid)
        self._err.close()
        if not self._keep:
            shutil.rmtree(self._workdir, ignore_errors=True)
