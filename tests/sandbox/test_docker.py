"""Docker-specific behaviour: the container's settings, the daemon being absent, and containers that are
removed whatever happens to the process that made them (cancel, SIGTERM, kill -9)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from t2ml.errors import SandboxError
from t2ml.sandbox import DockerSandbox, Limits, LocalSandbox, engine, make_sandbox
from t2ml.sandbox.image import IMAGE_ENV


def _owned_by(owner: str) -> list[str]:
    client = engine.connect()
    found = client.containers.list(all=True, filters={"label": f"{engine.OWNER_LABEL}={owner}"})
    client.close()
    return [c.short_id for c in found]


def test_without_a_daemon_docker_fails_clearly_and_auto_falls_back(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(SandboxError) as info:
        make_sandbox("docker")
    assert "no Docker daemon answers" in info.value.message and "no-docker.sock" in info.value.message
    assert "dockerd" in (info.value.hint or "") and "--sandbox local" in (info.value.hint or "")
    assert isinstance(make_sandbox("auto"), LocalSandbox)


def test_auto_picks_docker_when_a_daemon_answers(docker: None) -> None:
    assert make_sandbox("auto").name == "docker"


def test_container_is_locked_down(docker: None) -> None:
    async def go():  # type: ignore[no-untyped-def]
        async with DockerSandbox() as sbx:
            return await sbx.run({"main.py": textwrap.dedent("""
                import os, glob
                print("uid", os.getuid())
                print("net", sorted(os.listdir("/sys/class/net")))
                for probe in ("/x", "/usr/x", "/etc/x"):
                    try:
                        open(probe, "w")
                        print("WRITABLE", probe)
                    except OSError as exc:
                        print("ro", probe, exc.strerror)
                print("root", sorted(os.listdir("/")))
                cg = "/sys/fs/cgroup"  # v1 or v2 layout
                for f in glob.glob(f"{cg}/pids/pids.max") + glob.glob(f"{cg}/pids.max"):
                    print("pids", open(f).read().strip())
                for f in glob.glob(f"{cg}/memory/memory.limit_in_bytes") + glob.glob(f"{cg}/memory.max"):
                    print("mem", open(f).read().strip())
            """)}, ["python", "main.py"], Limits(timeout_s=30, memory_mb=512, max_processes=77))
    res = asyncio.run(go())
    assert res.ok, res
    out = res.stdout
    assert "uid 0" not in out and "net ['lo']" in out and "WRITABLE" not in out
    assert "pids 77" in out and f"mem {512 << 20}" in out
    if not os.environ.get(IMAGE_ENV):  # host mode: only the base image's mount points, not the host's tree
        assert "home" not in out and "'usr'" in out


def test_cancelling_a_run_removes_its_container(docker: None) -> None:
    """What Ctrl-C does to the run loop: the task is cancelled mid-execution."""
    async def go() -> None:
        async with DockerSandbox() as sbx:
            task = asyncio.create_task(sbx.run({"main.py": "while True: pass"}, ["python", "main.py"],
                                               Limits(timeout_s=120)))
            await asyncio.sleep(2)
            assert _owned_by(engine.OWNER), "the container should be running"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not _owned_by(engine.OWNER)
    asyncio.run(go())


async def _start_and_stop() -> None:
    async with DockerSandbox():
        pass


OWNER_SCRIPT = """
import asyncio, os, signal, sys
from t2ml.sandbox import DockerSandbox, Limits, engine

async def main():
    sbx = DockerSandbox()
    await sbx.start()
    worker = await sbx.start_worker({"w.py": "import sys\\nfor line in sys.stdin: pass"}, ["python", "w.py"], Limits())
    await sbx.run({"main.py": "print(1)"}, ["python", "main.py"], Limits())
    print(engine.OWNER, worker.workdir, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.parametrize("how", ["SIGTERM", "kill -9"])
def test_containers_of_a_dead_process_are_removed(docker: None, how: str) -> None:
    """SIGTERM: the process removes them (and their work dirs) itself. kill -9: the next Docker sandbox
    to start removes them and their work dirs."""
    proc = subprocess.Popen([sys.executable, "-c", OWNER_SCRIPT, "kill" if how == "kill -9" else "wait"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    owner, workdir = proc.stdout.readline().split()
    assert owner.count(":") == 2 and Path(workdir).is_dir(), (owner, workdir)
    if how == "SIGTERM":
        assert _owned_by(owner)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    else:
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert _owned_by(owner), "a killed process cannot clean up: its worker container is left"
        asyncio.run(_start_and_stop())  # a new Docker sandbox reaps the leftovers of dead owners
    deadline = time.monotonic() + 10
    while _owned_by(owner) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _owned_by(owner) and not Path(workdir).exists()
