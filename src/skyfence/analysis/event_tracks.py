"""The states around each event, kept beside the results so that reports and exports can draw tracks.

``analyze`` writes them to ``event_tracks.parquet``: every state of each aircraft in a crossing,
an encounter or an interaction, from ``margin`` seconds before the event to ``margin`` after it,
in the canonical track schema (plus ``flight_id``), so any skyfence reader reads the file back.
An aircraft's whole track is in the original track files (``export --tracks``).
"""

from __future__ import annotations

import polars as pl

from skyfence.tracks.schema import TRACK_SCHEMA

MARGIN_S = 900.0
"""States kept before and after each event (s): the approach to the line and the way back."""


def event_windows(crossings: pl.DataFrame, encounters: pl.DataFrame, interactions: pl.DataFrame) -> pl.DataFrame:
    """One row per aircraft and event: ``track_id, start, end`` (UTC)."""
    parts = []

    def add(table: pl.DataFrame, ids: tuple[str, ...], start: str, end: str) -> None:
        if table.height == 0 or start not in table.columns:
            return
        stop = [pl.col(c) for c in (end,) if c in table.columns]
        if "duration_s" in table.columns:  # an event still open at the end of its track has no end time
            stop.append(pl.col(start) + pl.duration(microseconds=(pl.col("duration_s") * 1e6).cast(pl.Int64)))
        stop = pl.coalesce(*stop, pl.col(start))
        for col in ids:
            if col in table.columns:
                parts.append(table.select(pl.col(col).alias("track_id"), pl.col(start).alias("start"),
                                          stop.alias("end")))

    add(crossings, ("track_id",), "entry_time", "exit_time")
    add(encounters, ("track_a", "track_b"), "start_time", "end_time")
    add(interactions, ("track_id", "other_track_id"), "start_time", "end_time")
    if not parts:
        return pl.DataFrame(schema={"track_id": pl.String, "start": TRACK_SCHEMA["time"], "end": TRACK_SCHEMA["time"]})
    return pl.concat(parts, how="vertical_relaxed").drop_nulls()


def event_tracks(df: pl.DataFrame, crossings: pl.DataFrame, encounters: pl.DataFrame, interactions: pl.DataFrame,
                 margin: float = MARGIN_S) -> pl.DataFrame:
    """The states of ``df`` within ``margin`` seconds of an event of their aircraft, in time order."""
    cols = [c for c in (*TRACK_SCHEMA, "flight_id") if c in df.columns and c != "source"]
    windows = event_windows(crossings, encounters, interactions)
    if windows.height == 0 or df.height == 0:
        return df.select(cols).clear()
    pad = pl.duration(microseconds=int(margin * 1e6))
    windows = windows.with_columns((pl.col("start") - pad).alias("start"), (pl.col("end") + pad).alias("end"))
    ids = windows.select("track_id").unique()
    states = df.select(cols).join(ids, on="track_id", how="semi")
    kept = (states.with_row_index("_row").join(windows, on="track_id")
            .filter(pl.col("time").is_between(pl.col("start"), pl.col("end")))
            .select("_row").unique())
    return (states.with_row_index("_row").join(kept, on="_row", how="semi").drop("_row")
            .sort(["track_id", "time"]))
