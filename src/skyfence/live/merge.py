"""Several receivers, one picture: the same aircraft heard by two receivers is one aircraft.

A state is a duplicate when the same aircraft already has a state at exactly that time (a polled
snapshot repeating a position, one receiver's feed heard twice), or when another source reported the
same aircraft less than ``window`` seconds before it (two receivers timing the same message a little
apart). Duplicates are counted, never kept.
"""

from __future__ import annotations

import polars as pl

from skyfence.tracks.schema import TIME


SEEN = 200_000  # the latest states whose exact (aircraft, time) is remembered: a receiver whose copy of the feed
# comes later than another's (a slower link, a busy machine; 20 s of 10,000 aircraft) still has its copies dropped


class Deduplicator:
    def __init__(self, window: float = 0.5) -> None:
        self.window_us = int(window * 1e6)
        self.last = pl.DataFrame(schema={"track_id": pl.String, "_t": TIME, "_src": pl.String})
        self.seen = pl.DataFrame(schema={"track_id": pl.String, "time": TIME})
        self.duplicates = 0

    def __call__(self, states: pl.DataFrame) -> pl.DataFrame:
        if states.height == 0:
            return states
        n = states.height
        df = states.sort(["track_id", "time"], maintain_order=True).unique(["track_id", "time"], keep="first",
                                                                          maintain_order=True)
        if self.seen.height:
            df = df.join(self.seen, on=["track_id", "time"], how="anti", maintain_order="left")
        df = df.with_columns(pl.col("source").cast(pl.String).alias("_source"))
        df = df.join(self.last, on="track_id", how="left")
        prev_t = pl.col("time").shift(1).over("track_id").fill_null(pl.col("_t"))
        prev_s = pl.col("_source").shift(1).over("track_id").fill_null(pl.col("_src"))
        gap = (pl.col("time") - prev_t).dt.total_microseconds()
        dup = (gap == 0) | ((prev_s != pl.col("_source")) & (gap.abs() < self.window_us))
        df = df.filter(~dup.fill_null(False))
        self.duplicates += n - df.height
        latest = df.group_by("track_id").agg(pl.col("time").max().alias("_t"), pl.col("_source").last().alias("_src"))
        self.last = pl.concat([self.last.join(latest, on="track_id", how="anti"), latest], how="vertical_relaxed")
        self.seen = pl.concat([self.seen, df.select("track_id", "time")], how="vertical_relaxed").tail(SEEN)
        return df.drop("_t", "_src", "_source")

    def forget(self, before) -> None:
        """Aircraft silent since ``before`` need no memory."""
        self.last = self.last.filter(pl.col("_t") >= before)
