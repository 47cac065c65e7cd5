"""Typed payloads exchanged between roles. Each travels in an autogen ``StructuredMessage``."""
from __future__ import annotations

from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, Field

Task = Literal["binary", "multiclass", "regression"]
Stage = Literal["prepare", "model", "target", "postprocess"]
ColumnKind = Literal["numeric", "categorical", "text", "datetime", "boolean", "id", "constant", "empty"]


class TaskSpec(BaseModel):
    """What the user asked for."""

    text: str
    train_path: str
    test_path: str | None = None
    target: str | None = None
    metric: str | None = None
    time_budget_s: float = 300.0
    trials: int = 60
    seed: int = 0
    folds: int = 5
    drop: list[str] = Field(default_factory=list)


class ColumnProfile(BaseModel):
    name: str
    kind: ColumnKind
    dtype: str
    missing_rate: float
    n_unique: int
    examples: list[str] = Field(default_factory=list)
    note: str | None = None


class DataProfile(BaseModel):
    """A deterministic summary of the data; roles see this, never the raw file."""

    path: str
    file_format: Literal["csv", "parquet"]
    sep: str = ","
    encoding: str = "utf-8"
    n_rows: int
    columns: list[ColumnProfile]
    target: str
    task: Task
    metric: str
    classes: list[str] = Field(default_factory=list)
    class_counts: dict[str, int] = Field(default_factory=dict)
    target_skew: float | None = None
    dropped_columns: dict[str, str] = Field(default_factory=dict)
    datetime_columns: list[str] = Field(default_factory=list)
    rows_missing_target: int = 0
    id_column: str | None = None
    notes: list[str] = Field(default_factory=list)

    def program_config(self, folds: int, seed: int) -> dict[str, Any]:
        """The constants the runtime (worker, tester, exported program) needs."""
        return {"target": self.target, "task": self.task, "metric": self.metric, "classes": self.classes,
                "feature_columns": [c.name for c in self.features()], "datetime_columns": self.datetime_columns,
                "sep": self.sep, "encoding": self.encoding, "folds": folds, "seed": seed,
                "id_column": self.id_column}

    def features(self, kind: str | None = None) -> list[ColumnProfile]:
        usable = [c for c in self.columns if c.name != self.target and c.name not in self.dropped_columns]
        return [c for c in usable if kind is None or c.kind == kind]


class Contract(BaseModel):
    """What a module accepts or promises about the frame or predictions at one edge."""

    kinds: list[str] = Field(default_factory=lambda: ["numeric", "categorical", "text"])
    nan_allowed: bool = True
    numeric_only: bool = False
    rows_preserved: bool = True
    output: Literal["frame", "proba", "values", "target"] = "frame"


class ModuleSpec(BaseModel):
    """One node of the program: a role in the pipeline that coders implement as variants."""

    name: str
    kind: str
    stage: Stage
    purpose: str
    inputs: list[str] = Field(default_factory=list)
    input_contract: Contract
    output_contract: Contract


class ModuleGraph(BaseModel):
    """The planner's output: a DAG of ModuleSpecs along data dependencies."""

    task: Task
    metric: str
    modules: list[ModuleSpec]
    rationale: list[str] = Field(default_factory=list)

    def to_networkx(self) -> nx.DiGraph:
        g = nx.DiGraph()
        for m in self.modules:
            g.add_node(m.name, spec=m)
        for m in self.modules:
            for src in m.inputs:
                g.add_edge(src, m.name)
        return g

    def ordered(self) -> list[ModuleSpec]:
        """Topological order; among ready modules, pipeline stage order (prepare, target, model, postprocess)."""
        g = self.to_networkx()
        rank = {"prepare": 0, "target": 1, "model": 2, "postprocess": 3}
        order = {m.name: i for i, m in enumerate(self.modules)}
        key = lambda n: (rank[g.nodes[n]["spec"].stage], order[n])  # noqa: E731
        return [g.nodes[n]["spec"] for n in nx.lexicographical_topological_sort(g, key=key)]

    def upstream(self, name: str) -> list[ModuleSpec]:
        g = self.to_networkx()
        return [g.nodes[n]["spec"] for n in nx.topological_sort(g) if n in nx.ancestors(g, name)]


class PlanRequest(BaseModel):
    """Orchestrator -> planner."""

    task: TaskSpec
    profile: DataProfile


class CodeRequest(BaseModel):
    """Planner/orchestrator -> coder: write variants of one module."""

    spec: ModuleSpec
    upstream: list[ModuleSpec]
    profile: DataProfile
    feedback: TestFeedback | None = None
    sample_rows: list[dict[str, Any]] | None = None  # a few raw rows, unless the user said --no-data-sample


class ModuleCandidate(BaseModel):
    """One implementation (variant) of a module, with its declared search space."""

    @property
    def filename(self) -> str:
        return f"t2ml_{self.module}__{self.variant}.py"

    module: str
    variant: str
    class_name: str
    source: str
    search_space: dict[str, dict[str, Any]] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    provenance: str
    attempt: int = 0


class CandidateBatch(BaseModel):
    """Coder -> tester."""

    module: str
    candidates: list[ModuleCandidate]
    rejected: dict[str, str] = Field(default_factory=dict)  # variant -> why it was rejected before testing
    notes: list[str] = Field(default_factory=list)


class CheckResult(BaseModel):
    name: str
    passed: bool
    detail: str = ""


class TestReport(BaseModel):
    module: str
    variant: str
    passed: bool
    checks: list[CheckResult] = Field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0


class TestFeedback(BaseModel):
    """Tester -> the coder that owns a failing variant."""

    module: str
    variant: str
    round: int
    failed_checks: list[CheckResult]
    error: str | None = None


class TestRequest(BaseModel):
    """Coder -> tester: candidates of one module, plus what the tests need to build real inputs."""

    spec: ModuleSpec
    batch: CandidateBatch
    upstream: list[ModuleCandidate] = Field(default_factory=list)
    upstream_specs: list[ModuleSpec] = Field(default_factory=list)


class TestOutcome(BaseModel):
    """Tester -> orchestrator: reports, feedback for the owning coder, the variants that passed."""

    module: str
    reports: list[TestReport]
    feedback: list[TestFeedback] = Field(default_factory=list)
    passed: list[ModuleCandidate] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


class VerifiedModule(BaseModel):
    """Tester -> optimizer: the variants of one module that passed their contract tests."""

    module: str
    spec: ModuleSpec
    candidates: list[ModuleCandidate]
    excluded: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class OptimizeRequest(BaseModel):
    graph: ModuleGraph
    modules: list[VerifiedModule]


class TrialRecord(BaseModel):
    number: int
    state: str
    params: dict[str, Any]
    score: float | None = None
    std: float | None = None
    fold_scores: list[float] = Field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None
    proxy: str | None = None  # the proxy reported at step 0 (the pruner's first look)
    proxy_scores: dict[str, float] = Field(default_factory=dict)
    proxy_costs: dict[str, float] = Field(default_factory=dict)
    proxy_higher: dict[str, bool] = Field(default_factory=dict)
    eval_s: float | None = None  # the full (fold-by-fold) evaluation, without the proxies
    pruned_step: int | None = None  # 0: by the proxy; s >= 1: after fold s
    running_score: float | None = None  # PRUNED after fold s >= 1: the mean raw score of its first s folds


class ProxyStats(BaseModel):
    """How good one proxy was in a run (measured on trials that got both it and the full score)."""

    name: str
    n_scored: int  # trials it was computed for
    n_both: int  # of those, trials that also completed the full evaluation
    kendall_tau: float | None  # oriented: +1 = the proxy ranks trials exactly as the full score does
    cost_fraction: float | None  # mean proxy cost / mean full evaluation time of complete trials
    pruned: int  # trials stopped at step 0 by this proxy


class StudyResult(BaseModel):
    """Optimizer -> exporter."""

    best_params: dict[str, Any]
    best_score: float
    best_std: float
    direction: Literal["maximize", "minimize"]
    trials: list[TrialRecord]
    stopped_because: str
    elapsed_s: float
    leakage_probe: dict[str, Any] | None = None
    ensemble: list[tuple[int, float]] = Field(default_factory=list)
    ensemble_score: float | None = None
    pruning: bool = False
    proxy_stats: list[ProxyStats] = Field(default_factory=list)

    def members(self) -> list[tuple[float, dict[str, Any]]]:
        """(weight, trial params) of the exported pipelines: the ensemble, else the best trial."""
        if not self.ensemble:
            return [(1.0, self.best_params)]
        by_number = {t.number: t for t in self.trials}
        return [(w, by_number[n].params) for n, w in self.ensemble]

    def member_trials(self) -> list[int]:
        """1-based trial numbers of the exported pipelines, in the order of ``members()``."""
        if not self.ensemble:
            best = next((t.number for t in self.trials if t.params == self.best_params and t.score == self.best_score), None)
            return [best + 1 if best is not None else 0]
        return [n + 1 for n, _ in self.ensemble]

    @property
    def final_score(self) -> float:
        return self.ensemble_score if self.ensemble_score is not None else self.best_score


CodeRequest.model_rebuild()
