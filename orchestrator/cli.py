"""The ``t2ml`` command line. Only this module prints; errors become exit codes, never tracebacks."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from t2ml.errors import ModelBudgetExhausted, T2MLError
from t2ml.sandbox.factory import CHOICES as SANDBOXES

from .config import Event, RunSummary

err = Console(stderr=True, highlight=False, soft_wrap=True)  # no hard wraps in logs and pipes


def _progress(quiet: bool) -> Callable[[Event], None] | None:
    if quiet:
        return None

    def show(e: Event) -> None:
        if e.stage == "optimize" and e.trial:
            best = f"  best {e.best:.4f}" if e.best is not None else ""
            err.print(f"[cyan]optimize[/] trial {e.trial}/{e.n_trials}{best}  ({escape(e.message)})")
        else:
            err.print(f"[cyan]{e.stage}[/] {escape(e.message)}")
    return show


def _summary(s: RunSummary) -> None:
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"\n[bold green]done[/] in {s.elapsed_s:.0f}s ({s.stopped_because}); sandbox: {s.sandbox}")
    if s.stage_seconds:
        out.print("time: " + ", ".join(f"{stage} {sec:.0f}s" for stage, sec in s.stage_seconds.items()))
    out.print(f"target [bold]{escape(s.target)}[/] ({s.task}); cross-validated {s.metric}: "
              f"[bold]{s.cv_score:.4f} ± {s.cv_std:.4f}[/] over {s.n_trials} trials "
              f"({s.n_pruned_trials} stopped early by pruning, {s.n_failed_trials} failed)")
    if len(s.ensemble) > 1:
        out.print(f"ensemble of {len(s.ensemble)} pipelines (weights from out-of-fold predictions):")
        for member in s.ensemble:
            out.print(f"  {member['weight']:.2f}  trial {member.get('trial', '?'):<4} "
                      + " -> ".join(f"{m}={v}" for m, v in member["modules"].items()))
    else:
        out.print("pipeline: " + " -> ".join(f"{m}={v}" for m, v in s.modules.items()))
    if s.excluded:
        out.print(f"excluded variants: {', '.join(s.excluded)} (see report)")
    if s.model != "builtin":
        total = s.llm_usage.get("total", {})
        out.print(f"model {escape(s.model)}: {total.get('calls', 0):.0f} calls ({total.get('cached_calls', 0):.0f} cached), "
                  f"{total.get('tokens', 0):.0f} tokens, cost {total.get('cost', 0.0):.4f}; model-written variants: "
                  + (", ".join(f"{k} {v.split(';')[0]}" for k, v in s.llm_variants.items()) or "none"))
    out.print(f"program:     {escape(s.program)}\nreport:      {escape(s.report)}")
    if s.predictions:
        out.print(f"predictions: {escape(s.predictions)}")
    out.print(f"run folder:  {escape(s.run_dir)}")


def _fail(exc: T2MLError, as_json: bool = False) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(exc.message)}")  # user values may hold [brackets]
    if exc.hint:
        err.print(f"  [yellow]hint:[/] {escape(exc.hint)}")
    run_dir = getattr(exc, "run_dir", None)
    if run_dir and not Path(run_dir).exists():
        run_dir = None
    if run_dir:
        err.print(f"  run folder: {escape(str(run_dir))}")
    if as_json:
        click.echo(json.dumps({"ok": False, "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code,
                               "run_dir": str(run_dir) if run_dir else None}))
    sys.exit(exc.exit_code)


def _warn_sandbox(name: str) -> None:
    """The chosen backend's limitations, once, before the run starts; --sandbox docker without a
    daemon fails here, before a run folder exists."""
    from t2ml.sandbox import make_sandbox

    for warning in make_sandbox(name).warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a job scheduler, `kill`, a container stop) ends a run as Ctrl-C does: clean-up, then the resume hint."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


def _guard(fn: Callable[[], RunSummary], as_json: bool) -> None:
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    if previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        summary = fn()
    except T2MLError as exc:
        _fail(exc, as_json)
    except KeyboardInterrupt as exc:
        run_dir = getattr(exc, "run_dir", None) or "RUN_DIR"
        how = "terminated" if isinstance(exc, _Terminated) else "interrupted"
        err.print(f"[bold red]{how}.[/] The run folder is kept; continue with `t2ml run --resume {escape(str(run_dir))}`.")
        sys.exit(143 if isinstance(exc, _Terminated) else 130)
    except Exception as exc:  # a bug in t2ml itself: say so plainly, keep the traceback for -v
        logging.getLogger("t2ml").debug("internal error", exc_info=True)
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}")
        err.print("  [yellow]hint:[/] this is a bug in t2ml; run again with -v for the traceback and report it")
        if logging.getLogger().isEnabledFor(logging.INFO):
            err.print_exception()
        sys.exit(1)
    finally:
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if as_json:
        click.echo(json.dumps({"ok": True, **summary.model_dump(mode="json")}))
    else:
        _summary(summary)
    if summary.model_budget_exhausted:  # a program was written, but not with the model calls asked for
        err.print(f"[yellow]model budget:[/] {escape(summary.model_budget_exhausted)}; exit status {ModelBudgetExhausted.exit_code}")
        sys.exit(ModelBudgetExhausted.exit_code)


@click.group()
@click.version_option(package_name="t2ml")
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does.")
def cli(verbose: bool) -> None:
    """t2ml: turn a plain-English ML task and your data into a tested, optimized program."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("task", required=False)
@click.option("--data", help="Training data: CSV, TSV or Parquet.")
@click.option("--test", "test", help="Rows to predict (same columns; the target may be absent).")
@click.option("--target", help="Column to predict (default: inferred from the task text).")
@click.option("--metric", help="roc_auc, accuracy, f1, balanced_accuracy, log_loss, rmse, mae, r2 (default: from the text).")
@click.option("--drop", multiple=True, help="A column to leave out (repeat the option for several).")
@click.option("--time-budget", help="Hard wall-clock limit for the run, e.g. 90s, 5m, 1h.  [default: 5m; with --resume: the time left]")
@click.option("--trials", type=int, help="Maximum number of optimization trials.  [default: 60]")
@click.option("--folds", default=5, show_default=True, type=int, help="Cross-validation folds.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--model", help="builtin, or openai:MODEL for any OpenAI-compatible server.  [default: builtin, or t2ml.toml]")
@click.option("--base-url", help="The server's URL, e.g. http://localhost:11434/v1 (default: $OPENAI_BASE_URL).")
@click.option("--max-tokens", type=int, help="Hard limit on model tokens (prompt + completion) for the run.")
@click.option("--max-cost", type=float, help="Hard limit on model cost (needs prices in t2ml.toml).")
@click.option("--no-data-sample", is_flag=True, help="Coders see the data profile only, no sample rows.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file with a [model] table (default: ./t2ml.toml).")
@click.option("--no-prune", is_flag=True, help="Give every trial the full evaluation: no proxies, no pruning after a fold.")
@click.option("--sandbox", type=click.Choice(SANDBOXES), default="auto", show_default=True)
@click.option("--out", default="runs", show_default=True, help="Folder that receives the run folder.")
@click.option("--name", help="Name of the run folder (default: time stamp + task words).")
@click.option("--jobs", type=int, help="Trials run at once on this machine, each in its own sandboxed worker.  [default: 1]")
@click.option("--storage", help="postgresql://USER@HOST:PORT/DB: share the study with `t2ml worker` processes (password: URL, PGPASSWORD or ~/.pgpass).")
@click.option("--study", help="The study's name in --storage (default: the run folder's name).")
@click.option("--resume", "resume_dir", help="Continue an interrupted run from its folder.")
@click.option("--json", "as_json", is_flag=True, help="Print a one-line JSON summary instead.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def run(task: str | None, data: str | None, resume_dir: str | None, as_json: bool, quiet: bool, **opts: Any) -> None:
    """Run TASK (text, or a .md file) on --data and write a run folder."""
    from t2ml.agents.clients.settings import load_settings

    from .api import resume, run as run_api

    progress = _progress(quiet or as_json)
    if resume_dir:
        ctx = click.get_current_context()
        ignored = [f"--{k.replace('_', '-')}" for k in opts if k not in ("time_budget", "trials", "jobs", "storage")
                   and ctx.get_parameter_source(k) == click.core.ParameterSource.COMMANDLINE]
        if task or data or ignored:
            err.print("[bold red]error:[/] with --resume the task, data and settings come from the run folder: "
                      f"{', '.join((['TASK'] if task else []) + (['--data'] if data else []) + ignored)} cannot change")
            err.print("  [yellow]hint:[/] only --time-budget, --trials, --jobs and --storage (the same URL) can be given again")
            sys.exit(2)
        _guard(lambda: resume(resume_dir, on_event=progress, time_budget=opts["time_budget"], trials=opts["trials"],
                              jobs=opts["jobs"], storage=opts["storage"]), as_json)
        return
    if not task or not data:
        err.print("[bold red]error:[/] give a TASK and --data (or --resume RUN_DIR)")
        err.print('  [yellow]hint:[/] t2ml run "Predict who survived" --data examples/titanic/train.csv')
        sys.exit(2)

    def go() -> RunSummary:
        _warn_sandbox(opts["sandbox"])
        opts["time_budget"] = opts["time_budget"] or "5m"
        opts["trials"] = 60 if opts["trials"] is None else opts["trials"]
        opts["drop"] = list(opts["drop"])
        opts["prune"] = not opts.pop("no_prune")
        opts["jobs"] = 1 if opts["jobs"] is None else opts["jobs"]
        llm = load_settings(opts.pop("config_file"), model=opts.pop("model"), base_url=opts.pop("base_url"),
                            max_tokens=opts.pop("max_tokens"), max_cost=opts.pop("max_cost"),
                            data_sample=False if opts.pop("no_data_sample") else None)
        return run_api(task, data, opts.pop("test"), on_event=progress, llm=llm, **opts)
    _guard(go, as_json)


@cli.command()
@click.option("--storage", required=True, help="The coordinator's postgresql://USER@HOST:PORT/DB (password: URL, PGPASSWORD or ~/.pgpass).")
@click.option("--study", required=True, help="The study's name (printed by the coordinator).")
@click.option("--data", help="This machine's copy of the training file (default: the coordinator's path).")
@click.option("--jobs", default=1, show_default=True, type=int, help="Trials this worker runs at once.")
@click.option("--sandbox", type=click.Choice(SANDBOXES), default="auto", show_default=True)
@click.option("--wait", "wait_s", default=60.0, show_default=True, type=click.FloatRange(min=0), help="Seconds to wait for the study to be published.")
@click.option("--json", "as_json", is_flag=True, help="Print a one-line JSON summary instead.")
def worker(as_json: bool, **opts: Any) -> None:
    """Evaluate trials of a coordinator's study (t2ml run --storage URL) until it is finished."""
    from .worker import run_worker

    try:
        summary = run_worker(**opts)
    except T2MLError as exc:
        _fail(exc, as_json)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted.[/] Trials this worker was running are failed by the study's heartbeat check.")
        sys.exit(130)
    if as_json:
        click.echo(json.dumps({"ok": True, **summary.model_dump(mode="json")}))
    else:
        Console(highlight=False, soft_wrap=True).print(
            f"worker: evaluated {len(summary.evaluated)} trial(s) of study {escape(summary.study)} "
            f"({escape(summary.stopped_because)}); sandbox: {summary.sandbox}")


_MARK = {True: ("green", "ok"), False: ("red", "MISSING"), None: ("dim", "optional")}


@cli.command()
def doctor() -> None:
    """What this machine offers t2ml (Docker, sandboxes, versions, model settings) and what to do about gaps."""
    from .doctor import auto_backend, diagnose

    out = Console(highlight=False, soft_wrap=True)
    findings = diagnose()
    for f in findings:
        color, label = _MARK[f.ok]
        out.print(f"[{color}]{label:<8}[/] [bold]{f.topic}[/]: {escape(f.detail)}")
        if f.fix:
            out.print(f"{'':9}[yellow]fix:[/] {escape(f.fix)}")
    out.print(f"--sandbox auto uses: [bold]{auto_backend(findings)}[/]")


@cli.group()
def sandbox() -> None:
    """The Docker sandbox's image (on Linux none is needed: the host's Python is mounted read-only)."""


@sandbox.command("build")
@click.option("--base-image", default="python:%d.%d-slim" % sys.version_info[:2], show_default=True,
              help="Base image with this Python version; where no registry is reachable, import one (README).")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="Extra CA bundle for pip behind a TLS proxy.")
@click.option("--tag", default="t2ml-sandbox:local", show_default=True, help="Tag of the image to build.")
def sandbox_build(base_image: str, ca_bundle: str | None, tag: str) -> None:
    """Build sandbox/Dockerfile with the ML libraries pinned to this machine's versions."""
    from .doctor import build_sandbox_image

    try:
        built = build_sandbox_image(base_image, ca_bundle, tag, on_line=lambda line: err.print(escape(line)))
    except T2MLError as exc:
        _fail(exc)
    Console(highlight=False, soft_wrap=True).print(f"[bold green]built[/] {built}; use it with: export T2ML_SANDBOX_IMAGE={built}")


def main() -> None:
    cli(prog_name="t2ml")


if __name__ == "__main__":
    main()
