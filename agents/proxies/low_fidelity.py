"""Low-fidelity proxy for any model family: the pipeline's CV score on a small stratified subsample,
with fewer folds and its size parameters (boosting rounds, trees, epochs) scaled down."""
from __future__ import annotations

from typing import Any

from ._base import Proxy, register


@register
class LowFidelity(Proxy):
    name = "low_fidelity"

    def __init__(self, max_rows: int = 300, folds: int = 3, scale: float = 0.15) -> None:
        self.max_rows, self.folds, self.scale = max_rows, folds, scale

    def applies(self, model_source: str) -> bool:
        return True

    def request(self) -> dict[str, Any]:
        return {"kind": self.name, "max_rows": self.max_rows, "folds": self.folds, "scale": self.scale}

    def higher_is_better(self, metric_maximized: bool) -> bool:
        return metric_maximized  # it is the run's metric
