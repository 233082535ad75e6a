"""Which format a recorded file is in, told from its first bytes, and the reader for it.

Parquet and CSV state vectors, SBS-1 (``MSG,`` lines), raw Mode S frames
(JSON lines with ``frame``, or ``TIMESTAMP,HEX`` lines), Beast binary, readsb
``aircraft.json`` snapshots and traces, the ADS-B Exchange v2 / adsb.lol API
JSON, OpenSky REST ``states`` JSON and Cursor on Target XML. Any of them may be
gzip-compressed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.sources import cot, modes, opensky, readsb, sbs, tabular
from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import head

Reader = Callable[[Path], tuple[pl.DataFrame, ReadReport]]
FORMATS = ("parquet", "csv", "sbs", "frames", "beast", "readsb", "opensky", "cot")
_FRAME_LINE = re.compile(rb"^\s*\d+(\.\d+)?\s*[, ]\s*\*?[0-9a-fA-F]{14}([0-9a-fA-F]{14})?;?\s*$")


SAMPLE_LINES = 200  # lines looked at to tell a text format: a few bad ones among them do not decide it


def detect(path: str | Path) -> str:
    """The format of a recorded file (one of ``FORMATS``), or one clear error.

    Told from the first 64 KB (decompressed): Parquet and Beast by their bytes, the text formats by a
    vote of up to ``SAMPLE_LINES`` lines, so that a few bad lines (garbage, a stray ``MSG,`` line in a
    file of frames, a damaged first line) do not decide it.
    """
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    first = head(path)
    if first[:4] == b"PAR1":
        return "parquet"
    if not first.strip():
        raise InputError(f"{path}: empty file")
    if _is_beast(first):
        return "beast"
    text = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    lines = [line.strip() for line in re.split(rb"\r\n|\r|\n", first)[:SAMPLE_LINES + 1]]
    if len(lines) > 1 and len(first) >= (1 << 16):
        lines = lines[:-1]  # the last line of the sample may be cut
    votes = Counter(_line_kind(line) for line in lines if line)
    other = votes.pop("other", 0)
    kind = votes.most_common(1)[0][0] if votes and sum(votes.values()) >= 0.2 * (sum(votes.values()) + other) else None
    if kind == "xml" or (kind is None and text.startswith(b"<")):
        if b"<event" in first:
            return "cot"
        raise InputError(f"{path}: XML but not Cursor on Target events")
    if kind == "json" or (kind is None and text.startswith((b"{", b"["))):
        return _json_kind(path, first)
    if kind in ("sbs", "frames"):
        return kind
    if kind == "avr":
        raise InputError(f"{path}: raw frames without times (AVR format); record them with timestamps, "
                         "e.g. 'TIMESTAMP,HEX' lines")
    if name.endswith((".csv", ".txt", ".tsv")) or _HEADER.fullmatch(text.split(b"\n", 1)[0].strip()):
        return "csv"  # by its name, or a header line of column names
    raise InputError(f"{path}: unknown format (expected one of {', '.join(FORMATS)})")


_HEADER = re.compile(rb'\s*"?[A-Za-z_][\w ]*"?(\s*[,;\t|]\s*"?[A-Za-z_][\w ]*"?)+\s*')
_BEAST_START = re.compile(rb"\x1a[\x31-\x34]")


def _is_beast(first: bytes) -> bool:
    """Beast: binary bytes with message starts (0x1a and a type) all through them."""
    if first[0] == 0x1A and len(first) > 1 and first[1] in (0x31, 0x32, 0x33, 0x34):
        return True
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in first[:4096])
    starts = len(_BEAST_START.findall(first[:4096]))
    return printable < 0.7 * min(len(first), 4096) and starts >= 3


def _line_kind(line: bytes) -> str:
    if line.startswith(b"MSG,"):
        return "sbs"
    if line.startswith(b"{"):
        return "frames" if re.search(rb'"(frame|rawMsg)"\s*:', line) else "json"
    if line.startswith((b"[", b'"', b"}", b"]")):
        return "json"
    if line.startswith(b"<"):
        return "xml"
    if _FRAME_LINE.match(line):
        return "frames"
    if line.startswith((b"*", b"@")) and line.endswith(b";"):
        return "avr"
    return "other"


def _json_kind(path: Path, text: bytes) -> str:
    keys = {k.decode() for k in re.findall(rb'"([A-Za-z_]+)"\s*:', text)}  # the keys in the first bytes
    if "frame" in keys or "rawMsg" in keys:
        return "frames"
    if "states" in keys and "time" in keys:
        return "opensky"
    if keys & {"trace", "aircraft", "ac", "now"}:
        return "readsb"
    raise InputError(f"{path}: JSON of an unknown kind (expected readsb/tar1090 aircraft.json or trace, "
                     "ADS-B Exchange v2 'ac', OpenSky 'states' or raw frames)")


def reader(kind: str, reference: tuple[float, float] | None = None, beast_start: float | None = None) -> Reader:
    """The reader for a format."""
    readers: dict[str, Reader] = {
        "parquet": lambda p: tabular.read_tracks(p, kind="parquet"),
        "csv": lambda p: tabular.read_tracks(p, kind="csv"), "sbs": sbs.read_sbs,
        "frames": lambda p: modes.read_frames(p, reference=reference),
        "beast": lambda p: modes.read_beast(p, start=beast_start, reference=reference),
        "readsb": readsb.read_readsb, "opensky": opensky.read_opensky_json, "cot": cot.read_cot,
    }
    if kind not in readers:
        raise InputError(f"unknown format {kind!r} (expected one of {', '.join(FORMATS)})")
    return readers[kind]


def read_any(path: str | Path, kind: str | None = None, reference: tuple[float, float] | None = None,
             beast_start: float | None = None) -> tuple[pl.DataFrame, ReadReport]:
    """Any recorded file as canonical states (not yet cleaned), its format detected unless given."""
    path = Path(path)
    kind = kind or detect(path)
    return reader(kind, reference, beast_start)(path)
