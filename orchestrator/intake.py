"""Reading the user's files: format, delimiter and encoding detection, and clear errors."""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from t2ml.errors import DataError

PARQUET = (".parquet", ".pq")
_DELIMS = ",;\t|"


@dataclass
class Table:
    frame: pd.DataFrame
    path: Path
    file_format: str
    sep: str = ","
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise DataError(f"{what} file not found: {path}", hint="check the path (it is relative to where you run t2ml)")
    if path.is_dir():
        raise DataError(f"{what} path is a folder, not a file: {path}", hint="pass the CSV/TSV/Parquet file itself")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise DataError(f"cannot read {what} file {path}: {exc.strerror}", hint="check the file's permissions") from None
    if path.stat().st_size == 0:
        raise DataError(f"{what} file is empty (0 bytes): {path}", hint="export the data again; it needs a header row and data rows")


def _decode(raw: bytes, path: Path, what: str) -> tuple[str, str, list[str]]:
    for enc in ("utf-8-sig", "utf-8"):
        try:
            return raw.decode(enc), "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8", []
        except UnicodeDecodeError as exc:
            first_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    binary = raw.count(b"\x00") > 0 or best is None
    if not binary and best is not None:
        text = raw.decode(best.encoding, errors="strict") if _decodes(raw, best.encoding) else None
        if text is not None and _looks_textual(text):
            return text, best.encoding, [f"{what} file is not UTF-8; read it as {best.encoding}"]
    hint = ("it looks like a binary file, not a table: pass a CSV, TSV or Parquet file" if binary else
            "save it as UTF-8 CSV (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`), or pass a Parquet file")
    raise DataError(
        f"{what} file is not UTF-8 text: {path} (byte 0x{raw[first_error.start]:02x} at offset {first_error.start})",
        hint=hint)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def _looks_textual(text: str) -> bool:
    sample = text[:20000]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return control <= len(sample) * 0.001


def _sniff(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMS).delimiter
    except csv.Error:
        counts = Counter({d: head.splitlines()[0].count(d) for d in _DELIMS}) if head else Counter()
        best = counts.most_common(1)
        return best[0][0] if best and best[0][1] > 0 else ","


def _header(text: str, sep: str) -> list[str]:
    return next(csv.reader(io.StringIO(text), delimiter=sep), [])


def read_table(path: str | Path, what: str = "training") -> Table:
    """Read a CSV/TSV/Parquet file; every failure is a DataError naming the problem and the fix."""
    path = Path(path)
    _check_file(path, what)
    if path.suffix.lower() in PARQUET:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for corrupt files
            raise DataError(f"cannot read {what} Parquet file {path}: {exc}", hint="check that it is a valid Parquet file") from None
        table = Table(frame, path, "parquet")
    else:
        text, encoding, notes = _decode(path.read_bytes(), path, what)
        sep = _sniff(text, path)
        header = _header(text, sep)
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            raise DataError(f"{what} file has duplicate column names: {dupes}", hint="rename the columns so that each name is unique")
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"cannot parse {what} file {path} as delimited text (delimiter {sep!r}): {exc}",
                            hint="check the file is a CSV/TSV with a header row") from None
        table = Table(frame, path, "csv", sep, encoding, notes)
    if table.frame.shape[1] == 0:
        raise DataError(f"{what} file has no columns: {path}", hint="the first row must be a header")
    if len(table.frame) == 0:
        raise DataError(f"{what} file has a header but no data rows: {path} (columns: {list(table.frame.columns)[:10]})",
                        hint="add data rows below the header")
    return table
