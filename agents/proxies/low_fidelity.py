"""Low-fidelity proxy for any model family: the pipeline's CV score on a small stratified subsample,
with fewer folds and its size parameters (boosting rounds, trees, epochs) scaled down.

It is used only on large data: where its subsample is at most ``max_share`` of the training rows (300 of
at least 20,000 rows by default). On smaller data it does not pay: its fits on ``max_rows`` rows cost
about as much as the first fold on all the rows (start-up costs dominate), and that fold is the better
predictor of the full score (paired with every other trial's same fold). Measured on credit (3,600
training rows, proxy at 4-6% of a full evaluation): Kendall tau -0.30 to +0.29 with the full score, and
pruning with it lost more score for less speed than the folds alone (benchmarks/PROXIES.md)."""
from __future__ import annotations

from typing import Any

from ._base import Proxy, register


@register
class LowFidelity(Proxy):
    name = "low_fidelity"

    def __init__(self, max_rows: int = 300, folds: int = 3, scale: float = 0.15, max_share: float = 0.015) -> None:
        self.max_rows, self.folds, self.scale, self.max_share = max_rows, folds, scale, max_share

    def applies(self, model_source: str) -> bool:
        return True

    def worth_it(self, n_rows: int) -> bool:
        return self.max_rows <= self.max_share * n_rows

    def request(self) -> dict[str, Any]:
        return {"kind": self.name, "max_rows": self.max_rows, "folds": self.folds, "scale": self.scale}

    def higher_is_better(self, metric_maximized: bool) -> bool:
        return metric_maximized  # it is the run's metric
