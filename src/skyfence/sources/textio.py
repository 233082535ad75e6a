"""Opening recorded files: plain or gzip-compressed, as text, bytes or JSON documents, with one clear error."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import IO

from skyfence.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_text(path: str | Path) -> IO[str]:
    """A text file (UTF-8, undecodable bytes replaced), decompressed if it is gzip."""
    path = _existing(path)
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, decompressed if it is gzip."""
    path = _existing(path)
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def head(path: str | Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of the (decompressed) file."""
    path = _existing(path)
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as f:
                return f.read(size)
        with open(path, "rb") as f:
            return f.read(size)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def json_documents(path: str | Path, bad: Counter) -> list:
    """The JSON in a file: one document, or one a line (bad lines counted in ``bad``); an error if none."""
    with open_text(path) as f:
        text = f.read().strip()
    if not text:
        raise InputError(f"{path}: empty file")
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        pass
    docs = []
    for line in text.splitlines():
        if line.strip():
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                bad["malformed JSON line"] += 1
    if not docs:
        raise InputError(f"{path}: not JSON")
    return docs


def json_number(value) -> float | None:
    """A JSON number as float; anything else (null, text, true/false) as None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    return path
