"""What ``analyze`` reads: files, folders and glob patterns, and the part of the data asked for.

A folder stands for the track files in it (not its sub-folders), in name
order; ``ingest``'s folders hold one ``STEM-YYYYMMDDTHH.parquet`` a completed
hour, and the part files of hours not yet compacted (``.STEM.parts/HOUR/``),
which are read too so that nothing recorded is left out. A pattern with ``*``,
``?`` or ``[`` is expanded (``**`` crosses folders), also when the shell did not.

``--from``/``--to`` keep the states in a time window (ISO 8601; a time without
a zone is UTC; a date alone is its midnight UTC), and files named for an hour
wholly outside it are not read at all; ``--bbox W,S,E,N`` keeps the states
inside a box of longitude and latitude. States left out are counted by reason.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from skyfence.errors import InputError

_HOUR = re.compile(r"(\d{8}T\d{2})(?!\d)")
_HIDDEN = (".", "_", "~")


def expand(items: Sequence[str | Path]) -> list[Path]:
    """The files named by paths, folders and glob patterns, in order, each once."""
    out: list[Path] = []
    for item in items:
        text = str(item)
        path = Path(text)
        if _is_dir(path):
            found = _folder(path)
            if not found:
                raise InputError(f"{path}: no track files in this folder")
        elif not _exists(path) and any(c in text for c in "*?["):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise InputError(f"{text}: no files match")
        else:
            found = [path]
        out += found
    return list(dict.fromkeys(out))


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a folder we may not enter: the reader says so, in one line
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return True


def _folder(path: Path) -> list[Path]:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(_HIDDEN)
                   and not p.name.endswith((".tmp", ".json", ".md", ".yaml", ".yml")))
    hours = {m.group(1) for p in files if (m := _HOUR.search(p.name))}
    # an ingest still running (or killed): the part files of hours not compacted yet
    for parts in sorted(path.glob(".*.parts")):
        for hour in sorted(p for p in parts.iterdir() if p.is_dir() and p.name not in hours):
            files += sorted(hour.glob("*.parquet"))
    return files


@dataclass(frozen=True)
class Selection:
    """The part of the data to analyse: a time window (Unix seconds, either end open) and a lon/lat box."""

    start: float | None = None
    end: float | None = None
    bbox: tuple[float, float, float, float] | None = None

    @property
    def everything(self) -> bool:
        return self.start is None and self.end is None and self.bbox is None

    def wants_file(self, path: Path) -> bool:
        """False for a file named for an hour (``YYYYMMDDTHH``) wholly outside the time window."""
        m = _HOUR.search(path.name) or _HOUR.search(path.parent.name)
        if m is None or (self.start is None and self.end is None):
            return True
        hour = datetime.strptime(m.group(1), "%Y%m%dT%H").replace(tzinfo=timezone.utc).timestamp()
        return not ((self.end is not None and hour > self.end) or (self.start is not None and hour + 3600 <= self.start))

    def apply(self, df: pl.DataFrame, dropped) -> pl.DataFrame:
        """The states inside the selection; those outside counted in ``dropped`` by reason."""
        if self.everything or df.height == 0:
            return df
        t = pl.col("time").dt.epoch("us") / 1e6
        checks = []
        if self.start is not None or self.end is not None:
            inside = pl.lit(True)
            if self.start is not None:
                inside &= t >= self.start
            if self.end is not None:
                inside &= t <= self.end
            checks.append((inside, "outside the time window (--from/--to)"))
        if self.bbox is not None:
            w, s, e, n = self.bbox
            lon_ok = pl.col("lon").is_between(w, e) if w <= e else (pl.col("lon") >= w) | (pl.col("lon") <= e)
            checks.append((lon_ok & pl.col("lat").is_between(s, n), "outside the area (--bbox)"))
        for inside, reason in checks:
            keep = df.select(inside.fill_null(False)).to_series()
            n_out = df.height - int(keep.sum())
            if n_out:
                dropped[reason] += n_out
                df = df.filter(keep)
        return df


def parse_time(text: str | None, option: str) -> float | None:
    """An ISO 8601 time (UTC when it has no zone; a date alone is its midnight) as Unix seconds."""
    if text is None:
        return None
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected an ISO 8601 time such as 2018-08-01T10:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``W,S,E,N`` in degrees (W greater than E crosses the antimeridian)."""
    if text is None:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--bbox {text!r}: expected W,S,E,N in degrees, e.g. 5.9,45.8,10.5,47.8") from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"--bbox {text!r}: out of range (longitudes -180..180, latitudes -90..90, south < north)")
    return w, s, e, n


def selection(start: str | None, end: str | None, bbox: str | None) -> Selection:
    """The selection the options ask for, checked."""
    sel = Selection(parse_time(start, "--from"), parse_time(end, "--to"), parse_bbox(bbox))
    if sel.start is not None and sel.end is not None and sel.end <= sel.start:
        raise InputError(f"--to {end} is not after --from {start}")
    return sel
