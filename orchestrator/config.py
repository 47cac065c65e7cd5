"""Run configuration, events and the run summary (pydantic, round-trips through run.json)."""
from __future__ import annotations

import re
from typing import Any, Callable

from pydantic import BaseModel, Field

from t2ml.agents.clients.settings import ModelSettings
from t2ml.agents.messages import TaskSpec
from t2ml.errors import ConfigError


WATCHDOG_GRACE_S = 8.0  # a run is cut at its time budget + this, whatever it is doing


class RunConfig(BaseModel):
    task: TaskSpec
    llm: ModelSettings = Field(default_factory=ModelSettings)
    sandbox: str = "auto"
    out: str = "runs"
    name: str | None = None
    max_repair_rounds: int = 2
    prune: bool = True  # proxies + fold-wise pruning of trials (CLI --no-prune turns it off)
    sample_rows: int = 400
    jobs: int = 1  # trials this process runs at once (--jobs), each in its own sandboxed worker
    storage: str | None = None  # PostgreSQL URL WITHOUT its password (--storage); None: study.log in the run folder
    study: str | None = None  # the study's name in --storage (default: the run folder's name)


class Event(BaseModel):
    """Progress as the run goes; the CLI renders these, the API hands them to a callback."""

    stage: str
    message: str
    trial: int | None = None
    n_trials: int | None = None
    best: float | None = None


EventHandler = Callable[[Event], None]


class RunSummary(BaseModel):
    run_dir: str
    target: str
    task: str
    metric: str
    cv_score: float
    cv_std: float
    modules: dict[str, str]
    params: dict[str, Any]
    ensemble: list[dict[str, Any]] = Field(default_factory=list)
    n_trials: int
    n_failed_trials: int
    n_pruned_trials: int = 0
    excluded: dict[str, str] = Field(default_factory=dict)
    elapsed_s: float
    stopped_because: str
    sandbox: str
    program: str
    report: str
    predictions: str | None = None
    model_file: str | None = None
    consistent: bool = True
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    model: str = "builtin"
    llm_usage: dict[str, dict[str, int | float]] = Field(default_factory=dict)  # per role, and "total"
    llm_variants: dict[str, str] = Field(default_factory=dict)  # module/variant -> passed, excluded (why), best score
    model_budget_exhausted: str | None = None  # why model calls stopped early (the CLI then exits with 7)


_DURATION_HINT = "write e.g. 300, 90s, 5m, 1h or 1m30s (every number after the first needs its unit)"


def parse_duration(text: str | float | int) -> float:
    """'300', '90s', '5m', '1h', '1m30s' -> seconds. A bare number is seconds, but only on its own."""
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        if text.strip().startswith("-"):
            raise ConfigError(f"the time budget must be positive, got {text!r}", hint=_DURATION_HINT)
        parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)\s*(?:h|hours?))?\s*(?:(\d+(?:\.\d+)?)\s*(?:m|mins?|minutes?))?"
                             r"\s*(?:(\d+(?:\.\d+)?)\s*(s|secs?|seconds?)?)?\s*", text)
        if not parts or not any(parts.groups()) or (parts.group(3) and not parts.group(4)
                                                     and (parts.group(1) or parts.group(2))):
            raise ConfigError(f"cannot read the time budget {text!r}", hint=_DURATION_HINT)
        h, m, s = (float(g) if g else 0.0 for g in parts.groups()[:3])
        seconds = h * 3600 + m * 60 + s
    if seconds < 10:
        raise ConfigError(f"time budget {seconds:.0f}s is too short", hint="give at least 10s, e.g. --time-budget 2m")
    return seconds
