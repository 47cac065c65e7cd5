"""One exception hierarchy; every error carries the exit code the CLI returns."""
from __future__ import annotations


class T2MLError(Exception):
    """Base class. Messages say what was wrong, the value seen, and what to do next."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class DataError(T2MLError):
    """The user's data cannot be used as given."""

    exit_code = 2


class ConfigError(T2MLError):
    """A setting or argument is invalid."""

    exit_code = 2


class RunFolderError(T2MLError):
    """The run folder is missing, incomplete, or would be overwritten."""

    exit_code = 2


class SandboxError(T2MLError):
    """Generated code could not be run in the sandbox at all (not: the code failed)."""

    exit_code = 3


class ModelClientError(T2MLError):
    """The model client failed (network, authentication, unusable output)."""

    exit_code = 4


class PipelineError(T2MLError):
    """No module variant survived testing, or the exported program failed."""

    exit_code = 5


class BudgetExceeded(T2MLError):
    """A hard budget ran out before anything usable was produced."""

    exit_code = 6


class ModelBudgetExhausted(T2MLError):
    """--max-tokens or --max-cost ran out. Inside a run this is caught: the run finishes with the best
    verified program so far (template variants) and the CLI exits with this code."""

    exit_code = 7
