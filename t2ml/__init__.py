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
from t2ml.orchestrator.api import resume, run
from t2ml.orchestrator.config import Event, RunConfig, RunSummary

__all__ = ["run", "resume", "RunConfig", "RunSummary", "Event", "T2MLError", "DataError", "ConfigError",
           "SandboxError", "ModelClientError", "PipelineError", "BudgetExceeded", "RunFolderError"]
