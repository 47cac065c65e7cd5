"""report.md (+ an optimization-history plot when matplotlib is installed)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from t2ml.agents.messages import DataProfile, ModuleGraph, StudyResult, TaskSpec, VerifiedModule

from .config import RunSummary
from .report_proxies import proxy_section, variant_names
from .report_llm import llm_section

log = logging.getLogger(__name__)


def _plot_history(study: StudyResult, path: Path, metric: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    done = [t for t in study.trials if t.score is not None]
    if not done:
        return False
    best, running = [], None
    for t in done:
        better = running is None or (t.score > running if study.direction == "maximize" else t.score < running)
        running = t.score if better else running
        best.append(running)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.scatter([t.number + 1 for t in done], [t.score for t in done], s=12, label="trial CV score")
    ax.plot([t.number + 1 for t in done], best, color="C1", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"CV {metric}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _table(rows: list[list[Any]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def write_report(path: Path, task: TaskSpec, profile: DataProfile, graph: ModuleGraph, modules: list[VerifiedModule],
                 study: StudyResult, summary: RunSummary, checks: dict[str, Any]) -> None:
    out = [f"# t2ml report\n\n**Task:** {task.text.strip()}\n",
           f"**Result:** cross-validated {profile.metric} = **{summary.cv_score:.4f} ± {summary.cv_std:.4f}** "
           f"({task.folds}-fold, seed {task.seed}); {summary.n_trials} trials, {summary.elapsed_s:.0f}s, "
           f"stopped: {summary.stopped_because}; sandbox: {summary.sandbox}.\n",
           ("Time per stage: " + ", ".join(f"{k} {v:.0f}s" for k, v in summary.stage_seconds.items()) + ".\n"
            if summary.stage_seconds else ""),
           "## Data\n", f"`{profile.path}`: {profile.n_rows} rows used, target `{profile.target}` ({profile.task}"
           + (f", classes {profile.class_counts}" if profile.class_counts else f", skew {profile.target_skew}") + ").\n"]
    out.append(_table([[c.name, c.kind, f"{c.missing_rate:.1%}", c.n_unique, c.note or ""] for c in profile.columns],
                      ["column", "kind", "missing", "distinct", "note"]))
    if profile.dropped_columns:
        out.append("\nExcluded columns: " + "; ".join(f"`{c}` ({why})" for c, why in profile.dropped_columns.items()))
    for note in profile.notes:
        out.append(f"\n- {note}")
    out.append("\n\n## Module graph\n")
    out.append(_table([[m.name, m.stage, ", ".join(m.inputs) or "(data)", m.purpose] for m in graph.ordered()],
                      ["module", "stage", "inputs", "purpose"]))
    out += [f"\n- {r}" for r in graph.rationale]
    out.append("\n\n## Module variants\n")
    rows = []
    for vm in modules:
        rows += [[vm.module, c.variant, c.provenance, "passed contract tests", ""] for c in vm.candidates]
        rows += [[vm.module, v, "", "excluded", why] for v, why in vm.excluded.items()]
    out.append(_table(rows, ["module", "variant", "written by", "status", "why excluded"]))
    out += llm_section(summary.model, summary.llm_usage, summary.llm_variants, summary.model_budget_exhausted)
    out.append("\n\n## Chosen pipeline\n")
    out.append(_table([[m, summary.modules[m], summary.params.get(m, {})] for m in summary.modules],
                      ["module", "variant", "hyperparameters"]))
    if len(summary.ensemble) > 1:
        out.append(f"\n\nExported as a weighted ensemble (greedy selection on out-of-fold predictions, "
                   f"CV {study.ensemble_score:.4f} vs best single pipeline {study.best_score:.4f}):\n")
        out.append(_table([[f"{m['weight']:.2f}", m.get("trial", "?"), ", ".join(f"{k}={v}" for k, v in m["modules"].items())]
                           for m in summary.ensemble], ["weight", "trial", "pipeline"]))
    out.append("\n\n## Trial leaderboard (the best complete trials, up to 10)\n")
    done = sorted([t for t in study.trials if t.score is not None], key=lambda t: t.score or 0.0,
                  reverse=study.direction == "maximize")[:10]
    out.append(_table([[t.number + 1, f"{t.score:.4f}", f"{t.std or 0:.4f}", f"{t.duration_s:.1f}s", variant_names(t.params)] for t in done],
                      ["trial", "CV score", "std", "time", "variants"]))
    failed = [t for t in study.trials if t.state == "FAIL"]
    if failed:
        out.append(f"\n\n{len(failed)} trial(s) failed; first error: `{(failed[0].error or '')[:300]}`")
    out += proxy_section(study, path.parent, profile.metric)
    out.append("\n\n## Checks on the exported program\n")
    out += [f"- {k}: {v}" for k, v in checks.items()]
    if _plot_history(study, path.parent / "optimization_history.png", profile.metric):
        out.append("\n\n![optimization history](optimization_history.png)")
    out.append("\n\nFiles: `program.py` (standalone), `model.joblib`, `predictions.csv` (with --test), "
               "`run.json`, `transcript.jsonl`, `graph.json`, `modules/`, `study.log`.\n")
    path.write_text("\n".join(out), encoding="utf-8")
