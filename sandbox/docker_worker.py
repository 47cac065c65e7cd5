"""The long-lived evaluation worker of the Docker backend: one container, JSON lines over its attached stdin/stdout.

The container's stdout reaches us through the daemon's attach stream (8-byte frame headers: stream
type, payload size); stderr is a file in the work dir. A request that times out, or a container that
dies, ends this worker (its container is removed); the caller starts a fresh one.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import Worker, WorkerCrashed
from ._workdir import tail

if TYPE_CHECKING:
    from docker.models.containers import Container

    from .docker import DockerSandbox

MAX_LINE = 1 << 26  # a reply longer than this is a broken worker, not a reply
_STDOUT = 1


class DockerWorker(Worker):
    def __init__(self, sandbox: DockerSandbox, container_id: str, workdir: Path, keep_alive: Any,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._sandbox, self.container_id, self.workdir = sandbox, container_id, workdir
        self._keep_alive = keep_alive  # the SDK's socket object: dropping it may close the connection
        self._reader, self._writer = reader, writer
        self._buffer = b""
        self._closed = False

    @classmethod
    async def attach(cls, sandbox: DockerSandbox, container: Container, workdir: Path) -> DockerWorker:
        """Attach to stdin/stdout before starting, so no byte of output is missed."""
        params = {"stdin": 1, "stdout": 1, "stream": 1}
        sock_io = await asyncio.to_thread(container.client.api.attach_socket, container.id, params)
        raw = getattr(sock_io, "_sock", sock_io).dup()  # our own fd for asyncio; the SDK keeps its own
        await asyncio.to_thread(container.start)
        reader, writer = await asyncio.open_connection(sock=raw, limit=MAX_LINE)
        return cls(sandbox, container.id, workdir, sock_io, reader, writer)

    @property
    def stderr_tail(self) -> str:
        return tail(self.workdir / ".stderr", 4000)

    async def _readline(self) -> bytes:
        """The next protocol line, or b'' when the container's stdout ended."""
        while b"\n" not in self._buffer:
            try:
                header = await self._reader.readexactly(8)
                payload = await self._reader.readexactly(int.from_bytes(header[4:8], "big"))
            except (asyncio.IncompleteReadError, ConnectionError):
                return b""
            if header[0] == _STDOUT:
                self._buffer += payload
            if len(self._buffer) > MAX_LINE:
                return b""
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    async def _send(self, data: bytes) -> None:
        if self._closed:
            raise WorkerCrashed("the worker was already closed")
        self._writer.write(data)
        await self._writer.drain()

    async def _exit_reason(self) -> str:
        try:
            state = await asyncio.to_thread(self._sandbox.exit_state, self.container_id)
        except Exception as exc:  # the container is already gone
            return f"state unknown: {type(exc).__name__}"
        if state.get("OOMKilled"):
            return "ran out of memory: the container was OOM-killed"
        return f"exit code {state.get('ExitCode')}"

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._keep_alive.close()
        self._sandbox._forget(self)
