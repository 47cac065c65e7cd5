"""t2ml: a plain-English ML task + your data -> a tested, optimized, standalone ML program."""
from t2ml.errors import (BudgetExceeded, ConfigError, DataError, ModelClientError, PipelineError, RunFolderError,
                         SandboxError, T2MLError)
from t2ml.orchestrator.api import resume, run
from t2ml.orchestrator.config import Event, RunConfig, RunSummary

__all__ = ["run", "resume", "RunConfig", "RunSummary", "Event", "T2MLError", "DataError", "ConfigError",
           "SandboxError", "ModelClientError", "PipelineError", "BudgetExceeded", "RunFolderError"]
