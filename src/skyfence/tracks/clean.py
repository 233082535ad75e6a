"""Cleaning the track table: invalid and impossible values out, duplicates out, order, flights.

Rows without a usable time, identity or position are dropped; impossible
values of altitude, speed or vertical rate are removed (set to null) and the
row kept, since its position still counts. Every removal is counted by reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from skyfence.sources.tabular import ReadReport
from skyfence.units import FEET_PER_MINUTE, FOOT, KNOT


@dataclass(frozen=True)
class Limits:
    """Bounds outside which a value is impossible for an aircraft (SI)."""

    altitude_min: float = -2000 * FOOT
    altitude_max: float = 75000 * FOOT  # above any operational aircraft (U-2: ~70,000 ft)
    speed_max: float = 1500 * KNOT  # about Mach 2.5 at altitude
    vertical_rate_max: float = 80000 * FEET_PER_MINUTE


def clean(df: pl.DataFrame, report: ReadReport | None = None, limits: Limits = Limits(),
          flight_gap: float = 600.0) -> tuple[pl.DataFrame, ReadReport]:
    """A cleaned, ordered copy of the table with ``flight_id``, and the counts of what was removed."""
    report = report if report is not None else ReadReport(rows_read=df.height)

    def drop(frame: pl.DataFrame, bad: pl.Expr, reason: str) -> pl.DataFrame:
        mask = frame.select(bad.fill_null(False)).to_series()
        n = int(mask.sum())
        if n:
            report.dropped[reason] += n
            frame = frame.filter(~mask)
        return frame

    df = drop(df, pl.col("time").is_null(), "missing time")
    df = drop(df, pl.col("track_id").is_null(), "missing aircraft id")
    df = drop(df, pl.col("lat").is_null() | pl.col("lon").is_null() | pl.col("lat").is_nan() | pl.col("lon").is_nan(),
              "missing position")
    df = drop(df, (pl.col("lat").abs() > 90) | (pl.col("lon").abs() > 180), "position out of range")
    df = drop(df, (pl.col("lat") == 0) & (pl.col("lon") == 0), "position out of range")

    checks = {
        "altitude": (pl.col("altitude") < limits.altitude_min) | (pl.col("altitude") > limits.altitude_max)
        | pl.col("altitude").is_nan(),
        "ground_speed": (pl.col("ground_speed") < 0) | (pl.col("ground_speed") > limits.speed_max)
        | pl.col("ground_speed").is_nan(),
        "track": pl.col("track").is_nan() | (pl.col("track") < -360) | (pl.col("track") > 720),
        "vertical_rate": (pl.col("vertical_rate").abs() > limits.vertical_rate_max) | pl.col("vertical_rate").is_nan(),
    }
    counts = df.select([c.fill_null(False).sum().alias(k) for k, c in checks.items()]).row(0, named=True)
    fixes = []
    for name, bad in checks.items():
        if counts[name]:
            report.values_removed[f"impossible {name.replace('_', ' ')}"] += int(counts[name])
            fixes.append(pl.when(bad.fill_null(False)).then(None).otherwise(pl.col(name)).alias(name))
    if fixes:
        df = df.with_columns(fixes)
    df = df.with_columns((pl.col("track") % 360.0).alias("track"))

    before = df.height
    df = df.sort(["track_id", "time"]).unique(subset=["track_id", "time"], keep="first", maintain_order=True)
    if df.height < before:
        report.dropped["duplicate"] += before - df.height
    return assign_flights(df, flight_gap), report


def assign_flights(df: pl.DataFrame, flight_gap: float) -> pl.DataFrame:
    """Number the flights (``flight_id``): a new one at each new aircraft or gap over ``flight_gap`` s.

    The table must be sorted by track_id and time.
    """
    gap_us = int(flight_gap * 1e6)
    new = (pl.col("track_id") != pl.col("track_id").shift(1)) | (
        pl.col("time").diff().dt.total_microseconds() > gap_us)
    return df.with_columns(new.fill_null(True).cum_sum().sub(1).cast(pl.UInt32).alias("flight_id"))
