"""Proxies: cheap scores that predict a trial's full cross-validated score (the pluggable axis of pruning).

A proxy is computed by the sandboxed evaluation worker (``proxy`` request, see
``sandbox/runtime/proxy_ops.py``), never in the orchestrator's process. Subclasses say which model
variants they apply to and which request the worker gets; ``register`` makes them selectable by name.
"""
from __future__ import annotations

import abc
from typing import Any, ClassVar

from pydantic import BaseModel

from t2ml.sandbox import Worker


class ProxyError(RuntimeError):
    """The worker could not compute a proxy (the trial goes on without it)."""


class ProxyResult(BaseModel):
    name: str
    score: float
    cost_s: float
    higher_is_better: bool


class Proxy(abc.ABC):
    """Base class: ``name``, ``applies(model_source)``, ``request()``; ``score`` asks the worker.

    ``worth_it(n_rows)`` may say a proxy is not worth its cost on data of this size (the trial then goes
    straight to its first fold, which is then the cheapest check)."""

    name: ClassVar[str]

    @abc.abstractmethod
    def applies(self, model_source: str) -> bool:
        """Whether this proxy can score a pipeline whose model variant has this source."""

    @abc.abstractmethod
    def request(self) -> dict[str, Any]:
        """The fields of the worker's ``proxy`` request (at least ``kind``)."""

    def worth_it(self, n_rows: int) -> bool:
        return True

    def higher_is_better(self, metric_maximized: bool) -> bool:
        return True

    async def score(self, worker: Worker, steps: list[dict[str, Any]], metric_maximized: bool,
                    timeout_s: float) -> ProxyResult:
        reply = await worker.request({"op": "proxy", "steps": steps, **self.request()}, timeout_s=timeout_s)
        if not reply.get("ok"):
            raise ProxyError(f"proxy {self.name!r} failed in the worker: {reply.get('error')}")
        return ProxyResult(name=self.name, score=float(reply["score"]), cost_s=float(reply["cost_s"]),
                           higher_is_better=self.higher_is_better(metric_maximized))


_REGISTRY: dict[str, type[Proxy]] = {}


def register(cls: type[Proxy]) -> type[Proxy]:
    """Class decorator: make a proxy selectable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str, **kwargs: Any) -> Proxy:
    if name not in _REGISTRY:
        raise KeyError(f"unknown proxy {name!r}; registered: {', '.join(_REGISTRY)} "
                       "(register a Proxy subclass with t2ml.agents.proxies.register)")
    return _REGISTRY[name](**kwargs)
