"""Opening recorded files: plain or gzip, as bytes, text lines or JSON documents, never failing on damage.

Decompression is guarded: a gzip stream that is damaged or cut short yields
everything before the damage and counts the damage once (the records after
it cannot be told apart); for text, the line the damage cut is dropped and
counted too. Lines are bounded (``MAX_LINE``): a longer one is counted and
skipped, never held whole. Undecodable UTF-8 bytes become U+FFFD, so one bad
byte spoils at most its own record. Only ``\\n``, ``\\r\\n`` and ``\\r`` end a
line (not U+2028 and the other separators ``str.splitlines`` knows).
"""

from __future__ import annotations

import io
import json
import math
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from skyfence.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE = 16 << 20  # characters: far above any record of any text format (a busy aircraft.json line is ~1 MB)
MAX_DOCUMENT = 512 << 20  # bytes of one JSON document
CHUNK = 1 << 16
GZIP_DAMAGED = "damaged gzip data (the rest of the file is unreadable)"
GZIP_CUT_RECORD = "record cut by gzip damage"
GZIP_TRAILING = "data after the end of the gzip stream"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def inflate(f: BinaryIO, bad: Counter, lines: bool = False) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (one member or several), up to the first damage.

    Damage (a corrupt block, a bad checksum, a stream cut short, junk after the
    end) stops the stream and is counted once in ``bad``. Output is kept up to
    the byte where zlib failed. With ``lines``, the unfinished line at the
    damage is dropped and counted as a cut record.
    """
    tail = b""  # with ``lines``: output after the last newline, held until the line ends

    def emit(out: bytes) -> Iterator[bytes]:
        nonlocal tail
        if not lines:
            if out:
                yield out
            return
        data = tail + out
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        if cut:
            yield data[:cut]

    def damaged(reason: str) -> None:
        bad[reason] += 1
        if lines and tail.strip():
            bad[GZIP_CUT_RECORD] += 1

    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    started = False  # the current member has received input
    pending = b""
    while True:
        if not pending:
            pending = f.read(CHUNK)
            if not pending:
                if started and not d.eof:
                    damaged(GZIP_DAMAGED)
                    return
                break
        if not started and not pending.startswith(GZIP_MAGIC[:len(pending)]):
            if pending.strip(b"\0"):  # zero padding after the last member is common; anything else is not
                damaged(GZIP_TRAILING)
                return
            pending = b""
            continue
        saved = d.copy()
        try:
            out = d.decompress(pending)
        except zlib.error:
            d = saved  # again a byte at a time, to keep every byte before the damage
            for i in range(len(pending)):
                try:
                    yield from emit(d.decompress(pending[i:i + 1]))
                except zlib.error:
                    damaged(GZIP_DAMAGED)
                    return
                if d.eof:
                    break
            else:
                pending = b""
                started = True
                continue
            out, pending = b"", pending[i + 1:]
        else:
            pending = b""
        started = True
        yield from emit(out)
        if d.eof:  # a member ended: another may follow
            pending = d.unused_data + pending
            d, started = zlib.decompressobj(zlib.MAX_WBITS | 16), False
    if tail:
        yield tail


class _ChunkStream(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes], closer: IO) -> None:
        self._chunks, self._closer, self._buf = chunks, closer, b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            self._buf = next(self._chunks, b"")
            if not self._buf:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._closer.close()
        super().close()


def open_binary(path: str | Path, bad: Counter | None = None, lines: bool = False) -> BinaryIO:
    """The file's bytes as a stream, decompressed (guarded) if it is gzip; damage is counted in ``bad``."""
    path = existing_file(path)
    bad = bad if bad is not None else Counter()
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if f.read(2) != GZIP_MAGIC:
        f.seek(0)
        return f
    f.seek(0)
    return io.BufferedReader(_ChunkStream(inflate(f, bad, lines), f), CHUNK)


def open_text(path: str | Path, bad: Counter | None = None) -> IO[str]:
    """A text file (UTF-8, undecodable bytes replaced; universal newlines), gzip decompressed and guarded."""
    return io.TextIOWrapper(open_binary(path, bad, lines=True), encoding="utf-8", errors="replace", newline=None)


def text_lines(path: str | Path, bad: Counter, limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of a text file (with their newline); a line longer than ``limit`` is counted and skipped."""
    with open_text(path, bad) as f:
        yield from bounded_lines(f, bad, limit)


def bounded_lines(f: IO[str], bad: Counter, limit: int = MAX_LINE) -> Iterator[str]:
    """Lines of an open text file, none longer than ``limit`` characters (longer ones counted and skipped)."""
    while True:
        try:
            line = f.readline(limit)
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror or exc})") from None
        if not line:
            return
        if len(line) >= limit and not line.endswith("\n"):
            bad["overlong line"] += 1
            while True:
                more = f.readline(limit)
                if not more or more.endswith("\n"):
                    break
            continue
        yield line


def read_bytes(path: str | Path, bad: Counter | None = None, limit: int | None = None) -> bytes:
    """The file's bytes, decompressed (guarded) if it is gzip; more than ``limit`` bytes is an error."""
    with open_binary(path, bad) as f:
        try:
            data = f.read() if limit is None else f.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if limit is not None and len(data) > limit:
        raise InputError(f"{path}: larger than {limit >> 20} MB, more than any one record or document can be")
    return data


def head(path: str | Path, size: int = 1 << 16) -> bytes:
    """The first ``size`` bytes of the (decompressed) file; damage after them does not matter here."""
    with open_binary(path) as f:
        try:
            return f.read(size)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def json_documents(path: str | Path, bad: Counter) -> list:
    """The JSON in a file: one document, or one a line; a damaged document gives the records it still holds
    (:func:`skyfence.sources.jsonscan.salvage`), counting what was lost. An error if there is no JSON at all."""
    from skyfence.sources.jsonscan import salvage

    text = read_bytes(path, bad, MAX_DOCUMENT).decode("utf-8", errors="replace")
    if not text.strip():
        raise InputError(f"{path}: empty file")
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except (ValueError, RecursionError):
        pass
    docs: list = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    whole = [line for line in lines if line.strip()]
    if len(whole) > 1 and sum(line.lstrip()[:1] == "{" and line.rstrip()[-1:] == "}" for line in whole) * 2 >= len(whole):
        for line in whole:  # one document a line
            try:
                docs.append(json.loads(line))
            except (ValueError, RecursionError):
                rescued = salvage(line, bad)
                if rescued is None:
                    bad["malformed JSON line"] += 1
                else:
                    docs.append(rescued)
    else:  # one document, damaged
        rescued = salvage(text, bad)
        if rescued is not None:
            docs.append(rescued)
    if not docs:
        raise InputError(f"{path}: not JSON")
    return docs


def json_number(value) -> float | None:
    """A finite JSON number as float; anything else (null, text, true/false, NaN, infinity, 1e400) as None."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def existing_file(path: str | Path) -> Path:
    """The path of a file that exists, or one clear error (missing, a folder, or out of reach)."""
    path = Path(path)
    try:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if not path.is_file():
            raise InputError(f"{path}: not a file")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return path
