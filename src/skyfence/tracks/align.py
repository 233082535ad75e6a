"""States aligned in time: every aircraft's state at common instants, never across a data gap.

Recorded aircraft report at their own moments. To compare two aircraft they are
put on a common clock, ``t0 + k * step``: at each instant inside a flight's
recorded span its state is interpolated between the two reports around it,
provided they are no more than ``max_gap`` apart. Nothing is extrapolated: an
aircraft has no state before its first report, after its last, or inside a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import polars as pl

from skyfence.parallel import serial_below
from skyfence.tracks.schema import seconds
from skyfence.tracks.arrays import floats


@dataclass(frozen=True)
class Snapshots:
    """Aligned states. ``group`` numbers the instant (``time = t0 + group * step``) and ``row`` is
    the track-table row of the report at or before it (for identity)."""

    step: float
    t0: float
    group: np.ndarray
    row: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    alt: np.ndarray
    ground_speed: np.ndarray
    track: np.ndarray
    vertical_rate: np.ndarray

    def __len__(self) -> int:
        return len(self.group)

    @property
    def time(self) -> np.ndarray:
        return self.t0 + self.group * self.step


def _col(df: pl.DataFrame, name: str) -> np.ndarray:
    return floats(df[name])


def align(df: pl.DataFrame, step: float, max_gap: float) -> Snapshots:
    """States of every flight of a cleaned table (sorted by flight and time) at instants ``step`` apart."""
    if step <= 0:
        raise ValueError("step must be positive")
    t = seconds(df["time"])
    n = len(t)
    if n == 0:
        e = np.empty(0)
        return Snapshots(step, 0.0, np.empty(0, np.int64), np.empty(0, np.int64), e, e, e, e, e, e)
    flight = df["flight_id"].to_numpy()
    starts = np.r_[0, np.flatnonzero(flight[1:] != flight[:-1]) + 1, n].astype(np.int64)
    t0 = np.floor(t.min() / step) * step
    group, lo, frac = _grid(t, starts, step, t0, max_gap)
    # the next report of the same flight (at a flight's last report, none: never another flight's values)
    hi = np.where(lo + 1 < starts[np.searchsorted(starts, lo, side="right")], lo + 1, lo)
    f = frac
    lon0, lon1 = _col(df, "lon")[lo], _col(df, "lon")[hi]
    lon1 = lon0 + (lon1 - lon0 + 180.0) % 360.0 - 180.0  # the short way across the antimeridian
    lon = (lon0 + f * (lon1 - lon0) + 180.0) % 360.0 - 180.0
    lat = _lerp(_col(df, "lat"), lo, hi, f)
    alt = _lerp(_col(df, "altitude"), lo, hi, f)
    gs = _lerp(_col(df, "ground_speed"), lo, hi, f)
    vz = _lerp(_col(df, "vertical_rate"), lo, hi, f)
    trk0, trk1 = _col(df, "track")[lo], _col(df, "track")[hi]
    d = (trk1 - trk0 + 180.0) % 360.0 - 180.0
    trk = np.where(np.isfinite(d), (trk0 + f * d) % 360.0, np.where(np.isfinite(trk0), trk0, trk1))
    missing = ~(np.isfinite(gs) & np.isfinite(trk))
    if missing.any():
        seg_gs, seg_trk = _segment_velocity(df, t, starts, lo[missing])
        gs[missing], trk[missing] = seg_gs, seg_trk
    return Snapshots(step, t0, group, lo, lon, lat, alt, gs, trk, vz)


def _lerp(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Linear interpolation; where one end is unknown, the other end's value (also at an instant on a report whose
    next report's value is unknown: an altitude spike removed there left the instant with no altitude, which the
    conflict engine takes as the same level as anyone's, a false loss of separation on real data)."""
    with serial_below(len(lo)):
        return _lerp_rows(np.asarray(v, np.float64), lo, hi, f)


@nb.njit(cache=True, parallel=True)
def _lerp_rows(v, lo, hi, f):
    out = np.empty(len(lo))
    for k in nb.prange(len(lo)):
        a, b = v[lo[k]], v[hi[k]]
        if np.isnan(b):
            out[k] = a
        elif np.isnan(a):
            out[k] = b
        else:
            out[k] = a + f[k] * (b - a)
    return out


def _segment_velocity(df: pl.DataFrame, t: np.ndarray, starts: np.ndarray, rows: np.ndarray):
    """Ground speed and track from the positions of a report and the next (or previous) one."""
    k = np.searchsorted(starts, rows, side="right")
    flight_start, flight_end = starts[k - 1], starts[k] - 1
    a = np.where(rows < flight_end, rows, np.maximum(rows - 1, flight_start))
    b = np.minimum(a + 1, flight_end)  # a flight of one report has no velocity: a == b gives NaN below
    lon, lat = _col(df, "lon"), _col(df, "lat")
    from pyproj import Geod

    az, _, dist = Geod(ellps="WGS84").inv(lon[a], lat[a], lon[b], lat[b])
    dt = t[b] - t[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        gs = np.where(dt > 0, dist / dt, np.nan)
    return gs, np.where(dt > 0, np.asarray(az) % 360.0, np.nan)


@nb.njit(cache=True)
def _grid(t, starts, step, t0, max_gap):
    """For every instant inside every flight: its number, the report at or before it, and the fraction
    of the way to the next report."""
    total = 0
    for f in range(starts.shape[0] - 1):
        s, e = starts[f], starts[f + 1]
        k0 = int(np.ceil((t[s] - t0) / step))
        k1 = int(np.floor((t[e - 1] - t0) / step))
        if k1 >= k0:
            total += k1 - k0 + 1
    group = np.empty(total, np.int64)
    lo = np.empty(total, np.int64)
    frac = np.empty(total)
    w = 0
    for f in range(starts.shape[0] - 1):
        s, e = starts[f], starts[f + 1]
        k0 = int(np.ceil((t[s] - t0) / step))
        k1 = int(np.floor((t[e - 1] - t0) / step))
        i = s
        for k in range(k0, k1 + 1):
            g = t0 + k * step
            while i + 1 < e and t[i + 1] <= g:
                i += 1
            if t[i] == g or i + 1 >= e:
                fr = 0.0
            else:
                gap = t[i + 1] - t[i]
                if gap > max_gap:
                    continue
                fr = (g - t[i]) / gap
            group[w] = k
            lo[w] = i
            frac[w] = fr
            w += 1
    return group[:w], lo[:w], frac[:w]
