"""Greedy ensemble selection (Caruana et al. 2004) over the out-of-fold predictions of completed trials.

Scored exactly like a trial: the mean over the same CV folds of the metric on the weighted average of
the members' out-of-fold predictions. Members are limited so that re-running them in the exported
program fits in the time that is left.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from t2ml.templates.program import runtime

from .messages import TrialRecord


def _cv_score(pred: np.ndarray, y: np.ndarray, folds: list, metric: str) -> float:
    return float(np.mean([runtime.score(metric, y[v], pred[v]) for _, v in folds]))


def select(trials: list[TrialRecord], oof_dir: Path, y: np.ndarray, config: dict[str, Any],
           time_left: float, max_candidates: int = 15, rounds: int = 25) -> tuple[list[tuple[int, float]], float]:
    """Return [(trial number, weight)] and the ensemble's CV score; a single member when nothing helps."""
    metric = config["metric"]
    sign = -1.0 if metric in runtime.MINIMIZE else 1.0
    done = [t for t in trials if t.state == "COMPLETE" and t.score is not None  # never PRUNED or FAIL trials
            and (oof_dir / f"{t.number}.npy").is_file()]
    done.sort(key=lambda t: sign * t.score, reverse=True)
    if not done:
        return [], float("nan")
    best = done[0]
    pool = [t for t in done[:max_candidates] if t.duration_s <= time_left]
    if best not in pool:
        pool.insert(0, best)
    oof = {t.number: np.load(oof_dir / f"{t.number}.npy") for t in pool}
    folds = runtime.make_folds(y, config["task"], config["folds"], config["seed"])
    chosen: list[int] = [best.number]
    total = oof[best.number].copy()
    best_score = _cv_score(total, y, folds, metric)
    cost = {t.number: t.duration_s for t in pool}
    for _ in range(rounds):
        spent = sum(cost[n] for n in set(chosen))
        scored = []
        for t in pool:
            if t.number not in chosen and spent + cost[t.number] > time_left:
                continue
            candidate = (total + oof[t.number]) / (len(chosen) + 1)
            scored.append((sign * _cv_score(candidate, y, folds, metric), t.number))
        if not scored:
            break
        value, number = max(scored)
        if value <= sign * best_score + 1e-12:
            break
        chosen.append(number)
        total += oof[number]
        best_score = sign * value
    counts = {n: chosen.count(n) for n in dict.fromkeys(chosen)}
    return [(n, c / len(chosen)) for n, c in counts.items()], best_score
