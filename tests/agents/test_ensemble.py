"""Greedy ensemble selection on out-of-fold predictions, scored like a trial (mean over CV folds)."""
from __future__ import annotations

import numpy as np

from t2ml.agents import ensemble
from t2ml.agents.messages import TrialRecord
from t2ml.templates.program import runtime

CONFIG = {"task": "binary", "metric": "roc_auc", "folds": 5, "seed": 0, "classes": ["0", "1"]}


def _setup(tmp_path, noises):
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, size=600)
    folds = runtime.make_folds(y, "binary", 5, 0)
    trials = []
    for i, noise in enumerate(noises):
        p1 = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(scale=noise, size=len(y)))))
        oof = np.column_stack([1 - p1, p1])
        np.save(tmp_path / f"{i}.npy", oof)
        score = float(np.mean([runtime.score("roc_auc", y[v], oof[v]) for _, v in folds]))
        trials.append(TrialRecord(number=i, state="COMPLETE", params={}, score=score, duration_s=1.0))
    return y, trials


def test_independent_errors_are_averaged_away(tmp_path):
    y, trials = _setup(tmp_path, [2.0, 2.0, 2.0])
    members, score = ensemble.select(trials, tmp_path, y, CONFIG, time_left=100)
    assert len(members) >= 2 and abs(sum(w for _, w in members) - 1) < 1e-9
    assert score > max(t.score for t in trials) + 0.01


def test_time_left_limits_the_members(tmp_path):
    y, trials = _setup(tmp_path, [2.0, 2.0, 2.0])
    members, _ = ensemble.select(trials, tmp_path, y, CONFIG, time_left=1.5)
    assert len(members) == 1  # only the best trial fits; its score is the trial's own


def test_a_useless_member_is_not_added(tmp_path):
    y, trials = _setup(tmp_path, [0.5, 50.0])
    members, score = ensemble.select(trials, tmp_path, y, CONFIG, time_left=100)
    assert members == [(0, 1.0)] and abs(score - trials[0].score) < 1e-12
