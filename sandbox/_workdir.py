"""The work directory every backend prepares and reads back: files in, environment, output tails, results out."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ._base import Files

_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE")


def environment(workdir: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(HOME=str(workdir), TMPDIR=str(workdir), PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg", PYTHONUNBUFFERED="1", PYTHONNOUSERSITE="1",
               # one OpenMP/BLAS thread per process: spin-waiting thread pools collapse on a busy machine
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def write_files(workdir: Path, files: Files) -> None:
    for rel, content in files.items():
        dest = workdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, dest)
        elif isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            dest.write_text(content, encoding="utf-8")


def tail(path: Path, limit: int) -> str:
    if not path.exists():
        return ""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - limit))
        text = fh.read().decode("utf-8", errors="replace")
    return text if size <= limit else f"[... {size - limit} bytes cut ...]\n{text}"


def collect_files(workdir: Path, collect: list[str] | None, collect_to: Path | None) -> dict[str, str]:
    """The text of the named work-dir files, or (with ``collect_to``) their copies' paths."""
    collected = {}
    for rel in collect or []:
        p = workdir / rel
        if p.is_file() and not p.is_symlink():
            if collect_to is not None:
                shutil.copyfile(p, collect_to / rel)
                collected[rel] = str(collect_to / rel)
            else:
                collected[rel] = p.read_text(encoding="utf-8", errors="replace")
    return collected


def is_oom(code: int | None, stderr: str) -> bool:
    return "MemoryError" in stderr or "std::bad_alloc" in stderr or "Cannot allocate memory" in stderr
