"""Roles (planner, coders, tester, optimizer), their typed messages and model clients."""
from .coder import CoderAgent
from .optimizer import OptimizerAgent
from .planner import PlannerAgent
from .tester import TesterAgent

__all__ = ["CoderAgent", "OptimizerAgent", "PlannerAgent", "TesterAgent"]
