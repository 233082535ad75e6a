"""Opening recorded files: plain or gzip-compressed, as text or bytes, with one clear error."""

from __future__ import annotations

import gzip
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


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    return path
