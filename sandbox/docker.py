"""Docker backend: every execution in a fresh container; no network, read-only root, limits, non-root.

The only writable place is ``/work``, a fresh host temp dir holding the files of the run (the user's
data is copied in, never mounted). stdout/stderr go to files in it, so their size is bounded by the
file-size limit and only their tails reach memory. Containers carry our labels and are always
removed: in ``finally`` (also on Ctrl-C), at ``stop()``, at exit/SIGTERM, and, after a kill -9, by the
next Docker sandbox that starts (see engine.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t2ml.errors import SandboxError

from . import engine
from ._base import Files, Limits, RunResult, Sandbox, Worker
from .docker_worker import DockerWorker
from .image import Runtime, resolve_runtime
from ._workdir import collect_files, environment, is_oom, tail, write_files

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

log = logging.getLogger(__name__)

WORKDIR = "/work"
_RUN_WRAPPER = 'exec "$@" </dev/null >/work/.stdout 2>/work/.stderr'
_WORKER_WRAPPER = 'exec "$@" 2>/work/.stderr'  # stdout stays attached: it carries the JSON-lines protocol
_PROBED: set[str] = set()  # runtimes (repr) already proven to work in this process


class DockerSandbox(Sandbox):
    """``image``: run that image (image mode) instead of the host's Python; ``cpus``: CPU limit per
    container (default: all of this machine's cores)."""

    name = "docker"

    def __init__(self, image: str | None = None, cpus: float | None = None, keep_workdirs: bool = False) -> None:
        self.image, self.cpus, self.keep_workdirs = image, cpus, keep_workdirs
        self._client: DockerClient | None = None
        self._runtime: Runtime | None = None
        self._cgroup_parent: str | None = None
        self._containers: set[str] = set()
        self._workers: set[DockerWorker] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._client is None:
            engine.REGISTRY.arm()
            self._client, self._runtime = await asyncio.to_thread(self._connect)

    def _connect(self) -> tuple[DockerClient, Runtime]:
        client = engine.connect()
        try:
            engine.reap_orphans(client)
            runtime = resolve_runtime(client, self.image)
            self._cgroup_parent = engine.cgroup_parent(client)
            if repr(runtime) not in _PROBED:
                self._probe(client, runtime)
                _PROBED.add(repr(runtime))
        except BaseException:
            client.close()
            raise
        return client, runtime

    async def stop(self) -> None:
        for worker in list(self._workers):
            await worker.close()
        if self._client is not None:
            for cid in list(self._containers):
                self._remove(cid)
            self._client.close()
            self._client = None

    def _probe(self, client: DockerClient, runtime: Runtime) -> None:
        """One throw-away container proves that the interpreter starts in it and is the host's version."""
        want = "%d.%d" % sys.version_info[:2]
        code = "import sys; print('%d.%d' % sys.version_info[:2])"
        try:
            out = client.containers.run(runtime.image, [runtime.python, "-c", code], remove=True,
                                        network_mode="none", read_only=True, volumes=runtime.mounts,
                                        user=self._user(), labels=engine.labels(), stderr=True)
            got = out.decode(errors="replace").strip()
        except Exception as exc:  # ContainerError, ImageNotFound, APIError: the runtime does not work
            got = f"{type(exc).__name__}: {exc}"
        if got != want:
            mode = "the host's Python mounted into" if runtime.host_python else "the Python of"
            raise SandboxError(f"{mode} image {runtime.image!r} does not run as expected: wanted Python "
                               f"{want}, got {got[-800:]!r}",
                               hint="build an image with `t2ml sandbox build` and set T2ML_SANDBOX_IMAGE to its "
                                    "tag, or use --sandbox local")

    # -- containers -----------------------------------------------------------------------------
    @staticmethod
    def _user() -> str:
        """Never root: nobody when t2ml runs as root, else your own uid (so you can clean the work dir)."""
        return "65534:65534" if os.geteuid() == 0 else f"{os.geteuid()}:{os.getegid()}"

    def _workdir(self, prefix: str, files: Files) -> Path:
        workdir = Path(tempfile.mkdtemp(prefix=prefix))
        write_files(workdir, files)
        if os.geteuid() == 0:  # the container runs as nobody: give it the work dir
            for path in [workdir, *workdir.rglob("*")]:
                os.chown(path, 65534, 65534, follow_symlinks=False)
        return workdir

    def _create(self, command: list[str], limits: Limits, workdir: Path, wrapper: str, stdin: bool) -> Container:
        from docker.types import LogConfig, Ulimit

        assert self._client is not None and self._runtime is not None
        rt = self._runtime
        cmd = [rt.python if i == 0 and c == "python" else c for i, c in enumerate(command)]
        env = {**environment(Path(WORKDIR)), "PATH": rt.path, "USER": "sandbox", "LOGNAME": "sandbox"}
        env.pop("SSL_CERT_FILE", None)
        ulimits = [Ulimit(name="nofile", soft=1024, hard=1024),
                   Ulimit(name="fsize", soft=limits.max_file_mb << 20, hard=limits.max_file_mb << 20)]
        if limits.cpu_s:
            ulimits.append(Ulimit(name="cpu", soft=limits.cpu_s, hard=limits.cpu_s + 5))
        container = self._client.containers.create(
            rt.image, ["/bin/sh", "-c", wrapper, "sh", *cmd], user=self._user(), working_dir=WORKDIR,
            environment=env, labels=engine.labels(), hostname="sandbox", stdin_open=stdin,
            network_mode="none", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            ipc_mode="private", volumes={**rt.mounts, str(workdir): {"bind": WORKDIR, "mode": "rw"}},
            tmpfs={"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"},
            mem_limit=f"{limits.memory_mb}m", memswap_limit=f"{limits.memory_mb}m",
            nano_cpus=int((self.cpus or os.cpu_count() or 1) * 1e9), pids_limit=limits.max_processes,
            ulimits=ulimits, cgroup_parent=self._cgroup_parent,
            # only the wrapper's own errors reach the log: the program's output goes to files in /work
            log_config=LogConfig(type="json-file", config={"max-size": "256k", "max-file": "1"}))
        self._containers.add(container.id)
        engine.REGISTRY.add(container.id, None if self.keep_workdirs else workdir)
        return container

    def _remove(self, container_id: str) -> None:
        """Synchronous on purpose: it must also complete while a task is being cancelled (Ctrl-C)."""
        if self._client is not None:
            engine.remove(self._client, container_id)
        self._containers.discard(container_id)

    @staticmethod
    def _wait(container: Container, timeout_s: float) -> bool:
        """Wait for the container to exit; kill it at the timeout. True when it exited by itself."""
        import requests

        try:
            container.wait(timeout=timeout_s)
            return True
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            try:
                container.kill()
            except Exception as exc:  # already gone / exiting: removal follows anyway
                log.debug("kill after timeout: %s", exc)
            container.wait(timeout=30)
            return False

    @staticmethod
    def _state(container: Container) -> dict[str, Any]:
        container.reload()
        return container.attrs["State"]

    # -- the Sandbox interface ------------------------------------------------------------------
    async def run(self, files: Files, command: list[str], limits: Limits,
                  collect: list[str] | None = None, collect_to: Path | None = None) -> RunResult:
        await self.start()
        # work dir and container are made without an await: a cancellation (Ctrl-C) cannot fall between
        # their creation and the `finally` that removes them
        workdir = self._workdir("t2ml-sbx-", files)
        container: Container | None = None
        try:
            container = self._create(command, limits, workdir, _RUN_WRAPPER, False)
            start = time.monotonic()
            await asyncio.to_thread(container.start)
            exited = await asyncio.to_thread(self._wait, container, limits.timeout_s)
            duration = time.monotonic() - start
            state = await asyncio.to_thread(self._state, container)
            stderr, code = tail(workdir / ".stderr", limits.max_output_bytes), state.get("ExitCode")
            return RunResult(exit_code=code if exited else None, stderr=stderr, duration_s=duration,
                             stdout=tail(workdir / ".stdout", limits.max_output_bytes), timed_out=not exited,
                             oom=bool(state.get("OOMKilled")) or (exited and code != 0 and is_oom(code, stderr)),
                             files=collect_files(workdir, collect, collect_to))
        finally:
            if container is not None:
                self._remove(container.id)
            if not self.keep_workdirs:
                shutil.rmtree(workdir, ignore_errors=True)

    async def start_worker(self, files: Files, command: list[str], limits: Limits) -> Worker:
        await self.start()
        workdir = self._workdir("t2ml-wrk-", files)
        container: Container | None = None
        try:
            container = self._create(command, limits, workdir, _WORKER_WRAPPER, True)
            worker = await DockerWorker.attach(self, container, workdir)
        except BaseException:
            if container is not None:
                self._remove(container.id)
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        self._workers.add(worker)
        return worker

    def _forget(self, worker: DockerWorker) -> None:
        """Called by a worker that closed: remove its container and (unless kept) its work dir."""
        self._workers.discard(worker)
        self._remove(worker.container_id)
        if not self.keep_workdirs:
            shutil.rmtree(worker.workdir, ignore_errors=True)

    def exit_state(self, container_id: str) -> dict[str, Any]:
        """The container's state once it stopped (waits a little for a dying process)."""
        assert self._client is not None
        container = self._client.containers.get(container_id)
        try:
            container.wait(timeout=5)
        except Exception as exc:  # still running after 5 s: report what we know
            log.debug("worker container still running: %s", exc)
        return self._state(container)
