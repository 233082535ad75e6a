"""The second pass: one task per period, the same pipeline as one machine on the period and its halo.

A task reads the states of its period and of a halo of neighbouring time on each side (from every
file whose span meets them), cleans them (:func:`skyfence.tracks.clean.clean_tracks`, counting only
its own states), runs :func:`skyfence.analysis.pipeline.detect_events` and keeps the events that start
in its period. The halo (twice the longest stretch any detector or cleaning rule looks across) means
that what the task keeps was decided on the same data as on one machine. An event it keeps that
goes on towards the end of the data at hand (an orbit of hours, a long crossing or encounter) is not
yet settled: the task reads further for the aircraft concerned (:mod:`skyfence.cluster.settle`).

Flight numbers are the task's own; it says where each flight starts so the driver can number them
as one machine does (:mod:`skyfence.cluster.stitch`).
"""

from __future__ import annotations

import os
import resource
from collections import Counter
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.event_tracks import event_tracks
from skyfence.analysis.inputs import Selection
from skyfence.analysis.pipeline import detect_events
from skyfence.analysis.summary import traffic
from skyfence.detect.crossings import WarningStats
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.sources.formats import read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.clean import OWNED, clean_rows, clean_tracks
from skyfence.tracks.schema import TIME, empty_tracks, seconds, times

TABLES = {"crossings": "entry_time", "encounters": "start_time", "manoeuvres": "start_time",
          "interactions": "start_time"}  # each event table and the column that places an event in a period
EPISODES = {"track_id": pl.String, "start": TIME, "zone": pl.String, "end": TIME, "followed": pl.Boolean}


@dataclass(frozen=True)
class WindowSpec:
    """One task of the second pass."""

    start: float  # the period it owns, [start, end), Unix seconds
    end: float
    halo: float  # seconds read on each side
    settle: float  # an event it keeps must end this long before the end of the data at hand
    files: tuple[tuple[str, float, float], ...]  # (path, first, last state time) of the files, archive order
    reference: tuple[float, float] | None = None
    select: Selection = Selection()  # the part of the data asked for (--from/--to/--bbox)


@dataclass
class WindowResult:
    """What a task sends back: small tables and counts."""

    start: float
    end: float
    read_from: float  # the data it finally used, [read_from, read_to)
    read_to: float
    runs: int  # 1, or more when it read further to settle a long event
    tables: dict[str, pl.DataFrame]  # the events it owns (flight numbers its own)
    crossing_signs: list  # row for row with tables["crossings"]: (CrossingSigns, Boundary) judged on, or None
    warnings: pl.DataFrame  # warning episodes that start in its period (EPISODES)
    report: ReadReport  # the cleaning of its own states
    flights: pl.DataFrame  # flight_id (its own), track_id, first (time of the flight's first state it had)
    traffic: pl.DataFrame  # summary.traffic of its own states (its own flight numbers)
    around: pl.DataFrame  # the states around its events (analysis.event_tracks; its own flight numbers)
    states: int  # states it analysed (period and halo)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the processor time of the process running it, during it (all its threads)
    peak_rss_mb: float = 0.0  # the peak resident memory of the process running it, during it
    files: list[str] = field(default_factory=list)
    worker: str = ""


def analyze_window(spec: WindowSpec, agreement: Agreement, settings: EncounterSettings) -> WindowResult:
    """Run one task (on a worker): read, clean, detect, keep the events of its period, and settle the long ones
    (:func:`skyfence.cluster.settle.settle`)."""
    from skyfence.cluster.settle import settle

    t0, c0 = time.perf_counter(), time.process_time()
    reset_peak_rss()
    result, need = run_window(spec, spec.start - spec.halo, spec.end + spec.halo, agreement, settings)
    if need is not None:
        settle(result, need, spec, agreement, settings)
    result.seconds, result.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    result.peak_rss_mb = peak_rss_mb()
    result.worker = _worker_name()
    return result


FileCache = dict[str, tuple[frozenset[str], pl.DataFrame]]
"""A task's files as already read for some aircraft: path -> (those aircraft, their states after the checks on
single rows). Settling reads the same files again and again for fewer and fewer aircraft."""


def read_window(spec: WindowSpec, lo: float, hi: float, aircraft: set[str] | None = None,
                cache: FileCache | None = None) -> tuple[pl.DataFrame, list[str]]:
    """The states with times in ``[lo, hi)`` (of the given aircraft, or all) from every file that has some, in
    archive order, after the checks on single rows (whose counts belong to the first pass). With a ``cache``,
    a file already read for a set of aircraft that holds the ones asked for is not read again."""
    frames, used = [], []
    t_lo, t_hi = times(np.array([lo, hi]))
    for path, first, last in spec.files:
        if last < lo or first >= hi:
            continue
        df = _cached(cache, path, aircraft)
        if df is None:
            df = spec.select.apply(read_any(path, reference=spec.reference)[0], Counter())
            if aircraft is not None:
                df = df.filter(pl.col("track_id").is_in(list(aircraft)))
            df = clean_rows(df, ReadReport())
            if cache is not None and aircraft is not None:
                cache[path] = (frozenset(aircraft), df)
        frames.append(df.filter((pl.col("time") >= t_lo) & (pl.col("time") < t_hi)))
        used.append(path)
    return (pl.concat(frames, how="vertical_relaxed") if frames else empty_tracks()), used


def _cached(cache: FileCache | None, path: str, aircraft: set[str] | None) -> pl.DataFrame | None:
    """A file's states of ``aircraft`` from the cache, if it holds them all."""
    if cache is None or aircraft is None or path not in cache or not cache[path][0] >= aircraft:
        return None
    held, df = cache[path]
    return df if held == aircraft else df.filter(pl.col("track_id").is_in(list(aircraft)))


def run_window(spec: WindowSpec, lo: float, hi: float, agreement: Agreement, settings: EncounterSettings,
               aircraft: set[str] | None = None, focus: set[str] | None = None, cache: FileCache | None = None
               ) -> tuple[WindowResult, tuple[float, set[str], bool] | None]:
    """One run over ``[lo, hi)`` (of the given aircraft, or all; files read through ``cache`` if given); and, if
    events it keeps (of the ``focus`` aircraft alone, or all) are not settled, the latest end among them, their
    aircraft, and whether one is a crossing or a warning."""
    from skyfence.cluster.settle import unsettled

    df, used = read_window(spec, lo, hi, aircraft, cache)
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
    warnings = episodes(df, ev.warnings).filter((pl.col("start") >= own_lo) & (pl.col("start") < own_hi))
    flights = (df.group_by("flight_id").agg(pl.col("track_id").first(), pl.col("time").min().alias("first"))
               .sort("flight_id"))
    around = event_tracks(df, tables["crossings"], tables["encounters"], tables["interactions"])
    result = WindowResult(spec.start, spec.end, lo, hi, 1, tables, signs, warnings, report, flights,
                          traffic(df.filter(owned)), around, df.height, files=used)
    pending = staying_inside(df, agreement, spec.start, spec.end, hi - spec.settle)
    if focus is not None:
        pending &= focus
    return result, unsettled(result, hi - spec.settle, focus, pending)


def staying_inside(df: pl.DataFrame, agreement: Agreement, start: float, end: float, limit: float) -> set[str]:
    """Aircraft inside an area closed to them from before ``start``..``end`` on to the end of the data at hand
    (a report after ``limit``), in a stay that began in the period: a stay becomes a crossing once it reaches
    ``min_depth``, which may come after the data at hand (an aircraft parked at an airport by the line for an
    hour, then taking off deeper in), so its end is not known yet either."""
    from skyfence.tracks.arrays import floats, to_arrays

    if df.height == 0:
        return set()
    t = seconds(df["time"])
    flight = df["flight_id"].to_numpy()
    last = np.r_[flight[1:] != flight[:-1], True]  # sorted by aircraft and time: each flight's last state
    late = np.flatnonzero(last & (t > limit))
    if len(late) == 0:
        return set()
    rows = np.flatnonzero(np.isin(flight, flight[late]))
    part = df[rows]
    tr = to_arrays(part, agreement.projection)
    party = np.asarray(part["party"].cast(pl.String).fill_null("unknown").to_list(), dtype=object)
    pt = t[rows]
    alt = floats(part["altitude"])
    f = flight[rows]
    found: set[str] = set()
    for area in agreement.areas:
        inside = area.area_index.contains(tr.x, tr.y) & np.isin(party, list(area.closed_to))
        if area.floor > 0 or np.isfinite(area.ceiling):
            with np.errstate(invalid="ignore"):
                inside &= (alt >= area.floor) & (alt <= area.ceiling)
        lo, hi = area.window_seconds()
        inside &= (pt >= lo) & (pt <= hi)
        # the start of each flight's last run of inside states, where its last state is inside
        ends = np.flatnonzero(np.r_[f[1:] != f[:-1], True])
        for e in ends[inside[ends]]:
            b = e
            while b > 0 and f[b - 1] == f[e] and inside[b - 1]:
                b -= 1
            if start - 1.0 <= pt[b] < end:
                found.add(part["track_id"][int(e)])
    return found


def episodes(df: pl.DataFrame, stats: dict[str, WarningStats]) -> pl.DataFrame:
    """The warning episodes of every area: ``zone, track_id, start, end, followed`` (EPISODES), area by area in
    the order of ``stats``. Gathered once for all areas (a few table operations per area were a third of the
    monitor's work on each run's updates)."""
    parts = [(zone, w) for zone, w in stats.items() if len(w.first_row)]
    if not parts:
        return pl.DataFrame(schema=EPISODES)
    first = pl.Series(np.concatenate([w.first_row for _, w in parts]).astype(np.int64))
    last = pl.Series(np.concatenate([w.last_row for _, w in parts]).astype(np.int64))
    zone = np.concatenate([np.full(len(w.first_row), z, dtype=object) for z, w in parts])
    followed = np.concatenate([np.asarray(w.followed, dtype=bool) for _, w in parts])
    return pl.DataFrame({"track_id": df["track_id"].gather(first), "start": df["time"].gather(first),
                         "zone": pl.Series(zone, dtype=pl.String), "end": df["time"].gather(last),
                         "followed": pl.Series(followed, dtype=pl.Boolean)})


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
