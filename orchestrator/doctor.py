"""``t2ml doctor`` and ``t2ml sandbox build``: what this machine offers, and the portable sandbox image.

Only findings are computed here; the CLI prints them. Secret values (API keys) are never read out.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from t2ml.errors import SandboxError
from t2ml.sandbox import engine, image
from t2ml.sandbox.local import LocalSandbox, _unshare_prefix
from t2ml.versions import installed

LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "catboost", "optuna", "autogen-agentchat", "docker")
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


@dataclass(frozen=True)
class Finding:
    topic: str
    ok: bool | None  # None: not needed for what t2ml does by default
    detail: str
    fix: str | None = None


def _python() -> list[Finding]:
    found = {dist: installed(dist) for dist in LIBRARIES}
    versions = [f"{dist} {v}" for dist, v in found.items() if v]
    missing = [dist for dist, v in found.items() if not v]
    listed = ", ".join(versions) + (f"; missing: {', '.join(missing)}" if missing else "")
    return [Finding("python", True, f"{sys.version.split()[0]} at {sys.executable}"),
            Finding("libraries", not missing, listed, "pip install -e . (in the t2ml checkout)" if missing else None)]


def _docker() -> list[Finding]:
    try:
        client = engine.connect()
    except SandboxError as exc:
        return [Finding("docker daemon", False, exc.message, exc.hint)]
    from docker.errors import ImageNotFound

    try:
        version = client.version().get("Version", "?")
        out = [Finding("docker daemon", True, f"answers (server {version})")]
        chosen = os.environ.get(image.IMAGE_ENV)
        present = {}
        for tag in filter(None, (image.BASE_TAG, image.BUILD_TAG, chosen)):
            try:
                client.images.get(tag)
                present[tag] = True
            except ImageNotFound:
                present[tag] = False
    finally:
        client.close()
    if chosen:
        out.append(Finding("sandbox image", present[chosen], f"{image.IMAGE_ENV}={chosen} "
                           + ("(present)" if present[chosen] else "(not present)"),
                           None if present[chosen] else f"t2ml sandbox build --tag {chosen}"))
    elif sys.platform.startswith("linux"):
        base = "present" if present[image.BASE_TAG] else "not yet created (made on first use, nothing downloaded)"
        out.append(Finding("sandbox image", True, f"host-Python mode: base image {image.BASE_TAG} {base}; "
                           f"the host's {sys.prefix} and /usr are mounted read-only"))
    else:
        ok = present[image.BUILD_TAG]
        out.append(Finding("sandbox image", ok, f"{image.BUILD_TAG} " + ("present" if ok else "not present"),
                           None if ok else "t2ml sandbox build (see README: Docker sandbox)"))
    return out


def _local() -> list[Finding]:
    prefix = _unshare_prefix()
    how = f"network cut (unshare {' '.join(prefix[1:])})" if prefix else "network NOT cut (no usable `unshare`)"
    limits = [w.removeprefix("local sandbox: ") for w in LocalSandbox().warnings]
    return [Finding("local sandbox", bool(prefix), how + "; not enforced: " + "; ".join(limits),
                    None if prefix else "install util-linux (unshare) and allow user namespaces, or use Docker")]


def _model_settings() -> list[Finding]:
    names = sorted(n for n in os.environ if n.startswith("OPENAI_"))
    shown = []
    for name in names:
        if any(word in name for word in _SECRET_WORDS):
            shown.append(f"{name} is set")
        elif name == "OPENAI_BASE_URL":
            url = urlsplit(os.environ[name])
            shown.append(f"{name}={url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}{url.path}")
        else:
            shown.append(f"{name} is set")
    has_key = "OPENAI_API_KEY" in os.environ
    return [Finding("model settings", True if has_key else None, "; ".join(shown) or "no OPENAI_* variables set",
                    None if has_key else "only needed for --model openai:MODEL: export OPENAI_API_KEY "
                                         "(any value for a local server) and OPENAI_BASE_URL for non-OpenAI servers")]


def _config_file() -> list[Finding]:
    from t2ml.agents.clients.settings import CONFIG_NAME, load_settings
    from t2ml.errors import ConfigError

    if not Path(CONFIG_NAME).is_file():
        return []
    try:
        s = load_settings()
    except ConfigError as exc:
        return [Finding(CONFIG_NAME, False, exc.message, exc.hint)]
    budget = ", ".join(f"{k} {getattr(s, k)}" for k in ("max_tokens", "max_cost") if getattr(s, k) is not None)
    return [Finding(CONFIG_NAME, True, f"model {s.model}" + (f" at {s.base_url}" if s.base_url else "")
                    + f"; key from ${s.api_key_env}; responses cached in {s.resolved_cache_dir()}"
                    + (f"; budget: {budget}" if budget else ""), None)]


def diagnose() -> list[Finding]:
    """Everything ``t2ml doctor`` reports, in order."""
    return [*_python(), *_docker(), *_local(), *_model_settings(), *_config_file()]


def auto_backend(findings: list[Finding]) -> str:
    daemon = next(f for f in findings if f.topic == "docker daemon")
    return "docker" if daemon.ok else "local"


def build_sandbox_image(base_image: str, ca_bundle: str | None, tag: str,
                        on_line: Callable[[str], None]) -> str:
    """Build sandbox/Dockerfile on ``base_image`` with the host's library versions pinned."""
    client = engine.connect()
    try:
        return image.build_image(client, base_image, tag, Path(ca_bundle) if ca_bundle else None, on_line)
    finally:
        client.close()
