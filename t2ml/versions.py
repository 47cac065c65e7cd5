"""Installed distribution versions, for run.json, program headers, image pins and `t2ml doctor`."""
from __future__ import annotations

from importlib import metadata


def installed(dist: str) -> str | None:
    """The installed version of ``dist``, or None when it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
