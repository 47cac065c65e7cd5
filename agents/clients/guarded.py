"""Every model call of a run goes through here: cache, hard budgets, retries with backoff, clear errors,
per-role usage, and the exact request and response in the transcript.

``ModelGateway`` owns the shared state; ``gateway.for_role(name)`` is the autogen
``ChatCompletionClient`` a role talks to.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncGenerator, Callable, Mapping, Optional, Sequence

import openai
from autogen_core import CancellationToken
from autogen_core.models import (ChatCompletionClient, CreateResult, LLMMessage, ModelCapabilities, ModelInfo,
                                 RequestUsage)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from t2ml.errors import ModelClientError

from .cache import ResponseCache
from .ledger import Ledger
from .settings import ModelSettings

log = logging.getLogger(__name__)
Recorder = Callable[[dict[str, Any]], None]
RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


def message_dicts(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """The request as sent (role, source, content), for the transcript and the cache key."""
    return [{"type": type(m).__name__, "source": getattr(m, "source", None), "content": m.content} for m in messages]


def _retry_after(exc: Exception, default: float) -> float:
    response = getattr(exc, "response", None)
    try:
        value = float(response.headers.get("retry-after")) if response is not None else default
    except (TypeError, ValueError):
        value = default
    return min(max(value, 0.0), 30.0)


class ModelGateway:
    def __init__(self, inner: ChatCompletionClient, settings: ModelSettings, record: Recorder | None = None,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.inner, self.settings = inner, settings
        self.record = record or (lambda event: None)
        self.ledger = Ledger(settings=settings)
        self.cache = None if settings.is_builtin else ResponseCache(settings.resolved_cache_dir())
        self._sleep = sleep

    def for_role(self, role: str) -> "RoleClient":
        return RoleClient(self, role)

    def _translate(self, exc: Exception) -> ModelClientError:
        s = self.settings
        where = s.base_url or "the default OpenAI endpoint"
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return ModelClientError(f"the model server at {where} rejected the API key (HTTP {exc.status_code})",
                                    hint=f"set {s.api_key_env} to a valid key (any value for a local server that needs none)")
        if isinstance(exc, openai.NotFoundError):
            return ModelClientError(f"model {s.model_name!r} is unknown to the server at {where} (HTTP 404)",
                                    hint="check --model openai:NAME against the server's model list (GET <base-url>/models) "
                                         "and --base-url / OPENAI_BASE_URL")
        if isinstance(exc, RETRYABLE):
            return ModelClientError(f"the model server at {where} kept failing after {s.max_retries} retries: "
                                    f"{type(exc).__name__}: {exc}",
                                    hint="check the server is up and not overloaded; raise timeout_s / max_retries in t2ml.toml")
        return ModelClientError(f"the model server at {where} refused the request: {type(exc).__name__}: {exc}",
                                hint="check the model's capabilities in t2ml.toml (json_output, structured_output, "
                                     "context_tokens, max_output_tokens)")

    async def create(self, role: str, messages: Sequence[LLMMessage], json_output: Any,
                     extra: Mapping[str, Any], token: CancellationToken | None) -> CreateResult:
        sent = message_dicts(messages)
        fmt = json_output.__name__ if isinstance(json_output, type) else json_output
        request = {"messages": sent, "json_output": fmt, "extra": dict(extra), "temperature": self.settings.temperature}
        key = ResponseCache.key(self.settings.model, request) if self.cache else ""
        hit = self.cache.get(key) if self.cache else None
        if hit is not None:
            self.ledger.add(role, 0, 0, cached=True, retries=0)
            self.record({"role": role, "model": self.settings.model, "request": sent, "response": hit["content"],
                         "cached": True, "usage": {"prompt_tokens": 0, "completion_tokens": 0}})
            return CreateResult(finish_reason=hit.get("finish_reason", "stop"), content=hit["content"],
                                usage=RequestUsage(prompt_tokens=0, completion_tokens=0), cached=True)
        args = dict(extra)
        if not self.settings.is_builtin:
            prompt_chars = sum(len(str(m["content"])) for m in sent)
            args["max_tokens"] = self.ledger.completion_allowance(prompt_chars)
            args.setdefault("temperature", self.settings.temperature)
        retries, started = 0, time.monotonic()
        while True:
            try:
                result = await self.inner.create(messages, json_output=json_output, extra_create_args=args,
                                                 cancellation_token=token)
                break
            except RETRYABLE as exc:
                if retries >= self.settings.max_retries:
                    self.ledger.add(role, 0, 0, cached=False, retries=retries)
                    raise self._translate(exc) from None
                delay = _retry_after(exc, self.settings.backoff_s * 2 ** retries)
                self.record({"role": role, "event": "model_retry", "attempt": retries + 1,
                             "error": f"{type(exc).__name__}: {str(exc)[:300]}", "wait_s": delay})
                log.info("%s: %s, retrying in %.1fs", role, type(exc).__name__, delay)
                retries += 1
                await self._sleep(delay)
            except openai.APIError as exc:
                raise self._translate(exc) from None
        usage = result.usage
        self.ledger.add(role, usage.prompt_tokens, usage.completion_tokens, cached=False, retries=retries)
        content = result.content if isinstance(result.content, str) else str(result.content)
        self.record({"role": role, "model": self.settings.model, "request": sent, "response": content,
                     "cached": False, "retries": retries, "duration_s": round(time.monotonic() - started, 2),
                     "finish_reason": result.finish_reason, "max_tokens": args.get("max_tokens"),
                     "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}})
        if self.cache and result.finish_reason in ("stop", "length"):
            self.cache.put(key, {"content": content, "finish_reason": result.finish_reason,
                                 "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}})
        return CreateResult(finish_reason=result.finish_reason, content=content, usage=usage, cached=False)


class RoleClient(ChatCompletionClient):
    """One role's view of the gateway; implements autogen's model-client interface."""

    def __init__(self, gateway: ModelGateway, role: str) -> None:
        self.gateway, self.role = gateway, role

    @property
    def settings(self) -> ModelSettings:
        return self.gateway.settings

    async def create(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = [],
                     tool_choice: Any = "auto", json_output: Optional[bool | type[BaseModel]] = None,
                     extra_create_args: Mapping[str, Any] = {},
                     cancellation_token: Optional[CancellationToken] = None) -> CreateResult:
        return await self.gateway.create(self.role, messages, json_output, extra_create_args, cancellation_token)

    async def create_stream(self, messages: Sequence[LLMMessage], **kwargs: Any) -> AsyncGenerator[str | CreateResult, None]:  # type: ignore[override]
        yield await self.create(messages, **kwargs)

    async def close(self) -> None:
        return None

    def _usage(self) -> RequestUsage:
        u = self.gateway.ledger.usage(self.role)
        return RequestUsage(prompt_tokens=u.prompt_tokens, completion_tokens=u.completion_tokens)

    def actual_usage(self) -> RequestUsage:
        return self._usage()

    def total_usage(self) -> RequestUsage:
        return self._usage()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return int(sum(len(str(m.content)) for m in messages) / 3)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.settings.context_tokens - self.count_tokens(messages)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return self.gateway.inner.capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self.gateway.inner.model_info
