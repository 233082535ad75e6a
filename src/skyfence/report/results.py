"""A results folder of ``skyfence analyze`` as reports and exports read it, limited to a period.

The folder holds the event tables (Parquet, or CSV when that is all there is), ``summary.json``,
``agreement.geojson`` (the line, sides and zones) and ``event_tracks.parquet`` (the states around
each event). Only ``summary.json`` is required: a missing table reads as empty and a missing
agreement or track file leaves the maps without them, with a note saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from skyfence.errors import SkyfenceError
from skyfence.report.columns import (CROSSING_VIEW, ENCOUNTER_VIEW, INTERACTION_VIEW, MANOEUVRE_VIEW, UTC,
                                     view)
from skyfence.tracks.schema import TRACK_SCHEMA

TABLES = {"crossings": ("entry_time", CROSSING_VIEW), "encounters": ("start_time", ENCOUNTER_VIEW),
          "manoeuvres": ("start_time", MANOEUVRE_VIEW), "interactions": ("start_time", INTERACTION_VIEW)}


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval ``[start, end)``; either end may be open (None)."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def cuts_a_day(self) -> bool:
        """An end falls within a UTC day (not at midnight): per-day figures cannot be split at it."""
        return any(t is not None and (t.hour, t.minute, t.second, t.microsecond) != (0, 0, 0, 0)
                   for t in (self.start, self.end))

    def contains(self, col: str) -> pl.Expr:
        expr = pl.lit(True)
        if self.start is not None:
            expr = expr & (pl.col(col) >= self.start)
        if self.end is not None:
            expr = expr & (pl.col(col) < self.end)
        return expr


def parse_period(start: str | None, end: str | None) -> Period:
    """``--from`` / ``--to``: a date (``--to`` a date includes that whole day) or an ISO 8601 time (UTC if
    no zone given)."""
    def one(text: str | None, option: str, whole_day: bool) -> datetime | None:
        if text is None:
            return None
        try:
            if len(text) == 10:
                d = date.fromisoformat(text)
                t = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
                return t + timedelta(days=1) if whole_day else t
            t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SkyfenceError(f"{option} {text!r}: give a date (2017-11-01) or a time (2017-11-01T06:00)") from None
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)

    period = Period(one(start, "--from", False), one(end, "--to", True))
    if period.start and period.end and period.end <= period.start:
        raise SkyfenceError("--to must be after --from")
    return period


@dataclass
class Results:
    """What one results folder holds (event tables in their report views), limited to ``period``."""

    folder: Path
    summary: dict
    crossings: pl.DataFrame
    encounters: pl.DataFrame
    manoeuvres: pl.DataFrame
    interactions: pl.DataFrame
    raw: dict[str, pl.DataFrame]
    tracks: pl.DataFrame
    agreement: dict | None
    period: Period = field(default_factory=Period)
    notes: list[str] = field(default_factory=list)
    folders: int = 1
    """How many results folders were combined (:mod:`skyfence.report.combine`)."""

    @property
    def agreement_name(self) -> str:
        return self.summary.get("agreement", {}).get("name", "?")

    def party_name(self, party: str) -> str:
        names = (self.agreement or {}).get("skyfence", {}).get("parties", {})
        return names.get(party, party)

    def days(self) -> list[date]:
        """The UTC days of the analysed data within the period: from the first to the last on which a flight
        of a party began (a flight running on past midnight, or an unidentified aircraft seen before the
        parties' day began, adds no day); a day with no events counts, a day with no data at all does not."""
        trk = self.summary.get("tracks", {})
        rows = trk.get("flights_per_day") or []
        began = sorted(r["date"] for r in rows if r["party"] != "unknown") or sorted(r["date"] for r in rows)
        first = date.fromisoformat(began[0]) if began else _day(trk.get("start"))
        last = date.fromisoformat(began[-1]) if began else _day(trk.get("end"))
        if self.period.start is not None:
            first = self.period.start.date() if first is None else max(first, self.period.start.date())
        if self.period.end is not None:
            end = (self.period.end - timedelta(microseconds=1)).date()
            last = end if last is None else min(last, end)
        if first is None or last is None or last < first:
            return []
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        covered = self.hours_per_day()
        if covered is not None:  # a day in between with no data at all is not a day of the period (samples of
            days = [d for d in days if covered.get(d, 0.0) > 0]  # scattered days are not years of zeros)
        return days

    def in_region(self, lon, lat):
        """Whether each point lies in the agreement's region (its sides; everywhere when it has none)."""
        import numpy as np
        import shapely

        sides = [shapely.geometry.shape(f["geometry"]) for f in (self.agreement or {}).get("features", [])
                 if f.get("properties", {}).get("kind") == "side" and f.get("geometry")]
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if not sides:
            return np.ones(len(lon), dtype=bool)
        return shapely.contains_xy(shapely.union_all(sides), lon, lat)

    def hours_per_day(self) -> dict[date, float] | None:
        """Hours of data on each UTC day (``summary.json``), or None for results from before they were kept."""
        rows = self.summary.get("tracks", {}).get("hours_per_day")
        return None if rows is None else {date.fromisoformat(r["date"]): float(r["hours"]) for r in rows}


def _day(text: str | None) -> date | None:
    return datetime.fromisoformat(text).astimezone(timezone.utc).date() if text else None


def results_folders(items: list[Path]) -> list[Path]:
    """The folders named, a glob pattern (``'results/day-*'``, quoted so the shell left it) standing for the
    folders it matches, in order."""
    import glob

    out: list[Path] = []
    for item in items:
        text = str(item)
        if not Path(text).exists() and any(c in text for c in "*?["):
            found = sorted(Path(p) for p in glob.glob(text) if Path(p).is_dir())
            if not found:
                raise SkyfenceError(f"{text}: no folders match")
            out += found
        else:
            out.append(Path(text))
    return out


def load_results(folder: Path, period: Period = Period()) -> Results:
    """Read a results folder, or raise one clear error when it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SkyfenceError(f"{folder}: no such folder (give the folder skyfence analyze wrote)")
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise SkyfenceError(f"{folder}: no summary.json here; is this a folder written by skyfence analyze?")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SkyfenceError(f"{summary_path}: not readable JSON ({exc})") from None
    notes: list[str] = []
    raw, views = {}, {}
    for name, (time_col, spec) in TABLES.items():
        table = _read_table(folder, name, notes)
        v = view(table, spec)
        keep = v.select(period.contains(time_col)).to_series() if period.bounded and v.height else None
        raw[name] = table.filter(keep) if keep is not None else table
        views[name] = v.filter(keep) if keep is not None else v
    agreement = _read_json(folder / "agreement.geojson", notes, "the line and zones are not on the maps")
    tracks = _read_tracks(folder / "event_tracks.parquet", notes)
    return Results(folder, summary, views["crossings"], views["encounters"], views["manoeuvres"],
                   views["interactions"], raw, tracks, agreement, period, notes)


def _read_table(folder: Path, name: str, notes: list[str]) -> pl.DataFrame:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    try:
        if parquet.is_file():
            return pl.read_parquet(parquet)
        if csv.is_file():
            return pl.read_csv(csv, try_parse_dates=True, infer_schema_length=None)
    except Exception as exc:  # polars raises several kinds for a damaged file
        raise SkyfenceError(f"{parquet if parquet.is_file() else csv}: cannot read it ({exc})") from None
    notes.append(f"{name}: no {name}.parquet or {name}.csv in the folder; read as none")
    return pl.DataFrame()


def _read_json(path: Path, notes: list[str], consequence: str) -> dict | None:
    if not path.is_file():
        notes.append(f"no {path.name} in the folder: {consequence}")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SkyfenceError(f"{path}: not readable JSON ({exc})") from None


def _read_tracks(path: Path, notes: list[str]) -> pl.DataFrame:
    schema = {**TRACK_SCHEMA, "flight_id": pl.UInt32}
    if not path.is_file():
        notes.append("no event_tracks.parquet in the folder (written by analyze since this version): maps show "
                     "event points without tracks")
        return pl.DataFrame(schema=schema)
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise SkyfenceError(f"{path}: cannot read it ({exc})") from None
    return df.with_columns(pl.col("time").cast(UTC), pl.col("party").cast(pl.String))

