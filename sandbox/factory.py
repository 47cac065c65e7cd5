"""Resolve ``--sandbox auto|docker|local`` to a backend."""
from __future__ import annotations

from t2ml.errors import ConfigError

from . import engine
from ._base import Sandbox
from .docker import DockerSandbox
from .local import LocalSandbox

CHOICES = ("auto", "local", "docker")


def make_sandbox(name: str) -> Sandbox:
    """``auto``: Docker when a daemon answers within ~2 s, else local. ``docker`` without a daemon raises
    a SandboxError that says how to start one."""
    if name == "local":
        return LocalSandbox()
    if name == "docker":
        engine.connect().close()  # fail now, with the fix, rather than in the middle of the run
        return DockerSandbox()
    if name == "auto":
        return DockerSandbox() if engine.daemon_answers() else LocalSandbox()
    raise ConfigError(f"unknown sandbox {name!r}", hint=f"choose one of {', '.join(CHOICES)}")
