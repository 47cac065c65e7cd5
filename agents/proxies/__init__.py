"""Proxy registry: ``get(name)``, ``names()``, ``register`` for custom proxies (see ``_base.Proxy``)."""
from ._base import Proxy, ProxyError, ProxyResult, get, names, register
from . import low_fidelity, training_free  # noqa: F401  (registers the built-in proxies)

__all__ = ["Proxy", "ProxyError", "ProxyResult", "get", "names", "register"]
