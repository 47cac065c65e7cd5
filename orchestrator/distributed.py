"""Where a run keeps its study, for ``t2ml run --jobs N --storage URL --study NAME`` and ``--resume``.

The run folder remembers the storage URL WITHOUT its password (run.json -> config.storage). On
resume the password comes from the URL given again (``--storage``), else from PostgreSQL's own
sources (``PGPASSWORD``, ``~/.pgpass``), which psycopg reads by itself.
"""
from __future__ import annotations

from t2ml.agents import study_storage as ss
from t2ml.errors import ConfigError

from .config import RunConfig
from .runfolder import RunFolder


def attach(config: RunConfig, folder: RunFolder, storage: str | None, study: str | None, jobs: int) -> str | None:
    """Settle jobs, storage and study name of a NEW run; return the storage URL with its password."""
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}", hint="e.g. --jobs 2 (trials run at once on this machine)")
    config.jobs = jobs
    if not storage:
        if study:
            raise ConfigError("--study names a study in --storage, but no --storage was given",
                              hint="add --storage postgresql://USER@HOST/DB, or leave --study out")
        return None
    url = ss.normalize_url(storage)
    name = study or folder.path.name
    if ss.study_exists(ss.open_storage(url), name):
        raise ConfigError(f"the storage already holds a study named {name!r}",
                          hint="choose another --study, or continue that run with `t2ml run --resume RUN_DIR`")
    config.storage, config.study = ss.redact(url), name
    return url


def reattach(config: RunConfig, storage: str | None, jobs: int | None) -> str | None:
    """The storage URL to resume with: the one given again (it must name the same place), else the
    run's own (password from PGPASSWORD or ~/.pgpass)."""
    if jobs is not None:
        if jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, got {jobs}", hint="e.g. --jobs 2")
        config.jobs = jobs
    if not storage:
        return config.storage
    url = ss.normalize_url(storage)
    if config.storage is None or ss.redact(url) != config.storage:
        raise ConfigError(f"--storage {ss.redact(url)} is not where this run keeps its study "
                          f"({config.storage or 'study.log in the run folder'})",
                          hint="give the same URL again (with the password), or leave --storage out")
    return url
