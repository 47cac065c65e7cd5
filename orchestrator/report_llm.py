"""The language-model part of the summary and report: usage and cost per role, and how the
model-written variants fared against the templates."""
from __future__ import annotations

from t2ml.agents.messages import StudyResult, VerifiedModule


def llm_outcomes(modules: list[VerifiedModule], study: StudyResult) -> dict[str, str]:
    """module/variant -> what became of each model-written variant."""
    out: dict[str, str] = {}
    sign = 1.0 if study.direction == "maximize" else -1.0
    for vm in modules:
        for c in vm.candidates:
            if not c.provenance.startswith("llm:"):
                continue
            scores = [t.score for t in study.trials if t.params.get(f"{vm.module}.variant") == c.variant
                      and t.score is not None]
            repaired = f", repaired in round {c.attempt}" if c.attempt else ""
            out[f"{vm.module}/{c.variant}"] = (f"passed{repaired}; " + (
                f"best CV {max(scores, key=lambda s: sign * s):.4f} in {len(scores)} trial(s)" if scores
                else "not picked by any trial"))
        for v, why in vm.excluded.items():
            if v.startswith("llm"):
                out[f"{vm.module}/{v}"] = f"excluded: {why}"
    return out


def llm_section(model: str, usage: dict[str, dict[str, float]], outcomes: dict[str, str],
                exhausted: str | None) -> list[str]:
    if model == "builtin":
        return []
    lines = [f"\n\n## Language model\n\nModel `{model}`."]
    if exhausted:
        lines.append(f" **Model budget ran out**: {exhausted}; the run finished with the best verified program.")
    if usage:
        head = "| role | calls | cached | retries | prompt tokens | completion tokens | cost |\n|---|---|---|---|---|---|---|"
        rows = [f"| {r} | {u['calls']} | {u['cached_calls']} | {u['retries']} | {u['prompt_tokens']} | "
                f"{u['completion_tokens']} | {u['cost']:.4f} |" for r, u in usage.items()]
        lines.append("\n\n" + "\n".join([head, *rows]))
    if outcomes:
        lines.append("\n\nModel-written variants:\n" + "\n".join(f"- `{k}`: {v}" for k, v in outcomes.items()))
    return lines
