"""Model clients: ``builtin`` (offline template synthesizer) or ``openai:MODEL`` (any OpenAI-compatible
server). Roles never hold these directly: they talk to a ``ModelGateway`` role view (guarded.py)."""
from __future__ import annotations

import os

from autogen_core.models import ChatCompletionClient

from t2ml.errors import ConfigError

from .builtin import BuiltinChatCompletionClient
from .guarded import ModelGateway, RoleClient
from .settings import ModelSettings, load_settings


def make_client(settings: ModelSettings) -> tuple[ChatCompletionClient, str]:
    """Return the raw client and the provenance tag its variants carry."""
    if settings.is_builtin:
        return BuiltinChatCompletionClient(), "template"
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    key = os.environ.get(settings.api_key_env)
    if not key:
        raise ConfigError(f"--model {settings.model} needs an API key in ${settings.api_key_env}",
                          hint=f"export {settings.api_key_env}=... (any value for a local server that checks none)")
    info = {"vision": False, "function_calling": False, "json_output": settings.json_output, "family": "unknown",
            "structured_output": settings.structured_output}
    client = OpenAIChatCompletionClient(model=settings.model_name, base_url=settings.base_url, api_key=key,
                                        model_info=info, timeout=settings.timeout_s, max_retries=0)  # type: ignore[arg-type]
    return client, f"llm:{settings.model_name}"


__all__ = ["BuiltinChatCompletionClient", "ModelGateway", "ModelSettings", "RoleClient", "load_settings", "make_client"]
