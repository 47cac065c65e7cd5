"""Per-execution overhead of the sandboxes: local run vs Docker run (fresh container) vs one request to a
reused worker (local and Docker), for a trivial script, so what is measured is the sandbox itself.

    python -m benchmarks.sandbox_overhead [-n 15]

Prints medians over N executions and the ratios between them (all from this one run). Needs a Docker
daemon for the Docker rows (they are skipped, with the reason, otherwise).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from typing import Awaitable, Callable

from t2ml.errors import SandboxError
from t2ml.sandbox import DockerSandbox, Limits, LocalSandbox, Sandbox

SCRIPT = {"main.py": "print('ok')"}
WORKER = {"worker.py": "import json, sys\nfor line in sys.stdin:\n    print(json.dumps({'ok': True}), flush=True)\n"}


async def _median(n: int, once: Callable[[], Awaitable[object]]) -> float:
    await once()  # warm-up: first container, page cache
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def measure(sandbox: Sandbox, n: int) -> dict[str, float]:
    async with sandbox:
        async def run() -> None:
            result = await sandbox.run(SCRIPT, ["python", "main.py"], Limits(timeout_s=60))
            assert result.ok, result

        worker = await sandbox.start_worker(WORKER, ["python", "worker.py"], Limits())
        try:
            run_s = await _median(n, run)
            request_s = await _median(n * 10, lambda: worker.request({"op": "ping"}, 30))
        finally:
            await worker.close()
    return {"run": run_s, "request": request_s}


def bare_python(n: int) -> float:
    times = []
    for _ in range(n + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "print('ok')"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="executions per measurement (requests: 10x)")
    n = parser.parse_args().n
    bare = bare_python(n)
    local = asyncio.run(measure(LocalSandbox(), n))
    try:
        docker: dict[str, float] | None = asyncio.run(measure(DockerSandbox(), n))
    except SandboxError as exc:
        docker = None
        print(f"docker: skipped ({exc.message})")
    print(f"medians over {n} executions ({n * 10} worker requests), trivial script:")
    print(f"  bare python (no sandbox)        {bare * 1000:8.1f} ms")
    print(f"  local run                       {local['run'] * 1000:8.1f} ms")
    print(f"  local worker, one request       {local['request'] * 1000:8.2f} ms")
    if docker:
        print(f"  docker run (fresh container)    {docker['run'] * 1000:8.1f} ms")
        print(f"  docker worker, one request      {docker['request'] * 1000:8.2f} ms")
        print("ratios (this run):")
        print(f"  docker run / local run          {docker['run'] / local['run']:8.1f}x")
        print(f"  docker run / docker request     {docker['run'] / docker['request']:8.0f}x")
        print(f"  local run / local request       {local['run'] / local['request']:8.0f}x")
        print(f"  docker request / local request  {docker['request'] / local['request']:8.1f}x")
    print(f"  local run / bare python         {local['run'] / bare:8.1f}x")


if __name__ == "__main__":
    main()
