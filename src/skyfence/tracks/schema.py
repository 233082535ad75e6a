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


def time_from_seconds(seconds: pl.Expr) -> pl.Expr:
    """Unix seconds as a UTC time (microseconds)."""
    return (seconds * 1e6).round().cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def times(seconds: "np.ndarray") -> pl.Series:  # noqa: F821
    """An array of Unix seconds as a UTC time column; NaN becomes null."""
    return pl.select(time_from_seconds(pl.Series(seconds, dtype=pl.Float64).fill_nan(None))).to_series()


def seconds(time: pl.Series) -> "np.ndarray":  # noqa: F821
    """A time column as float Unix seconds."""
    return time.dt.epoch("us").to_numpy().astype("float64") / 1e6
