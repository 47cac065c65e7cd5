"""Model clients: ``builtin`` (offline template synthesizer) or ``openai:MODEL`` (any OpenAI-compatible server)."""
from __future__ import annotations

import os

from autogen_core.models import ChatCompletionClient

from t2ml.errors import ConfigError

from .builtin import BuiltinChatCompletionClient


def make_client(spec: str) -> tuple[ChatCompletionClient, str]:
    """Return the client and the provenance tag its variants carry."""
    if spec == "builtin":
        return BuiltinChatCompletionClient(), "template"
    if spec.startswith("openai:") and len(spec) > len("openai:"):
        from autogen_ext.models.openai import OpenAIChatCompletionClient

        model = spec.split(":", 1)[1]
        kwargs = {"model": model, "base_url": os.environ.get("OPENAI_BASE_URL") or None,
                  "model_info": {"vision": False, "function_calling": False, "json_output": True,
                                 "family": "unknown", "structured_output": False}}
        if not os.environ.get("OPENAI_API_KEY"):
            raise ConfigError("--model openai:... needs an API key", hint="set OPENAI_API_KEY (any value for local servers)")
        return OpenAIChatCompletionClient(**kwargs), f"llm:{model}"
    raise ConfigError(f"unknown model {spec!r}", hint="use --model builtin or --model openai:MODEL_NAME")


__all__ = ["BuiltinChatCompletionClient", "make_client"]
