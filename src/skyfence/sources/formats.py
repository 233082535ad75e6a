"""Which format a recorded file is in, told from its first bytes, and the reader for it.

Parquet and CSV state vectors, SBS-1 (``MSG,`` lines), raw Mode S frames
(JSON lines with ``frame``, or ``TIMESTAMP,HEX`` lines), Beast binary, readsb
``aircraft.json`` snapshots and traces, the ADS-B Exchange v2 / adsb.lol API
JSON, OpenSky REST ``states`` JSON and Cursor on Target XML. Any of them may be
gzip-compressed.
"""

from __future__ import annotations

import re
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


def detect(path: str | Path) -> str:
    """The format of a recorded file (one of ``FORMATS``), or one clear error."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    first = head(path)
    if first[:4] == b"PAR1":
        return "parquet"
    if not first.strip():
        raise InputError(f"{path}: empty file")
    if first[0] == 0x1A and len(first) > 1 and first[1] in (0x31, 0x32, 0x33, 0x34):
        return "beast"
    text = first.lstrip()
    if text.startswith(b"MSG,") or b"\nMSG," in first:
        return "sbs"
    if text.startswith(b"<"):
        if b"<event" in first:
            return "cot"
        raise InputError(f"{path}: XML but not Cursor on Target events")
    if text.startswith((b"{", b"[")):
        return _json_kind(path, text)
    line = text.split(b"\n", 1)[0]
    if _FRAME_LINE.match(line):
        return "frames"
    if line.startswith((b"*", b"@")) and line.rstrip().endswith(b";"):
        raise InputError(f"{path}: raw frames without times (AVR format); record them with timestamps, "
                         "e.g. 'TIMESTAMP,HEX' lines")
    if name.endswith((".csv", ".txt", ".tsv")) or re.fullmatch(rb'\s*"?[A-Za-z_][\w ]*"?(\s*,\s*"?[A-Za-z_][\w ]*"?)+\s*', line):
        return "csv"  # by its name, or a header line of column names
    raise InputError(f"{path}: unknown format (expected one of {', '.join(FORMATS)})")


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
        "parquet": tabular.read_tracks, "csv": tabular.read_tracks, "sbs": sbs.read_sbs,
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
