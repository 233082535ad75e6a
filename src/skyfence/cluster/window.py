"""The second pass: one task per period, the same pipeline as one machine on the period and its halo.

A task reads the states of its period and of a halo of neighbouring time on each side (from every
file whose span meets them), cleans them (:func:`skyfence.tracks.clean.clean_tracks`, counting only
its own states), runs :func:`skyfence.analysis.pipeline.detect_events` and keeps the events that start
in its period. The halo (twice the longest stretch any detector or cleaning rule looks across) means
that what the task keeps was decided on the same data as on one machine. An event it keeps that
goes on towards the end of the data at hand (an orbit of hours, a long crossing or encounter) is not
yet settled: the task reads further and runs again until every event it keeps ended well inside.

Flight numbers are the task's own; it says where each flight starts so the driver can number them
as one machine does (:mod:`skyfence.cluster.stitch`).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.pipeline import detect_events
from skyfence.analysis.summary import traffic
from skyfence.detect.crossings import WarningStats
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.detect.intent import CrossingSigns
from skyfence.sources.formats import read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.clean import OWNED, clean_rows, clean_tracks
from skyfence.tracks.schema import TIME, empty_tracks, seconds, times

TABLES = {"crossings": "entry_time", "encounters": "start_time", "manoeuvres": "start_time",
          "interactions": "start_time"}  # each event table and the column that places an event in a period


@dataclass(frozen=True)
class WindowSpec:
    """One task of the second pass."""

    start: float  # the period it owns, [start, end), Unix seconds
    end: float
    halo: float  # seconds read on each side
    settle: float  # an event it keeps must end this long before the end of the data at hand
    files: tuple[tuple[str, float, float], ...]  # (path, first, last state time) of the files, archive order
    reference: tuple[float, float] | None = None


@dataclass
class WindowResult:
    """What a task sends back: small tables and counts."""

    start: float
    end: float
    read_from: float  # the data it finally used, [read_from, read_to)
    read_to: float
    runs: int  # 1, or more when it read further to settle a long event
    tables: dict[str, pl.DataFrame]  # the events it owns (flight numbers its own)
    crossing_signs: list[CrossingSigns]  # row for row with tables["crossings"]
    warnings: dict[str, WarningStats]  # episodes that start in its period (counts only)
    report: ReadReport  # the cleaning of its own states
    flights: pl.DataFrame  # flight_id (its own), track_id, first (time of the flight's first state it had)
    traffic: pl.DataFrame  # summary.traffic of its own states (its own flight numbers)
    states: int  # states it analysed (period and halo)
    seconds: float
    peak_rss_mb: float  # the peak resident memory of the process running it, during it
    files: list[str] = field(default_factory=list)
    worker: str = ""


def analyze_window(spec: WindowSpec, agreement: Agreement, settings: EncounterSettings) -> WindowResult:
    """Run one task (on a worker): read, clean, detect, keep the events of its period; while an event it keeps
    goes on towards the end of the data at hand, read further (twice as far each time) for the aircraft in
    such events (for all aircraft if one is a crossing or a warning, whose intent and outcome involve
    others) and take their events from that run."""
    t0 = time.perf_counter()
    reset_peak_rss()
    data_end = max((last for _, _, last in spec.files), default=spec.end)
    lo, hi = spec.start - spec.halo, spec.end + spec.halo
    result, unsettled = _run(spec, lo, hi, agreement, settings, None)
    while unsettled is not None and hi <= data_end:
        latest, aircraft = unsettled
        hi = max(latest + spec.halo, hi + 2 * (hi - spec.end))
        more, unsettled = _run(spec, lo, hi, agreement, settings, aircraft)
        _take_events(result, more, aircraft)
        result.read_to = hi
        result.runs += 1
    result.seconds = time.perf_counter() - t0
    result.peak_rss_mb = peak_rss_mb()
    result.worker = _worker_name()
    return result


def reset_peak_rss() -> None:
    """Start measuring the peak resident memory afresh (Linux; elsewhere the process's peak so far counts)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    """Peak resident memory (MB) since :func:`reset_peak_rss`: ``VmHWM``, which unlike ``ru_maxrss`` is not
    inherited from the process that started this one."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def read_window(spec: WindowSpec, lo: float, hi: float, aircraft: set[str] | None = None
                ) -> tuple[pl.DataFrame, list[str]]:
    """The states with times in ``[lo, hi)`` (of the given aircraft, or all) from every file that has some, in
    archive order, after the checks on single rows (whose counts belong to the first pass)."""
    frames, used = [], []
    t_lo, t_hi = times(np.array([lo, hi]))
    for path, first, last in spec.files:
        if last < lo or first >= hi:
            continue
        df, _ = read_any(path, reference=spec.reference)
        if aircraft is not None:
            df = df.filter(pl.col("track_id").is_in(list(aircraft)))
        df = clean_rows(df, ReadReport())
        frames.append(df.filter((pl.col("time") >= t_lo) & (pl.col("time") < t_hi)))
        used.append(path)
    return (pl.concat(frames, how="vertical_relaxed") if frames else empty_tracks()), used


def _run(spec: WindowSpec, lo: float, hi: float, agreement: Agreement, settings: EncounterSettings,
         aircraft: set[str] | None) -> tuple[WindowResult, tuple[float, set[str] | None] | None]:
    """One run over ``[lo, hi)``; and, if events it keeps are not settled, the latest end among them and
    their aircraft (None: all aircraft are needed)."""
    df, used = read_window(spec, lo, hi, aircraft)
    own_lo, own_hi = times(np.array([spec.start, spec.end]))
    df = df.with_columns(((pl.col("time") >= own_lo) & (pl.col("time") < own_hi)).alias(OWNED))
    report = ReadReport()
    df = clean_tracks(df, report, flight_gap=agreement.thresholds.crossing.flight_gap)
    owned = df[OWNED]
    df = df.drop(OWNED)
    df = df.with_columns(agreement.identifier.assign(df["track_id"], df["callsign"]))
    ev = detect_events(df, agreement, settings)

    tables, signs = {}, list(ev.crossing_signs)
    for name, col in TABLES.items():
        table = getattr(ev, name)
        mine = table.select((pl.col(col) >= own_lo) & (pl.col(col) < own_hi)).to_series()
        tables[name] = table.filter(mine)
        if name == "crossings":
            signs = [s for s, keep in zip(signs, mine.to_list()) if keep]
    warnings, late_warning = {}, False
    for zone, w in ev.warnings.items():
        mine = (w.start >= spec.start) & (w.start < spec.end)
        warnings[zone] = WarningStats(int(mine.sum()), int((w.followed & mine).sum()))
        late_warning |= bool((w.end[mine] > hi - spec.settle).any())
    flights = (df.group_by("flight_id").agg(pl.col("track_id").first(), pl.col("time").min().alias("first"))
               .sort("flight_id"))
    result = WindowResult(spec.start, spec.end, lo, hi, 1, tables, signs, warnings, report, flights,
                          traffic(df.filter(owned)), df.height, 0.0, 0.0, used)
    late, involved = _late_events(tables, hi - spec.settle)
    if late is None and not late_warning:
        return result, None
    everyone = late_warning or tables["crossings"].height and bool(
        (_ends(tables["crossings"], "crossings") > hi - spec.settle).any())
    return result, (late if late is not None else hi, None if everyone else involved)


IDS = {"crossings": ("track_id",), "manoeuvres": ("track_id",), "encounters": ("track_a", "track_b"),
       "interactions": ("track_id", "other_track_id")}


def _ends(table: pl.DataFrame, name: str) -> np.ndarray:
    """When each event ends (an open crossing: at its last state inside), Unix seconds."""
    if name == "crossings":
        end = pl.coalesce(pl.col("exit_time"), pl.col("entry_time")
                          + pl.duration(microseconds=(pl.col("duration_s") * 1e6).cast(pl.Int64)))
    else:
        end = pl.col("end_time")
    return seconds(table.select(end.cast(TIME)).to_series()) if table.height else np.empty(0)


def _late_events(tables: dict[str, pl.DataFrame], limit: float) -> tuple[float | None, set[str]]:
    """The latest end after ``limit`` among the events, and the aircraft of those events."""
    latest, involved = None, set()
    for name, table in tables.items():
        late = _ends(table, name) > limit
        if late.any():
            rows = table.filter(pl.Series(late))
            latest = max(latest or -np.inf, float(_ends(rows, name).max()))
            for col in IDS[name]:
                involved.update(rows[col].to_list())
    return latest, involved


def _take_events(result: WindowResult, more: WindowResult, aircraft: set[str] | None) -> None:
    """Events of a longer run into ``result``: all of them if it ran on all aircraft, else the manoeuvres and
    the encounters and interactions among its aircraft (in ``result``'s flight numbers)."""
    pairs = more.flights.join(result.flights, on=["track_id", "first"], suffix="_base")
    mapping = dict(zip(pairs["flight_id"].to_list(), pairs["flight_id_base"].to_list()))
    for name in ("manoeuvres", "encounters", "interactions") if aircraft is not None else TABLES:
        ours = pl.lit(True)
        for col in IDS[name]:
            ours = ours & pl.col(col).is_in(list(aircraft)) if aircraft is not None else ours
        cols = [c for c in ("flight_id", "flight_a", "flight_b") if c in more.tables[name].columns]
        taken = more.tables[name].with_columns([pl.col(c).replace_strict(mapping, return_dtype=pl.UInt32)
                                                for c in cols])
        result.tables[name] = pl.concat([result.tables[name].filter(~ours), taken], how="vertical_relaxed")
    if aircraft is None:
        result.crossing_signs = more.crossing_signs
        result.warnings = more.warnings
