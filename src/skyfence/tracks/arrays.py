"""The track table as flat arrays in a local projection, the form detectors work on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.geo.projection import LocalProjection
from skyfence.tracks.schema import seconds


@dataclass(frozen=True)
class TrackArrays:
    """Sorted state vectors (by flight, then time) as arrays; SI units, projected x/y.

    ``starts`` holds the first row of each flight and, last, the row count, so
    flight ``k`` is rows ``starts[k]:starts[k+1]``.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    alt: np.ndarray  # NaN where unknown
    vx: np.ndarray
    vy: np.ndarray
    vz: np.ndarray  # NaN where unknown
    flight: np.ndarray
    starts: np.ndarray
    party: np.ndarray  # party code per row: index into ``party_ids``
    party_ids: tuple[str, ...]
    projection: LocalProjection

    def __len__(self) -> int:
        return len(self.t)

    def first_of_flight(self) -> np.ndarray:
        """True on the first row of each flight."""
        mask = np.zeros(len(self.t), dtype=bool)
        mask[self.starts[:-1]] = True
        return mask

    def last_of_flight(self) -> np.ndarray:
        """True on the last row of each flight."""
        mask = np.zeros(len(self.t), dtype=bool)
        mask[self.starts[1:] - 1] = True
        return mask


def _f64(series: pl.Series) -> np.ndarray:
    return series.cast(pl.Float64).fill_null(np.nan).to_numpy()


def to_arrays(df: pl.DataFrame, projection: LocalProjection) -> TrackArrays:
    """Arrays from a cleaned table (sorted by track_id and time, with ``flight_id``)."""
    t = seconds(df["time"])
    lon = df["lon"].to_numpy()
    lat = df["lat"].to_numpy()
    x, y = projection.forward(lon, lat)
    flight = df["flight_id"].to_numpy().astype(np.int64)
    n = len(t)
    change = np.flatnonzero(np.diff(flight) != 0) + 1 if n else np.empty(0, dtype=np.int64)
    starts = np.concatenate([[0], change, [n]]).astype(np.int64) if n else np.zeros(1, dtype=np.int64)
    gs = _f64(df["ground_speed"])
    trk = _f64(df["track"])
    vx, vy = projection.velocity(lon, lat, gs, trk)
    missing = ~(np.isfinite(vx) & np.isfinite(vy))
    if missing.any():
        fx, fy = _finite_difference_velocity(t, x, y, starts)
        vx = np.where(missing, fx, vx)
        vy = np.where(missing, fy, vy)
    party_ids = tuple(sorted(df["party"].fill_null("unknown").unique().to_list()))
    party = df["party"].fill_null("unknown").cast(pl.Enum(party_ids)).to_physical().to_numpy().astype(np.int16)
    return TrackArrays(t, x, y, _f64(df["altitude"]), vx, vy, _f64(df["vertical_rate"]), flight, starts,
                       party, party_ids, projection)


def _finite_difference_velocity(t, x, y, starts):
    """Velocity from positions: backward differences, forward at a flight's first row."""
    n = len(t)
    vx = np.full(n, np.nan)
    vy = np.full(n, np.nan)
    if n < 2:
        return vx, vy
    dt = np.diff(t)
    same = np.ones(n - 1, dtype=bool)
    same[starts[1:-1] - 1] = False
    ok = same & (dt > 0)
    dvx = np.where(ok, np.diff(x) / np.where(dt > 0, dt, 1), np.nan)
    dvy = np.where(ok, np.diff(y) / np.where(dt > 0, dt, 1), np.nan)
    vx[1:], vy[1:] = dvx, dvy
    first = starts[:-1]
    first = first[first < n - 1]
    vx[first], vy[first] = dvx[first], dvy[first]
    return vx, vy
