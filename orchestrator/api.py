"""The Python API: ``t2ml.run(...)`` and ``t2ml.resume(...)``."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from autogen_core.models import ChatCompletionClient

from t2ml.agents.clients.settings import ModelSettings, load_settings
from t2ml.agents.messages import TaskSpec
from t2ml.errors import ConfigError, DataError, SandboxError, T2MLError

from . import distributed
from .config import EventHandler, RunConfig, RunSummary, parse_duration
from .runfolder import RunFolder
from .runner import Run


def task_text(task: str) -> str:
    """A task is plain text, or the path of a .md/.txt file holding it."""
    path = Path(task)
    if task.strip() and len(task) < 4096 and path.suffix.lower() in (".md", ".txt"):
        if not path.is_file():
            raise DataError(f"task file not found: {task}", hint="pass the task as text in quotes, or an existing .md file")
        return path.read_text(encoding="utf-8")
    if not task.strip():
        raise ConfigError("the task description is empty", hint='describe the task, e.g. "Predict who survived"')
    return task


def run(task: str, data: str, test: str | None = None, *, target: str | None = None, metric: str | None = None,
        time_budget: str | float = 300, trials: int = 60, seed: int = 0, folds: int = 5, model: str = "builtin",
        sandbox: str = "auto", out: str = "runs", name: str | None = None, drop: list[str] | None = None, prune: bool = True,
        on_event: EventHandler | None = None, client: ChatCompletionClient | None = None,
        llm: ModelSettings | None = None, jobs: int = 1, storage: str | None = None,
        study: str | None = None) -> RunSummary:
    """Turn a task description and a training file into a tested, optimized program in a new run folder.

    ``drop`` names columns to leave out; ``prune=False`` gives every trial the full evaluation (no proxies). ``on_event`` receives progress events (``t2ml.Event``).
    ``client`` replaces the model client named by ``model`` (any autogen ChatCompletionClient);
    ``model`` then only labels the variants it writes, and "builtin" means the client speaks the
    built-in JSON protocol (extract_request) rather than writing code as a language model does. ``llm`` gives every model setting at once
    (see ``t2ml.agents.clients.settings.ModelSettings``; default: ``model`` plus t2ml.toml).
    """
    if trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}", hint="e.g. --trials 60 (the time budget may stop earlier)")
    if not 2 <= folds <= 20:
        raise ConfigError(f"--folds must be between 2 and 20, got {folds}", hint="e.g. --folds 5 (the default)")
    spec = TaskSpec(text=task_text(task), train_path=str(Path(data).resolve()) if Path(data).exists() else data,
                    test_path=str(Path(test).resolve()) if test and Path(test).exists() else test,
                    target=target, metric=metric, time_budget_s=parse_duration(time_budget), trials=trials,
                    seed=seed, folds=folds, drop=list(drop or []))
    settings = llm or (ModelSettings(model=model) if client is not None else load_settings(model=model))
    config = RunConfig(task=spec, llm=settings, sandbox=sandbox, out=out, name=name, prune=prune)
    folder = RunFolder.create(Path(out), spec.text, name)
    try:
        storage_url = distributed.attach(config, folder, storage, study, jobs)  # jobs/storage: see distributed.py
        folder.write_json("run.json", {"config": config.model_dump(mode="json")})
        return _execute(Run(config, folder, on_event, client=client, storage_url=storage_url))
    except (DataError, ConfigError, SandboxError):
        if not folder.done("profile"):  # rejected input: remove the folder this call just created
            shutil.rmtree(folder.path, ignore_errors=True)
        raise


def _execute(run_obj: Run) -> RunSummary:
    """Run to the end; errors and interrupts carry ``run_dir`` so the CLI can say where the folder is."""
    try:
        return asyncio.run(run_obj.execute())
    except (T2MLError, KeyboardInterrupt) as exc:
        exc.run_dir = run_obj.folder.path  # type: ignore[attr-defined]
        raise


def resume(run_dir: str, on_event: EventHandler | None = None, client: ChatCompletionClient | None = None,
           time_budget: str | float | None = None, trials: int | None = None, jobs: int | None = None,
           storage: str | None = None) -> RunSummary:
    """Continue a run that was interrupted: finished stages and trials are not redone.

    Without ``time_budget`` it gets the time it had left (at least a quarter of its budget); with it,
    a fresh budget of that length. ``trials`` raises or lowers the total number of trials. ``jobs``
    changes how many trials run at once; ``storage`` gives the run's PostgreSQL URL again with its
    password (run.json keeps it without; else PGPASSWORD or ~/.pgpass is used).
    """
    folder = RunFolder.open(Path(run_dir))
    config = RunConfig.model_validate(folder.read_json("run.json")["config"])
    elapsed = folder.load_stage("clock")["elapsed_s"] if folder.done("clock") else 0.0
    elapsed = min(elapsed, 0.75 * config.task.time_budget_s)  # a resumed run gets at least a quarter of its budget
    if time_budget is not None:
        config.task.time_budget_s, elapsed = parse_duration(time_budget), 0.0
    if trials is not None:
        config.task.trials = trials
    storage_url = distributed.reattach(config, storage, jobs)
    if time_budget is not None or trials is not None:
        for stage in ("optimize", "export"):  # let the search continue under the new limits
            folder.file("state", f"{stage}.json").unlink(missing_ok=True)
        folder.write_json("run.json", {**folder.read_json("run.json"), "config": config.model_dump(mode="json")})
    return _execute(Run(config, folder, on_event, elapsed_before=elapsed, client=client, storage_url=storage_url))
