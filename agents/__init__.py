"""Roles (planner, coders, tester, optimizer), their typed messages and model clients.

The role classes are imported on first use, so importing the typed messages stays light.
"""
from importlib import import_module

_ROLES = {"CoderAgent": ".coder", "OptimizerAgent": ".optimizer", "PlannerAgent": ".planner", "TesterAgent": ".tester"}


def __getattr__(name: str) -> object:
    if name in _ROLES:
        return getattr(import_module(_ROLES[name], __name__), name)
    raise AttributeError(f"module 't2ml.agents' has no attribute {name!r}")


__all__ = list(_ROLES)
