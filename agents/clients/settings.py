"""Model settings: which model, where it is served, what it can do, what it may cost.

Read, in increasing precedence, from a ``[model]`` table of a TOML config file (``--config``, else
``t2ml.toml`` in the working directory), the environment (``OPENAI_BASE_URL``), and the command line.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from t2ml.errors import ConfigError

CONFIG_NAME = "t2ml.toml"


class ModelSettings(BaseModel):
    """Everything a role needs to talk to a model. Capabilities matter for models the client does not know."""

    model: str = "builtin"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    json_output: bool = True  # server honours response_format json_object
    structured_output: bool = False  # server honours response_format json_schema (the planner then sends it)
    context_tokens: int = 8192
    max_output_tokens: int = 1500
    temperature: float = 0.0
    timeout_s: float = 90.0
    max_retries: int = 4  # for timeouts, HTTP 429 and 5xx, with exponential backoff
    backoff_s: float = 1.0
    max_tokens: int | None = None  # hard budget over the whole run (prompt + completion)
    max_cost: float | None = None  # hard budget in currency units, from the prices below
    price_per_1m_input: float = 0.0
    price_per_1m_output: float = 0.0
    cache_dir: str | None = None  # default: $T2ML_CACHE_DIR or ~/.cache/t2ml/llm
    llm_variants: int = 1  # new variants each LLM coder writes per module, besides the templates
    data_sample: bool = True  # coders see a few sample rows
    sample_rows: int = 5

    @property
    def is_builtin(self) -> bool:
        return self.model == "builtin"

    @property
    def model_name(self) -> str:
        return self.model.split(":", 1)[1] if ":" in self.model else self.model

    def resolved_cache_dir(self) -> Path:
        base = self.cache_dir or os.environ.get("T2ML_CACHE_DIR") or Path.home() / ".cache" / "t2ml" / "llm"
        return Path(base).expanduser()

    def cost_of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_per_1m_input + completion_tokens * self.price_per_1m_output) / 1e6

    def public(self) -> dict[str, Any]:
        """What run.json keeps: the settings, never a key."""
        return self.model_dump(mode="json")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {str(path)!r}: {exc.strerror}",
                          hint="give an existing TOML file with --config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the config file {str(path)!r} is not valid TOML: {exc}",
                          hint="fix the file; see the README section 'Real language models' for an example") from None
    table = data.get("model", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[model] in {str(path)!r} must be a table", hint="write [model] on its own line, then key = value lines")
    unknown = sorted(set(table) - set(ModelSettings.model_fields) - {"name"})
    if unknown:
        raise ConfigError(f"unknown keys in [model] of {str(path)!r}: {unknown}",
                          hint=f"known keys: name, {', '.join(k for k in ModelSettings.model_fields if k != 'model')}")
    if "name" in table:
        table["model"] = table.pop("name")
    return table


def load_settings(config_file: str | None = None, **overrides: Any) -> ModelSettings:
    """Merge the config file, the environment and command-line overrides (None means not given)."""
    values: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(CONFIG_NAME)
    if config_file or path.is_file():
        values.update(_read_toml(path))
    if os.environ.get("OPENAI_BASE_URL") and "base_url" not in values:
        values["base_url"] = os.environ["OPENAI_BASE_URL"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = ModelSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"model setting {'.'.join(map(str, first['loc']))}: {first['msg']} (got {first.get('input')!r})",
                          hint="fix it on the command line or in the [model] table of t2ml.toml") from None
    if not settings.is_builtin and not (settings.model.startswith("openai:") and settings.model_name):
        raise ConfigError(f"unknown model {settings.model!r}", hint="use --model builtin or --model openai:MODEL_NAME")
    for name in ("max_tokens", "max_cost"):
        value = getattr(settings, name)
        if value is not None and value <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {value}", hint="leave it out for no limit")
    if settings.max_cost is not None and settings.price_per_1m_input == settings.price_per_1m_output == 0:
        raise ConfigError("--max-cost needs the model's prices",
                          hint="set price_per_1m_input and price_per_1m_output in the [model] table of t2ml.toml")
    return settings


__all__ = ["CONFIG_NAME", "ModelSettings", "load_settings"]
