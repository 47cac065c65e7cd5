"""Getting a module's source out of a model's answer, and rejecting it early when it cannot work.

Models answer in many shapes: one fenced block, several blocks (an example, then the real file),
prose around the code, an unterminated fence, JSON with a "source" field, or bare code. The checks
here are static (the code is never executed outside the sandbox).
"""
from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from functools import lru_cache

from t2ml.templates.library import ParsedSource, SourceError, parse_source

_FENCED = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


def candidate_blocks(text: str) -> list[str]:
    """Every plausible piece of Python in the answer, most likely first."""
    blocks = [body for lang, body in _FENCED.findall(text) if lang.lower() in ("", "python", "py", "python3")]
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            items = data.get("variants") if isinstance(data.get("variants"), list) else [data]
            blocks += [str(i["source"]) for i in items if isinstance(i, dict) and i.get("source")]
    if not blocks:
        blocks.append(stripped)
    return sorted((b.strip("\n") for b in blocks if b.strip()), key=len, reverse=True)


@lru_cache(maxsize=512)
def _installed(name: str) -> bool:
    if name in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_imports(source: str) -> list[str]:
    """Top-level packages the source imports that the sandbox's Python does not have."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if not _installed(n))


def check_source(source: str) -> ParsedSource:
    """Parse the module file format and check its imports; raise SourceError naming what to fix."""
    parsed = parse_source(source)
    missing = missing_imports(source)
    if missing:
        raise SourceError(f"imports {', '.join(missing)}, which the sandbox does not have installed; "
                          "use only the Python standard library, numpy, pandas, scikit-learn and catboost")
    return parsed


def extract_module(text: str) -> tuple[str, ParsedSource]:
    """The best valid module in the answer; SourceError (of the most promising block) when none is valid."""
    errors: list[str] = []
    blocks = candidate_blocks(text)
    for block in blocks:
        try:
            return block, check_source(block)
        except SourceError as exc:
            errors.append(str(exc))
    if not blocks:
        raise SourceError("the answer holds no code; answer with one ```python block holding the whole file")
    raise SourceError(errors[0])
