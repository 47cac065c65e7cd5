"""The run folder: everything a run produces, so nothing important lives only in memory."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from t2ml.errors import RunFolderError

STAGES = ("profile", "plan", "code", "test", "optimize", "export")


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:4]
    return "-".join(words) or "run"


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path

    # -- creation / opening ---------------------------------------------------------------
    @classmethod
    def create(cls, out: Path, task_text: str, name: str | None = None) -> "RunFolder":
        """A new folder; an existing one is never reused or overwritten."""
        if name is not None and (not name.strip() or name in (".", "..") or "/" in name or "\\" in name):
            raise RunFolderError(f"--name must be a plain folder name, got {name!r}",
                                 hint="give a name without slashes, not . or .., e.g. --name titanic-1; use --out to choose where runs go")
        if out.exists() and not out.is_dir():
            raise RunFolderError(f"--out must be a folder that receives run folders, but {out} is a file",
                                 hint="pass a folder, e.g. --out runs (the predictions land in the run folder)")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create the folder for runs {out}: {exc.strerror or exc}",
                                 hint="pass a folder you can write to with --out") from None
        base = name or f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{_slug(task_text)}"
        for i in range(1000):
            path = out / (base if i == 0 else f"{base}-{i}")
            try:
                path.mkdir()
            except PermissionError:
                raise RunFolderError(f"cannot write in {out}: permission denied",
                                     hint="pass a folder you can write to with --out") from None
            except FileExistsError:
                if name is not None:
                    raise RunFolderError(f"run folder already exists: {path}",
                                         hint=f"choose another --name, or continue it with --resume {path}") from None
                continue
            return cls(path)
        raise RunFolderError(f"could not create a new run folder in {out}", hint="clean up old runs")

    @classmethod
    def open(cls, path: Path) -> "RunFolder":
        folder = cls(path)
        if not (path / "run.json").is_file():
            raise RunFolderError(f"not a t2ml run folder (no run.json): {path}",
                                 hint="pass the folder printed by `t2ml run`, e.g. runs/<run-id>")
        return folder

    # -- files ----------------------------------------------------------------------------
    def file(self, *parts: str) -> Path:
        return self.path.joinpath(*parts)

    def write_json(self, name: str, data: Any) -> None:
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json")
        tmp = self.file(name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.file(name))

    def read_json(self, name: str) -> Any:
        return json.loads(self.file(name).read_text(encoding="utf-8"))

    def append_transcript(self, sender: str, kind: str, payload: Any) -> None:
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        line = {"time": dt.datetime.now(dt.timezone.utc).isoformat(), "source": sender, "type": kind, "content": payload}
        with self.file("transcript.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, default=str) + "\n")

    # -- stage checkpoints ----------------------------------------------------------------
    def done(self, stage: str) -> bool:
        return self.file("state", f"{stage}.json").is_file()

    def save_stage(self, stage: str, data: Any) -> None:
        self.file("state").mkdir(exist_ok=True)
        self.write_json(f"state/{stage}.json", data)

    def load_stage(self, stage: str) -> Any:
        return self.read_json(f"state/{stage}.json")
