"""Resolve ``--sandbox auto|docker|local`` to a backend."""
from __future__ import annotations

from t2ml.errors import ConfigError

from ._base import Sandbox
from .local import LocalSandbox

CHOICES = ("auto", "local", "docker")


def make_sandbox(name: str) -> Sandbox:
    if name in ("auto", "local"):
        return LocalSandbox()
    if name == "docker":
        raise ConfigError("the Docker sandbox backend is not available in this version",
                          hint="use --sandbox local (or auto)")
    raise ConfigError(f"unknown sandbox {name!r}", hint=f"choose one of {', '.join(CHOICES)}")
