"""t2ml: a plain-English ML task + your data -> a tested, optimized, standalone ML program."""
import os as _os

# In a source checkout the sub-packages are the top-level folders (agents/, sandbox/, orchestrator/,
# templates/) that setuptools maps to t2ml.*; let them resolve when this folder is imported from the
# checkout itself (e.g. its root is the working directory) rather than from an installation.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "orchestrator")) and _os.path.isfile(
        _os.path.join(_checkout, "orchestrator", "runner.py")):
    __path__.append(_checkout)  # type: ignore[name-defined]  # noqa: F821
from t2ml.errors import (BudgetExceeded, ConfigError, DataError, ModelClientError, PipelineError, RunFolderError,
                         SandboxError, T2MLError)

_LAZY = {"run": "t2ml.orchestrator.api", "resume": "t2ml.orchestrator.api", "RunConfig": "t2ml.orchestrator.config",
         "RunSummary": "t2ml.orchestrator.config", "Event": "t2ml.orchestrator.config"}


def __getattr__(name: str) -> object:
    """The public API, imported on first use (keeps `t2ml --help` and error paths fast)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 't2ml' has no attribute {name!r}")


__all__ = ["run", "resume", "RunConfig", "RunSummary", "Event", "T2MLError", "DataError", "ConfigError",
           "SandboxError", "ModelClientError", "PipelineError", "BudgetExceeded", "RunFolderError"]
