"""Where the Optuna study lives: a journal file in the run folder (one machine, ``--jobs N``), or
PostgreSQL (``t2ml worker`` processes on any number of machines).

Everything a remote worker needs is published in the study's user attributes (``t2ml.*``): the
program config, the verified module sources, the data file's name and hash, the trial budget and the
wall-clock deadline, and a ``finished`` flag. Trial budgets are exact across processes: a trial is
reserved (counted, then asked) under a lock that every process takes — a PostgreSQL advisory lock, or
an advisory lock (flock) on the journal file.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import warnings
import zlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from t2ml.errors import ConfigError

from .sampler import make_sampler

HEARTBEAT_S = 2  # a process records a heartbeat for each of its running trials this often (PostgreSQL)
GRACE_S = 15  # a RUNNING trial without a heartbeat for this long belongs to a dead process: it is failed
USED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.RUNNING)
FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
ATTR = "t2ml."


def is_url(storage: str | Path | None) -> bool:
    return isinstance(storage, str) and "://" in storage


def normalize_url(url: str) -> str:
    """postgresql:// and postgres:// -> postgresql+psycopg:// (psycopg 3); other schemes are refused."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    raise ConfigError(f"unsupported storage URL scheme {scheme!r} in {redact(url)!r}",
                      hint="use postgresql://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass), "
                           "or leave --storage out for the journal file in the run folder")


def redact(url: str) -> str:
    """The URL without its password (safe to write to run.json and logs)."""
    if not is_url(url):
        return url
    scheme, _, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}@{host}"


def rdb_of(storage: BaseStorage) -> RDBStorage | None:
    """The RDBStorage behind ``storage`` (Optuna wraps it in a cache inside a Study), else None."""
    inner = getattr(storage, "_backend", storage)
    return inner if isinstance(inner, RDBStorage) else None


def open_storage(storage: str | Path) -> BaseStorage:
    """A journal file (path) or PostgreSQL (URL, with heartbeats so dead workers' trials are failed)."""
    if not is_url(storage):
        return JournalStorage(JournalFileBackend(str(storage)))
    url = normalize_url(str(storage))
    try:
        with warnings.catch_warnings():  # heartbeat_interval is flagged experimental upstream
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, engine_kwargs={"pool_pre_ping": True}, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
    except Exception as exc:  # sqlalchemy/psycopg errors: bad host, password, database
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot open the study storage {redact(str(storage))}: {reason}",
                          hint="check host, port, database and user; give the password in the URL, PGPASSWORD or "
                               "~/.pgpass") from None


def open_study(storage: BaseStorage, name: str, metric_minimize: bool, seed: int, create: bool = True) -> optuna.Study:
    sampler = make_sampler(seed)
    if not create:
        try:
            return optuna.load_study(study_name=name, storage=storage, sampler=sampler)
        except KeyError:
            raise ConfigError(f"no study named {name!r} in this storage",
                              hint="give the --study name the coordinator printed (`t2ml run ... --storage URL`)") from None
    return optuna.create_study(study_name=name, storage=storage, sampler=sampler, load_if_exists=True,
                               direction="minimize" if metric_minimize else "maximize")


def study_exists(storage: BaseStorage, name: str) -> bool:
    return any(s.study_name == name for s in storage.get_all_studies())


def get_attr(study: optuna.Study, key: str, default: Any = None) -> Any:
    return study._storage.get_study_user_attrs(study._study_id).get(ATTR + key, default)


def set_attr(study: optuna.Study, key: str, value: Any) -> None:
    study.set_user_attr(ATTR + key, value)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count(study: optuna.Study, states: tuple[TrialState, ...]) -> int:
    return len(study._storage.get_all_trials(study._study_id, deepcopy=False, states=states))


@contextlib.contextmanager
def reservation_lock(storage: BaseStorage, study_name: str, journal: Path | None) -> Iterator[None]:
    """Held while a process counts the trials and asks a new one, so the budget is never overshot."""
    rdb = rdb_of(storage)
    if rdb is not None:
        import sqlalchemy

        with rdb.engine.connect() as conn, conn.begin():
            conn.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "t2ml:" + study_name})
            yield
        return
    assert journal is not None
    with open(journal, "a") as fh:  # an advisory lock on the journal itself (Optuna's own lock is a separate file)
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def encode_oof(oof: Any) -> str:
    """Out-of-fold predictions as a trial attribute (float64 with its shape, exact), for trials run on
    other machines: the coordinator's ensemble selection reads them from the study."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(oof, dtype="float64"), allow_pickle=False)
    return base64.b64encode(zlib.compress(buf.getvalue(), 6)).decode()


def decode_oof(text: str) -> np.ndarray:
    return np.load(io.BytesIO(zlib.decompress(base64.b64decode(text))), allow_pickle=False)
