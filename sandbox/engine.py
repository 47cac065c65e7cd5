"""The Docker daemon, as the Docker backend, ``t2ml doctor`` and ``t2ml sandbox build`` see it.

Connecting (with a short ping, and an error that says how to start a daemon), the labels that say
which process owns a container, and the safety nets that remove containers: at exit, on SIGTERM and
SIGHUP, and, for a process that was killed outright, when the next Docker sandbox starts.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t2ml.errors import SandboxError

if TYPE_CHECKING:
    from docker import DockerClient

log = logging.getLogger(__name__)

LABEL = "t2ml.sandbox"
OWNER_LABEL = "t2ml.owner"
PING_TIMEOUT_S = 2.0
WORKDIR_PREFIXES = ("t2ml-sbx-", "t2ml-wrk-")
START_HINT = ("start a Docker daemon (Linux: `dockerd --bridge=none --iptables=false &` as root, or "
              "`systemctl start docker`; macOS/Windows: start Docker Desktop), or use --sandbox local")


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (so a reused pid is not mistaken for its owner), '?' if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


OWNER = f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def labels() -> dict[str, str]:
    return {LABEL: "1", OWNER_LABEL: OWNER}


def owner_alive(owner: str | None) -> bool:
    """Whether the t2ml process that created a container may still be using it."""
    try:
        host, pid_text, started = (owner or "").rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False  # unlabeled or malformed: nobody can be using it
    if host != socket.gethostname():
        return True  # another machine's process: we cannot tell, leave it alone
    if started != "?":
        return _start_time(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def connect(timeout: float = PING_TIMEOUT_S) -> DockerClient:
    """A client for the daemon that answers a ping within ``timeout`` seconds, else a SandboxError."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        import docker
    except ImportError:
        raise SandboxError("the `docker` Python package is not installed",
                           hint="pip install docker (t2ml depends on it), or use --sandbox local") from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException or any requests/socket error: the daemon did not answer
        raise SandboxError(f"no Docker daemon answers at {where} ({type(exc).__name__}: {exc})",
                           hint=START_HINT) from None
    client.api.timeout = 120  # the ping was short; real work (create, wait, import) may take longer
    return client


_ANSWERS: dict[str, tuple[float, bool]] = {}


def daemon_answers(ttl_s: float = 30.0) -> bool:
    """Whether a daemon answers a ping now (remembered for ``ttl_s`` seconds)."""
    key = os.environ.get("DOCKER_HOST", "")
    seen = _ANSWERS.get(key)
    if seen and time.monotonic() - seen[0] < ttl_s:
        return seen[1]
    try:
        connect().close()
        ok = True
    except SandboxError:
        ok = False
    _ANSWERS[key] = (time.monotonic(), ok)
    return ok


def cgroup_parent(client: DockerClient) -> str | None:
    """Where our containers' cgroups go (None: Docker's default).

    By default every container lives under one ``docker`` cgroup, which competes for CPU as ONE task
    against each process of the host: on a busy machine sandboxed code got a fraction of the CPU the
    same code gets in the local backend (2x slower here at load 7 on 2 cores). With cgroup v1 and the
    cgroupfs driver each container's cgroup is put at the root instead, so it competes like one local
    process; its own limits are unchanged. (systemd's driver only accepts slices, v2 is untested.)
    """
    info = client.info()
    if info.get("CgroupDriver") == "cgroupfs" and str(info.get("CgroupVersion", "1")) == "1":
        return "/"
    return None


def remove(client: DockerClient, container_id: str) -> None:
    """Kill and remove a container; one that is already gone is fine."""
    from docker.errors import APIError, NotFound

    try:
        client.api.remove_container(container_id, force=True, v=True)
    except NotFound:
        pass
    except APIError as exc:
        if "already in progress" not in str(exc):
            log.warning("could not remove sandbox container %s: %s", container_id[:12], exc)
    REGISTRY.discard(container_id)


def orphans(client: DockerClient, include_own: bool = False) -> list[Any]:
    """Our labeled containers whose owner process is gone (and, with ``include_own``, this process's)."""
    found = client.containers.list(all=True, filters={"label": LABEL}, ignore_removed=True)
    return [c for c in found if (include_own and c.labels.get(OWNER_LABEL) == OWNER)
            or (c.labels.get(OWNER_LABEL) != OWNER and not owner_alive(c.labels.get(OWNER_LABEL)))]


def reap_orphans(client: DockerClient) -> int:
    """Remove containers left by t2ml processes that died without cleaning up (e.g. kill -9), and
    their work dirs (the host folders mounted at /work, when they are t2ml temp dirs)."""
    stale = orphans(client)
    for c in stale:
        log.info("removing leftover sandbox container %s (owner %s)", c.short_id, c.labels.get(OWNER_LABEL))
        remove(client, c.id)
        for mount in c.attrs.get("Mounts", []):
            source = Path(mount.get("Source", ""))
            if mount.get("Destination") == "/work" and source.name.startswith(WORKDIR_PREFIXES):
                shutil.rmtree(source, ignore_errors=True)
    return len(stale)


class _Registry:
    """Containers this process created and has not removed yet, with the work dirs to delete with them;
    both are removed at exit and on SIGTERM/SIGHUP."""

    def __init__(self) -> None:
        self._live: dict[str, Path | None] = {}
        self._lock = threading.RLock()  # re-entrant: the signal handler may interrupt a holder
        self._armed = False

    def add(self, container_id: str, workdir: Path | None) -> None:
        with self._lock:
            self._live[container_id] = workdir

    def discard(self, container_id: str) -> None:
        with self._lock:
            self._live.pop(container_id, None)

    def remove_all(self) -> None:
        with self._lock:
            live = dict(self._live)
        if not live:
            return
        try:
            client = connect(timeout=10)
        except SandboxError as exc:
            log.warning("could not remove %d sandbox container(s) at exit: %s", len(live), exc.message)
            return
        for cid, workdir in live.items():
            remove(client, cid)
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
        client.close()

    def arm(self) -> None:
        """Remove our containers at exit and on SIGTERM/SIGHUP where nobody else handles those (their
        default action would kill this process without any clean-up). Signals can only be set up from
        the main thread; call this from there (DockerSandbox.start does)."""
        with self._lock:
            if not self._armed:
                self._armed = True
                atexit.register(self.remove_all)
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGTERM", "SIGHUP"):
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) == signal.SIG_DFL:
                    signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.remove_all()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


REGISTRY = _Registry()
