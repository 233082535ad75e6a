"""The track table as flat arrays in a local projection, the form detectors work on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.geo.projection import LocalProjection
from skyfence.tracks.row_memo import RowMemo
from skyfence.tracks.schema import seconds


@dataclass(frozen=True)
class TrackArrays:
    """Sorted state vectors (by flight, then time) as arrays; SI units, projected x/y.

    ``starts`` holds the first row of each flight and, last, the row count, so
    flight ``k`` is rows ``starts[k]:starts[k+1]``.
    """

    t: np.ndarray  # float64 Unix seconds
    x: np.ndarray  # float32 metres: 6 cm resolution 1000 km from the centre
    y: np.ndarray
    alt: np.ndarray  # NaN where unknown (float32)
    vx: np.ndarray  # float32 m/s
    vy: np.ndarray
    vz: np.ndarray  # NaN where unknown (float32)
    starts: np.ndarray
    party: np.ndarray  # party code per row: index into ``party_ids``
    party_ids: tuple[str, ...]
    projection: LocalProjection
    velocity_reported: np.ndarray | None = None  # False where vx, vy come from differenced positions

    def __len__(self) -> int:
        return len(self.t)

    def flight_of(self, rows: np.ndarray) -> np.ndarray:
        """The flight number (0, 1, ...) of each given row."""
        return np.searchsorted(self.starts, rows, side="right") - 1

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


def floats(series: pl.Series, dtype: type = pl.Float64) -> np.ndarray:
    """A column as a numpy array of floats (``pl.Float64`` or ``pl.Float32``), null as NaN. polars gives a float
    column's nulls as NaN itself: filling them first ran a query of its own, 40 times the cost, and a detection
    run reads some thirty columns."""
    return (series if series.dtype == dtype else series.cast(dtype)).to_numpy()


def to_arrays(df: pl.DataFrame, projection: LocalProjection, memo: RowMemo | None = None) -> TrackArrays:
    """Arrays from a cleaned table (sorted by track_id and time, with ``flight_id``); with a ``memo`` (the live
    monitor's), the states the last run projected with the same values are not projected again."""
    t = seconds(df["time"])
    lon = df["lon"].to_numpy()
    lat = df["lat"].to_numpy()
    flight = df["flight_id"].to_numpy()
    n = len(t)
    change = np.flatnonzero(flight[1:] != flight[:-1]) + 1 if n else np.empty(0, dtype=np.int64)
    del flight
    starts = np.concatenate([[0], change, [n]]).astype(np.int64) if n else np.zeros(1, dtype=np.int64)
    gs, trk = floats(df["ground_speed"]), floats(df["track"])

    def project(rows: np.ndarray | None) -> tuple[np.ndarray, ...]:
        m = n if rows is None else len(rows)
        x, y, vx, vy = (np.empty(m, dtype=np.float32) for _ in range(4))
        chunk = 1 << 20  # in blocks, to keep the temporaries small
        for a in range(0, m, chunk):
            b = min(a + chunk, m)
            r = slice(a, b) if rows is None else rows[a:b]
            x[a:b], y[a:b] = projection.forward(lon[r], lat[r])
            vx[a:b], vy[a:b] = projection.velocity(lon[r], lat[r], gs[r], trk[r])
        return x, y, vx, vy

    if memo is None:
        x, y, vx, vy = project(None)
    else:
        x, y, vx, vy = memo.apply(f"projected:{projection.proj4}", (lon, lat, gs, trk), project)
        # the memo's are not to be written, and the compiled kernels take writeable arrays (a read-only one is
        # another type to them): copied once here rather than by every kernel that reads them
        x, y, vx, vy = x.copy(), y.copy(), vx.copy(), vy.copy()
    missing = ~(np.isfinite(vx) & np.isfinite(vy))
    if missing.any():
        fx, fy = _finite_difference_velocity(t, x, y, starts)
        vx[missing], vy[missing] = fx[missing], fy[missing]
    party_col = df["party"].cast(pl.String).fill_null("unknown")
    party_ids = tuple(sorted(party_col.unique().to_list()))
    party = party_col.cast(pl.Enum(party_ids)).to_physical().to_numpy().astype(np.int16)
    del party_col
    return TrackArrays(t, x, y, floats(df["altitude"], pl.Float32), vx, vy, floats(df["vertical_rate"], pl.Float32),
                       starts, party, party_ids, projection, ~missing)


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
