"""The built-in module library: vetted variants (one file each in ``modules/``) and when they apply."""
from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable

from t2ml.agents.messages import DataProfile
from t2ml.templates.program.runtime import LABEL_METRICS


class SourceError(ValueError):
    """A module source does not follow the module file format."""


@dataclass(frozen=True)
class ParsedSource:
    class_name: str
    search_space: dict[str, dict[str, Any]]
    description: str
    defaults: dict[str, Any]


def _constructor_defaults(cls: ast.ClassDef) -> dict[str, Any]:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args.args[-len(node.args.defaults):] if node.args.defaults else []
            pairs = list(zip(args, node.args.defaults))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
            out = {}
            for arg, default in pairs:
                try:
                    out[arg.arg] = ast.literal_eval(default)
                except ValueError:
                    continue
            return out
    return {}


def parse_source(source: str) -> ParsedSource:
    """Read class name, SEARCH_SPACE and description statically (the source is never executed here)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SourceError(f"not valid Python: line {exc.lineno}: {exc.msg}") from None
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]
    if len(classes) != 1:
        raise SourceError(f"expected exactly one public class, found {len(classes)}: {classes}")
    space: dict[str, dict[str, Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SEARCH_SPACE" for t in node.targets):
            try:
                space = ast.literal_eval(node.value)
            except ValueError:
                raise SourceError("SEARCH_SPACE must be a plain dict literal") from None
    for key, dist in space.items():
        if not isinstance(dist, dict) or dist.get("type") not in {"int", "float", "categorical"}:
            raise SourceError(f"SEARCH_SPACE[{key!r}] needs type int, float or categorical; got {dist!r}")
    doc = (ast.get_docstring(tree) or classes[0]).strip().splitlines()[0]
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == classes[0])
    return ParsedSource(classes[0], space, doc, _constructor_defaults(cls))


def _has(kind: str) -> Callable[[DataProfile], bool]:
    return lambda p: bool(p.features(kind))


def _importable(name: str) -> bool:
    """Optional libraries (the ``torch`` extra): a variant that needs one is offered only when it imports."""
    return importlib.util.find_spec(name) is not None


def _classification(p: DataProfile) -> bool:
    return p.task != "regression"


# module kind -> variant -> applicability rule (the planner decides which kinds appear at all)
APPLIES: dict[str, dict[str, Callable[[DataProfile], bool]]] = {
    "text": {"tokens": lambda p: True, "drop": lambda p: True},
    "impute": {"simple": lambda p: True, "constant": lambda p: True},
    "encode": {"ordinal": lambda p: True, "onehot": lambda p: True, "target": lambda p: True},
    "scale": {"none": lambda p: True, "standard": lambda p: True, "quantile": lambda p: p.n_rows >= 50},
    # cheapest strong model first: it is the first trial, which must finish even on a tight budget
    "model": {"hist_gradient_boosting": lambda p: True, "catboost": lambda p: True,
              "forest": lambda p: True, "linear": lambda p: True, "mlp": lambda p: _importable("torch")},
    "target": {"identity": lambda p: True, "log": lambda p: p.task == "regression"},
    "postprocess": {"identity": _classification,
                    "threshold": lambda p: p.task == "binary" and p.metric in LABEL_METRICS,
                    "calibration": lambda p: _classification(p) and p.metric in {"log_loss"} | LABEL_METRICS},
}


def template_source(kind: str, variant: str) -> str:
    return resources.files("t2ml.templates.modules").joinpath(f"{kind}__{variant}.py").read_text("utf-8")


def variants_for(kind: str, profile: DataProfile) -> list[str]:
    """Variants of ``kind`` that apply to this data, in preference order."""
    return [v for v, rule in APPLIES.get(kind, {}).items() if rule(profile)]


def available_kinds() -> list[str]:
    return list(APPLIES)
