"""On the driver: the tasks' parts made into the results one machine gives.

Nothing here detects anything. Three small deterministic passes:

- **flights**: one machine numbers flights in order of aircraft, then start. Each task reports the
  flights that start in its period; sorted together they give every flight its number, and each
  task's own numbers are mapped to them (a flight a task saw begin in its halo is the one of that
  aircraft that started last before it).
- **earlier crossings**: a crossing's intent counts the crossings its aircraft made before it in
  all the data. Each task sends what it judged each crossing on (the signs); the count is redone over
  all crossings and the same :func:`skyfence.detect.intent.assess` reassesses them.
- **the summary**: counts add up (files from the first pass, states, flights and cleaning of each
  task's own period, warning episodes by the period they start in).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import polars as pl

from skyfence.analysis.behaviour import with_intent
from skyfence.detect.crossings import WarningStats
from skyfence.sources.tabular import ReadReport
from skyfence.cluster.window import WindowResult

SORT_KEYS = {"crossings": ["entry_time", "track_id", "zone"], "encounters": ["start_time", "track_a", "track_b"],
             "manoeuvres": ["start_time", "track_id"], "interactions": ["start_time", "track_id"]}
FLIGHT_COLUMNS = {"crossings": ["flight_id"], "manoeuvres": ["flight_id"], "encounters": ["flight_a", "flight_b"]}


def flight_numbers(results: Sequence[WindowResult]) -> pl.DataFrame:
    """Every flight's number as one machine gives it: ``track_id, start, flight_id`` sorted.

    If a task failed, the flights that began in its hours have no start; a flight other tasks saw of
    them is then numbered from the first time they saw it."""
    starts = [r.flights.filter(_within(pl.col("first"), r)).select("track_id", pl.col("first").alias("start"))
              for r in results]
    table = pl.concat(starts) if starts else pl.DataFrame(schema={"track_id": pl.String,
                                                                  "start": pl.Datetime("us", "UTC")})
    seen = pl.concat([r.flights.select("track_id", pl.col("first").alias("start")) for r in results]) \
        if results else table
    orphans = seen.sort("start").join_asof(table.sort("start").with_columns(pl.col("start").alias("known")),
                                           on="start", by="track_id", strategy="backward", check_sortedness=False)
    orphans = orphans.filter(pl.col("known").is_null()).group_by("track_id").agg(pl.col("start").min())
    table = pl.concat([table, orphans.select(table.columns)])
    return table.sort(["track_id", "start"]).with_row_index("flight_id").with_columns(
        pl.col("flight_id").cast(pl.UInt32))


def _within(col: pl.Expr, r: WindowResult) -> pl.Expr:
    lo, hi = (pl.lit(v * 1e6).cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
              for v in (r.start, r.end))
    return (col >= lo) & (col < hi)


def local_to_global(result: WindowResult, numbers: pl.DataFrame) -> dict[int, int]:
    """A task's flight numbers mapped to the numbers of the whole."""
    local = result.flights.sort("first")
    joined = local.join_asof(numbers.sort("start"), left_on="first", right_on="start", by="track_id",
                             strategy="backward", suffix="_global", check_sortedness=False)
    missing = joined.filter(pl.col("flight_id_global").is_null())
    if missing.height:  # only if a task's data began after a flight start nobody reported
        raise RuntimeError(f"flights without a start: {missing.head(3).to_dicts()}")
    return dict(zip(joined["flight_id"].to_list(), joined["flight_id_global"].to_list()))


def renumber(table: pl.DataFrame, columns: list[str], mapping: dict[int, int]) -> pl.DataFrame:
    """The flight columns of an event table in the whole's numbers."""
    return table.with_columns([pl.col(c).replace_strict(mapping, return_dtype=pl.UInt32) for c in columns])


def combine_tables(results: Sequence[WindowResult]) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The event tables of all tasks, flights renumbered, crossings reassessed, in one machine's order (and,
    as ``event_tracks``, the states round the events, each once); and the traffic brief of all states."""
    numbers = flight_numbers(results)
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in SORT_KEYS}
    signs: list = []
    traffic, around = [], []
    for r in sorted(results, key=lambda r: r.start):
        mapping = local_to_global(r, numbers)
        for name in SORT_KEYS:
            parts[name].append(renumber(r.tables[name], FLIGHT_COLUMNS.get(name, []), mapping))
        signs += r.crossing_signs
        traffic.append(renumber(r.traffic, ["flight_id"], mapping))
        around.append(renumber(r.around, ["flight_id"], mapping))
    tables = {name: pl.concat(p, how="vertical_relaxed").sort(SORT_KEYS[name], maintain_order=True)
              if p else pl.DataFrame() for name, p in parts.items()}
    tables["crossings"] = reassess(pl.concat(parts["crossings"], how="vertical_relaxed"), signs) \
        if parts["crossings"] else tables["crossings"]
    brief = (pl.concat(traffic).group_by(["flight_id", "track_id", "party"])
             .agg(pl.col("states").sum(), pl.col("first").min(), pl.col("last").max(), pl.col("simulated").sum())
             ) if traffic else None
    tables["event_tracks"] = (pl.concat(around, how="vertical_relaxed")
                              .unique(["track_id", "time"], keep="first", maintain_order=True)
                              .sort(["track_id", "time"], maintain_order=True)) if around else None
    return tables, brief


def reassess(crossings: pl.DataFrame, judgements: list) -> pl.DataFrame:
    """Crossings (row for row with what each was judged on, or None) in one machine's order, each judged one
    assessed again with the number of crossings of the same area its aircraft made before it in all the data."""
    order = crossings.with_row_index("_k").sort(SORT_KEYS["crossings"], maintain_order=True)
    seen: dict[tuple[str, str], int] = {}
    renewed = []
    for k, track, zone in zip(order["_k"].to_list(), order["track_id"].to_list(), order["zone"].to_list()):
        j = judgements[k]
        if j is None:
            renewed.append(None)
            continue
        signs, where = j
        renewed.append((dataclasses.replace(signs, earlier_crossings=seen.get((track, zone), 0)), where))
        seen[(track, zone)] = seen.get((track, zone), 0) + 1
    return with_intent(order.drop("_k"), renewed)


def combine_warnings(results: Sequence[WindowResult], zones: Sequence[str]) -> dict[str, WarningStats]:
    """Warning episodes per area (every one of ``zones``), each counted by the task whose period it starts in."""
    counts = {z: [0, 0] for z in zones}
    for r in results:
        for zone, n, followed in r.warnings.group_by("zone").agg(pl.len(), pl.col("followed").sum()).iter_rows():
            counts[zone][0] += n
            counts[zone][1] += followed
    return {z: WarningStats(a, b) for z, (a, b) in counts.items()}


def combine_reports(first_pass: ReadReport, results: Sequence[WindowResult]) -> ReadReport:
    """The files' reports with the cleaning of every task's own states."""
    report = ReadReport(first_pass.rows_read, first_pass.dropped.copy(), first_pass.values_removed.copy(),
                        first_pass.corrected.copy(), list(first_pass.files))
    for r in results:
        rep = dataclasses.replace(r.report, files=[])
        report.merge(rep)
    return report
