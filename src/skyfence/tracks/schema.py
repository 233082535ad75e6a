"""The canonical track table: one row per state vector, SI units, UTC.

Every reader produces it and every detector consumes it.

=============  ======================  ===============================================
column         type                    meaning
=============  ======================  ===============================================
time           Datetime(us, UTC)       time of the state
track_id       String                  aircraft identity: ICAO 24-bit address, lower-case hex
callsign       String (nullable)       flight identification as broadcast, trimmed
party          Categorical             party id from the agreement, or ``unknown``
lon, lat       Float64                 WGS84 degrees
altitude       Float32 (nullable)      barometric altitude, metres (geometric when no baro)
ground_speed   Float32 (nullable)      metres per second
track          Float32 (nullable)      true track angle, degrees clockwise from north, [0, 360)
vertical_rate  Float32 (nullable)      metres per second, positive up
on_ground      Boolean (nullable)      surface position
source         Categorical             where the row came from (file name or feed)
=============  ======================  ===============================================

After cleaning, ``flight_id`` (UInt32) numbers the flights: a track is cut into
flights at gaps longer than the agreement's ``flight_gap``.

A CSV or Parquet file holding these column names (``track_id`` among them) is
read back as SI. Files written by skyfence also carry ``skyfence.schema`` in
their Parquet metadata.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import polars as pl

TIME = pl.Datetime("us", "UTC")

TRACK_SCHEMA: dict[str, pl.DataType] = {
    "time": TIME,
    "track_id": pl.String(),
    "callsign": pl.String(),
    "party": pl.Categorical(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "altitude": pl.Float32(),
    "ground_speed": pl.Float32(),
    "track": pl.Float32(),
    "vertical_rate": pl.Float32(),
    "on_ground": pl.Boolean(),
    "source": pl.Categorical(),
}
SCHEMA_VERSION = "tracks/1"


def empty_tracks() -> pl.DataFrame:
    """A track table with no rows."""
    return pl.DataFrame(schema=TRACK_SCHEMA)


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """The canonical columns in order and type; missing optional ones are null."""
    if df.width == 0:
        return empty_tracks()  # selecting literals alone would make one row of nulls
    cols = []
    for name, dtype in TRACK_SCHEMA.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype))
        elif name == "party":
            cols.append(pl.lit("unknown", dtype=dtype).alias(name))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    extra = [c for c in ("flight_id",) if c in df.columns]
    return df.select(cols + extra)


# The times a receiver can produce: a record outside them is a bad record (counted by the reader).
EARLIEST = datetime(1980, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
IMPOSSIBLE_TIME = "impossible time"


def valid_seconds(seconds: pl.Expr) -> pl.Expr:
    """Whether Unix seconds (Float64) are a time a receiver can produce: finite, from 1980 to 2100."""
    return seconds.is_between(EARLIEST.timestamp(), LATEST.timestamp(), closed="left").fill_null(False)


def valid_second(t: float) -> bool:
    """:func:`valid_seconds` for one number (record-at-a-time readers)."""
    return EARLIEST.timestamp() <= t < LATEST.timestamp()


def valid_time(time: pl.Expr) -> pl.Expr:
    """Whether a UTC time column holds a time a receiver can produce (null is not)."""
    return time.is_between(pl.lit(EARLIEST).cast(TIME), pl.lit(LATEST).cast(TIME), closed="left").fill_null(False)


def drop_invalid_times(df: pl.DataFrame, bad: Counter, column: str = "time") -> pl.DataFrame:
    """Rows whose time (Unix seconds, or a UTC time) is missing or impossible removed, and counted in ``bad``.

    This is the one check of times: every reader passes its records through it.
    """
    col = pl.col(column)
    ok = valid_time(col) if isinstance(df.schema[column], pl.Datetime) else valid_seconds(col.cast(pl.Float64))
    keep = df.select(ok).to_series()
    n = df.height - int(keep.sum())
    if n:
        missing = df[column].null_count()
        if missing:
            bad["missing time"] += missing
        if n > missing:
            bad[IMPOSSIBLE_TIME] += n - missing
        df = df.filter(keep)
    return df


MAX_SECONDS = 9.2e12
"""Unix seconds beyond which no microsecond time is representable (int64 microseconds end at 9.22e12 s; the bound
was 1e14, and seconds between the two stopped the expression with an overflow instead of giving null)."""


def time_from_seconds(seconds: pl.Expr) -> pl.Expr:
    """Unix seconds as a UTC time (microseconds); null where the seconds are not finite or beyond any
    representable time (readers drop impossible times before, with :func:`drop_invalid_times`)."""
    us = pl.when(seconds.is_finite() & (seconds.abs() < MAX_SECONDS)).then(seconds * 1e6)
    return us.round().cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def times(seconds: "np.ndarray") -> pl.Series:  # noqa: F821
    """An array of Unix seconds as a UTC time column; NaN becomes null. :func:`time_from_seconds` worked out in
    numpy (the same rounding, half to even), at half the cost for the few times of an event table."""
    import numpy as np

    s = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(s) & (np.abs(s) < MAX_SECONDS)
    us = np.round(np.where(ok, s, 0.0) * 1e6).astype(np.int64)
    col = pl.Series(us.astype("datetime64[us]")).dt.replace_time_zone("UTC")
    return col if ok.all() else col.scatter(np.flatnonzero(~ok), None)


def seconds(time: pl.Series) -> "np.ndarray":  # noqa: F821
    """A time column as float Unix seconds."""
    return time.dt.epoch("us").to_numpy().astype("float64") / 1e6
