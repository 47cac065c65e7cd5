"""Training-free (zero-cost) proxies, scored on a model's untrained network at initialization.

They apply to model variants that offer ``zero_cost_inputs(X, y) -> (network, inputs, targets, loss)``
(the built-in MLP does). Higher is better for all three.
"""
from __future__ import annotations

from typing import Any

from ._base import Proxy, register

HOOK = "def zero_cost_inputs("


class _TrainingFree(Proxy):
    def __init__(self, max_rows: int = 256) -> None:
        self.max_rows = max_rows

    def applies(self, model_source: str) -> bool:
        return HOOK in model_source

    def request(self) -> dict[str, Any]:
        return {"kind": self.name, "max_rows": self.max_rows}


@register
class NASWOT(_TrainingFree):
    """Mellor et al. 2021: log-determinant of the kernel of ReLU activation patterns over a batch."""

    name = "naswot"


@register
class SynFlow(_TrainingFree):
    """Tanaka et al. 2020: synaptic flow of the all-positive network on an all-ones input (log1p)."""

    name = "synflow"


@register
class GradNorm(_TrainingFree):
    """Abdelfattah et al. 2021: summed norms of the loss gradients of one batch."""

    name = "grad_norm"
