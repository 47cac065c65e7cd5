"""Low-fidelity proxy for any model family: the pipeline's CV score on a small stratified subsample,
with fewer folds and its size parameters (boosting rounds, trees, epochs) scaled down.

On small data it is not used: its fits on ``max_rows`` rows then cost about as much as the first fold
on all the rows (start-up costs dominate), and that fold is the better predictor of the full score
(paired with every other trial's same fold). It is used when its subsample is at most ``max_share``
of the training rows (300 of at least 2,000 rows by default)."""
from __future__ import annotations

from typing import Any

from ._base import Proxy, register


@register
class LowFidelity(Proxy):
    name = "low_fidelity"

    def __init__(self, max_rows: int = 300, folds: int = 3, scale: float = 0.15, max_share: float = 0.15) -> None:
        self.max_rows, self.folds, self.scale, self.max_share = max_rows, folds, scale, max_share

    def applies(self, model_source: str) -> bool:
        return True

    def worth_it(self, n_rows: int) -> bool:
        return self.max_rows <= self.max_share * n_rows

    def request(self) -> dict[str, Any]:
        return {"kind": self.name, "max_rows": self.max_rows, "folds": self.folds, "scale": self.scale}

    def higher_is_better(self, metric_maximized: bool) -> bool:
        return metric_maximized  # it is the run's metric
