"""Turn verified module variants and their declared search spaces into Optuna suggestions."""
from __future__ import annotations

from typing import Any

import optuna

from .messages import ModuleCandidate, VerifiedModule


def _suggest(trial: optuna.Trial, name: str, dist: dict[str, Any]) -> Any:
    kind = dist["type"]
    if kind == "categorical":
        return trial.suggest_categorical(name, list(dist["choices"]))
    if kind == "int":
        return trial.suggest_int(name, int(dist["low"]), int(dist["high"]), log=bool(dist.get("log", False)))
    return trial.suggest_float(name, float(dist["low"]), float(dist["high"]), log=bool(dist.get("log", False)))


def suggest_pipeline(trial: optuna.Trial, modules: list[VerifiedModule]) -> list[tuple[ModuleCandidate, dict[str, Any]]]:
    """``<module>.variant`` (categorical), then conditional ``<module>.<variant>.<param>``."""
    chosen = []
    for vm in modules:
        by_name = {c.variant: c for c in vm.candidates}
        variant = trial.suggest_categorical(f"{vm.module}.variant", list(by_name))
        cand = by_name[variant]
        params = {p: _suggest(trial, f"{vm.module}.{variant}.{p}", d) for p, d in cand.search_space.items()}
        chosen.append((cand, params))
    return chosen


def pipeline_from_params(params: dict[str, Any], modules: list[VerifiedModule]) -> list[tuple[ModuleCandidate, dict[str, Any]]]:
    """Rebuild the chosen variants and hyperparameters from a trial's flat parameter dict."""
    chosen = []
    for vm in modules:
        by_name = {c.variant: c for c in vm.candidates}
        cand = by_name[params[f"{vm.module}.variant"]]
        prefix = f"{vm.module}.{cand.variant}."
        chosen.append((cand, {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}))
    return chosen


def _in_space(value: Any, dist: dict[str, Any]) -> bool:
    if dist["type"] == "categorical":
        return value in dist["choices"]
    return isinstance(value, (int, float)) and not isinstance(value, bool) and dist["low"] <= value <= dist["high"]


def default_params(cand: ModuleCandidate) -> dict[str, Any]:
    """The variant's constructor defaults, as trial parameters (those that lie in its space)."""
    prefix = f"{cand.module}.{cand.variant}."
    return {prefix + p: cand.defaults[p] for p, d in cand.search_space.items()
            if p in cand.defaults and _in_space(cand.defaults[p], d)}


def warm_start_params(modules: list[VerifiedModule]) -> list[dict[str, Any]]:
    """First trials: the preferred model variant at its defaults, then every model-written variant
    (of any module) once, so each gets measured, then the other model variants, each with the other
    modules at their first (preferred) variant and default hyperparameters."""
    base: dict[str, Any] = {}
    for vm in modules:
        base[f"{vm.module}.variant"] = vm.candidates[0].variant
        base.update(default_params(vm.candidates[0]))

    def swap(vm: VerifiedModule, cand: Any) -> dict[str, Any]:
        params = {k: v for k, v in base.items() if not k.startswith(f"{vm.module}.")}
        return {**params, f"{vm.module}.variant": cand.variant, **default_params(cand)}

    model = next((vm for vm in modules if vm.spec.stage == "model"), None)
    first = [swap(model, model.candidates[0])] if model is not None else [base]
    written = [swap(vm, c) for vm in modules for c in vm.candidates
               if c.provenance.startswith("llm:") and c is not vm.candidates[0]]
    rest = [swap(model, c) for c in model.candidates[1:] if not c.provenance.startswith("llm:")] if model else []
    return first + written + rest
