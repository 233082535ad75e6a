"""Settling a task's long events: read further, for the aircraft concerned only.

An event a task keeps (it starts in the task's period) that is still going on towards the end of the
data at hand may go on after it. The task then reads further, twice as far each time, but only the
states of the aircraft in such events (an encounter or interaction is a matter of its two aircraft; a
manoeuvre, of one), and takes those aircraft's events from the longer run. A crossing's intent also
looks at aircraft of other parties around it, so for a crossing (or a warning before one) those
within reach of its aircraft's reports are read too. Memory stays with the period, its halos and the
few aircraft of the long events, not the archive.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.cluster.window import TABLES, FileCache, WindowResult, WindowSpec, read_window, run_window
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.sources.formats import read_any
from skyfence.tracks.schema import TIME, seconds, times

IDS = {"crossings": ("track_id",), "manoeuvres": ("track_id",), "encounters": ("track_a", "track_b"),
       "interactions": ("track_id", "other_track_id"), "warnings": ("track_id",)}
REACH_DEG = 1.5
"""How far round a crossing aircraft's reports other aircraft are read for its intent (degrees of latitude,
twice that of longitude: more than the 100 km intent looks at, plus what interpolation and a bad report add)."""


def settle(result: WindowResult, need: tuple[float, set[str], bool], spec: WindowSpec, agreement: Agreement,
           settings: EncounterSettings) -> None:
    """Read further until every event ``result`` keeps is settled (or the data end), updating it; each file is
    read once for the aircraft concerned (:data:`~skyfence.cluster.window.FileCache`), not once a run."""
    data_end = max((last for _, _, last in spec.files), default=spec.end)
    lo, hi = result.read_from, result.read_to
    cache: FileCache = {}
    while need is not None and hi <= data_end:
        latest, focus, crossing = need
        hi = max(latest + spec.halo, spec.end + 2 * (hi - spec.end))
        read = focus | (neighbours(spec, lo, hi, focus, agreement) if crossing else set())
        more, need = run_window(spec, lo, hi, agreement, settings, read, focus, cache)
        take_events(result, more, focus)
        result.read_to = hi
        result.runs += 1


def unsettled(result: WindowResult, limit: float, focus: set[str] | None, pending: set[str] = frozenset()
              ) -> tuple[float, set[str], bool] | None:
    """Events of ``result`` (of the ``focus`` aircraft alone, or all) that end after ``limit``, and the ``pending``
    aircraft (in a stay inside that may yet become a crossing: :func:`skyfence.cluster.window.staying_inside`):
    the latest end, their aircraft, and whether one is a crossing or a warning; None if there are none."""
    late, involved, crossing = None, set(), False
    if pending:
        late, crossing = result.read_to, True
        involved.update(pending)
    for name, table in {**result.tables, "warnings": result.warnings}.items():
        if focus is not None:
            table = table.filter(only(name, focus))
        rows = table.filter(pl.Series(ends(table, name) > limit, dtype=pl.Boolean))
        if rows.height:
            late = max(late if late is not None else -np.inf, float(ends(rows, name).max()))
            crossing |= name in ("crossings", "warnings")
            for col in IDS[name]:
                involved.update(rows[col].to_list())
    return None if late is None else (late, involved, crossing)


def ends(table: pl.DataFrame, name: str) -> np.ndarray:
    """When each event ends (an open crossing: at its last state inside), Unix seconds."""
    if name == "crossings":
        end = pl.coalesce(pl.col("exit_time"), pl.col("entry_time")
                          + pl.duration(microseconds=(pl.col("duration_s") * 1e6).cast(pl.Int64)))
    else:
        end = pl.col("end" if name == "warnings" else "end_time")
    return seconds(table.select(end.cast(TIME)).to_series()) if table.height else np.empty(0)


def only(name: str, aircraft: set[str]) -> pl.Expr:
    """Events of these aircraft alone."""
    expr = pl.lit(True)
    for col in IDS[name]:
        expr = expr & pl.col(col).is_in(list(aircraft))
    return expr


def neighbours(spec: WindowSpec, lo: float, hi: float, focus: set[str], agreement: Agreement) -> set[str]:
    """Aircraft of a party (not unknown) with a report within reach of the ``focus`` aircraft's reports in
    ``[lo, hi)``: all that a crossing's intent can look at."""
    mine, _ = read_window(spec, lo, hi, focus)
    if mine.height == 0:
        return set()
    box = mine.select((pl.col("lat").min() - REACH_DEG).alias("south"), (pl.col("lat").max() + REACH_DEG).alias("north"),
                      (pl.col("lon").min() - 2 * REACH_DEG).alias("west"),
                      (pl.col("lon").max() + 2 * REACH_DEG).alias("east")).row(0)
    found: set[str] = set()
    t_lo, t_hi = times(np.array([lo, hi]))
    for path, first, last in spec.files:
        if last < lo or first >= hi:
            continue
        df = spec.select.apply(read_any(path, reference=spec.reference)[0], Counter())
        df = df.filter((pl.col("time") >= t_lo) & (pl.col("time") < t_hi) & pl.col("lat").is_between(box[0], box[1])
                       & pl.col("lon").is_between(box[2], box[3]) & pl.col("track_id").is_not_null())
        party = agreement.identifier.assign(df["track_id"], df["callsign"]).cast(pl.String)
        found.update(df.filter(party != "unknown")["track_id"].unique().to_list())
    return found


def take_events(result: WindowResult, more: WindowResult, focus: set[str]) -> None:
    """The events of the ``focus`` aircraft alone from a longer run into ``result`` (in its flight numbers)."""
    pairs = more.flights.join(result.flights, on=["track_id", "first"], suffix="_base")
    mapping = dict(zip(pairs["flight_id"].to_list(), pairs["flight_id_base"].to_list()))
    for name in TABLES:
        cols = [c for c in ("flight_id", "flight_a", "flight_b") if c in more.tables[name].columns]
        taken = more.tables[name].select(only(name, focus)).to_series()
        theirs = more.tables[name].filter(taken).with_columns(
            [pl.col(c).replace_strict(mapping, return_dtype=pl.UInt32) for c in cols])
        keep = result.tables[name].select(~only(name, focus)).to_series()
        if name == "crossings":
            result.crossing_signs = ([s for s, k in zip(result.crossing_signs, keep.to_list()) if k]
                                     + [s for s, k in zip(more.crossing_signs, taken.to_list()) if k])
        result.tables[name] = pl.concat([result.tables[name].filter(keep), theirs], how="vertical_relaxed")
    result.warnings = pl.concat([result.warnings.filter(~only("warnings", focus)),
                                 more.warnings.filter(only("warnings", focus))])
    # states round the events, as far as the longer run saw them (the driver drops states seen twice)
    result.around = pl.concat([result.around, more.around.filter(pl.col("track_id").is_in(list(focus))).with_columns(
        pl.col("flight_id").replace_strict(mapping, default=None, return_dtype=pl.UInt32))]).drop_nulls("flight_id")
