"""Reported velocity against the track itself: a rate the altitude does not show is a data error.

Feeds report the vertical rate, ground speed and track angle apart from the
altitude and position, and they go wrong apart: a vertical rate of 16,500
ft/min down while the altitude stays at 33,000 ft (real, in the Swiss en-route
data), a track angle 145 degrees off the way the positions go, a speed
repeated long after the aircraft slowed. Each reported value is checked
against what the aircraft's own reports around it show:

* **vertical rate**: the altitude changes over the intervals to the previous
  and the next report (each at least 4 s and at most ``window`` s away) give
  two average rates. Any
  rate profile that changes smoothly through the report passes between (or
  near) them, so the reported rate must lie within
  ``[min - tolerance, max + tolerance]``; the tolerance allows for the 25 ft
  steps, rate noise and some vertical acceleration within the interval
  (``1,000 ft/min + 15 % of the rate + 1 m/s2 x half the longer interval``).
  Where the altitude itself steps faster than any aircraft climbs (30,000
  ft/min between two reports within ``window`` s of the report), the feed's
  altitude is stale or stepped, not the rate, and the rate is not judged by
  it (real: the zero-gravity flight's altitude holds for 25 s and jumps
  2,100 ft while its vertical rate runs smoothly to 19,000 ft/min).
* **ground speed**: the same with the speeds the positions imply over the two
  legs (``30 kt + 15 %``; legs of at least ``min_leg`` metres).
* **track angle**: it must lie between the courses of the two legs (the turn
  in between), give or take ``30`` degrees.

A value is judged only with reports on both sides, and speed and track only
where the two legs agree with each other (speeds within the tolerance,
courses within 45 degrees) and are not identical: when they disagree, a
position is off (a feed repeating an old position at a track's start, say);
when they are identical (to a millimetre a second, and a milliradian: no
measured position is that regular; real ones in the Swiss data), the feed is dead-reckoning
positions from an old velocity; either way the velocity is not to blame.

A value outside is removed (set to null), counted by the caller, and the row
kept: its position and altitude still count. Pure functions over the ordered
arrays of one table (sorted by aircraft and time; ``starts`` delimits aircraft).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from skyfence.kernels import as_kernel_array

EARTH_RADIUS = 6_371_000.0
FPM = 0.3048 / 60.0
STEP_RATE = 30000 * FPM  # m/s: an altitude that changes faster between two reports is stepped, not flown
WINDOW = 30.0  # s: the reports around a value it is checked against
SPAN = 4.0  # s: rates from altitudes at least this far apart, so that 25 ft steps stay under 400 ft/min


@nb.njit(cache=True)
def _neighbour(vals, i, lo, hi, step, t, window, span):
    """The nearest row before (step -1) or after (+1) ``i`` within [lo, hi) with a finite value, at least
    ``span`` and at most ``window`` s away."""
    j = i + step
    while lo <= j < hi:
        if abs(t[j] - t[i]) > window:
            return -1
        if np.isfinite(vals[j]) and abs(t[j] - t[i]) >= span:
            return j
        j += step
    return -1


@nb.njit(cache=True)
def _bounds_ok(v, r1, r2, tol):
    lo, hi = r1, r2
    if np.isnan(lo):
        lo = hi
    if np.isnan(hi):
        hi = lo
    if hi < lo:
        lo, hi = hi, lo
    return lo - tol <= v <= hi + tol


@nb.njit(cache=True)
def _stepped_rows(starts, t, alt, window, rate_max):
    """For each row i: whether the altitude steps faster than ``rate_max`` between two consecutive finite
    altitudes both within ``window`` s of row i (j and the finite one before it, p, with t[i] - t[p] and
    t[j] - t[i] at most ``window``). One pass per aircraft: each step marks the rows it is near."""
    n = t.shape[0]
    mark = np.zeros(n + 1, np.int64)  # +1 where a step's rows begin, -1 after they end
    for g in range(starts.shape[0] - 1):
        a, b = starts[g], starts[g + 1]
        p = -1
        lo = a  # the first row i with t[j] - t[i] <= window, for the j at hand (j grows, so does it)
        hi = a  # one past the last row i with t[i] - t[p] <= window, for the p at hand
        for j in range(a, b):
            if not np.isfinite(alt[j]):
                continue
            if p >= 0 and t[j] > t[p] and abs(alt[j] - alt[p]) > rate_max * (t[j] - t[p]) + 7.62:
                while lo < b and t[j] - t[lo] > window:
                    lo += 1
                if hi < p:
                    hi = p
                while hi < b and t[hi] - t[p] <= window:
                    hi += 1
                if lo < hi:
                    mark[lo] += 1
                    mark[hi] -= 1
            p = j
    out = np.zeros(n, np.bool_)
    run = 0
    for i in range(n):
        run += mark[i]
        out[i] = run > 0
    return out


@nb.njit(cache=True)
def _vertical(starts, t, alt, vz, window):
    bad = np.zeros(t.shape[0], np.bool_)
    stepped = _stepped_rows(starts, t, alt, window, STEP_RATE)
    for g in range(starts.shape[0] - 1):
        a, b = starts[g], starts[g + 1]
        for i in range(a, b):
            if not np.isfinite(vz[i]):
                continue
            if stepped[i]:
                continue
            p = _neighbour(alt, i, a, b, -1, t, window, SPAN)
            n = _neighbour(alt, i, a, b, 1, t, window, SPAN)
            if p < 0 or n < 0 or not t[p] < t[n]:
                continue
            if np.isfinite(alt[i]) and t[p] < t[i] < t[n]:
                r1 = (alt[i] - alt[p]) / (t[i] - t[p])
                r2 = (alt[n] - alt[i]) / (t[n] - t[i])
                longest = max(t[i] - t[p], t[n] - t[i])
            else:
                r1 = r2 = (alt[n] - alt[p]) / (t[n] - t[p])
                longest = t[n] - t[p]
            tol = 1000.0 * FPM + 0.15 * abs(vz[i]) + 1.0 * longest / 2.0
            bad[i] = not _bounds_ok(vz[i], r1, r2, tol)
    return bad


@nb.njit(cache=True)
def _leg(lat, lon, i, j):
    """Distance (m) and course (radians, true) from row i to row j (equirectangular: legs are short)."""
    dlat = np.radians(lat[j] - lat[i])
    dlon = np.radians((lon[j] - lon[i] + 180.0) % 360.0 - 180.0) * np.cos(np.radians(0.5 * (lat[i] + lat[j])))
    return EARTH_RADIUS * np.sqrt(dlat * dlat + dlon * dlon), np.arctan2(dlon, dlat)


@nb.njit(cache=True)
def _horizontal(starts, t, lat, lon, speed, track, window, min_leg):
    """(speed bad, track bad) per row."""
    n = t.shape[0]
    bad_speed = np.zeros(n, np.bool_)
    bad_track = np.zeros(n, np.bool_)
    for g in range(starts.shape[0] - 1):
        a, b = starts[g], starts[g + 1]
        for i in range(a, b):
            has_speed, has_track = np.isfinite(speed[i]), np.isfinite(track[i])
            if not has_speed and not has_track:
                continue
            s1 = s2 = c1 = c2 = np.nan
            if i > a and 0.0 < t[i] - t[i - 1] <= window:
                d, c = _leg(lat, lon, i - 1, i)
                if d >= min_leg:
                    s1, c1 = d / (t[i] - t[i - 1]), c
            if i + 1 < b and 0.0 < t[i + 1] - t[i] <= window:
                d, c = _leg(lat, lon, i, i + 1)
                if d >= min_leg:
                    s2, c2 = d / (t[i + 1] - t[i]), c
            if np.isnan(s1) or np.isnan(s2):
                continue
            legs_tol = 30.0 * 0.514444 + 0.15 * max(s1, s2)
            if abs(s1 - s2) > legs_tol:
                continue  # the positions disagree among themselves
            if abs(s1 - s2) < 1e-3 and abs(c1 - c2) < 1e-3:
                continue  # two identical legs: positions carried forward by the feed (dead reckoning), not measured
            if has_speed:
                tol = 30.0 * 0.514444 + 0.15 * max(speed[i], s1, s2)
                bad_speed[i] = not _bounds_ok(speed[i], s1, s2, tol)
            turn = (c2 - c1 + np.pi) % (2 * np.pi) - np.pi
            if has_track and abs(turn) <= np.radians(45.0):
                # the reported track relative to the first leg's course, against the turn to the second
                dv = (np.radians(track[i]) - c1 + np.pi) % (2 * np.pi) - np.pi
                bad_track[i] = not _bounds_ok(dv, 0.0, turn, np.radians(30.0))
    return bad_speed, bad_track


def vertical_rate_errors(starts: np.ndarray, t: np.ndarray, altitude: np.ndarray, vertical_rate: np.ndarray,
                         window: float = WINDOW) -> np.ndarray:
    """Rows whose reported vertical rate (m/s) the altitudes (m) around them do not show."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool)
    return _vertical(as_kernel_array(starts, np.int64), as_kernel_array(t),
                     as_kernel_array(altitude),
                     as_kernel_array(vertical_rate), float(window))


def velocity_errors(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed: np.ndarray,
                    track: np.ndarray, window: float = WINDOW, min_leg: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose reported ground speed (m/s), and rows whose track angle (degrees), the positions around them
    do not show."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    return _horizontal(as_kernel_array(starts, np.int64), as_kernel_array(t),
                       as_kernel_array(lat), as_kernel_array(lon),
                       as_kernel_array(speed), as_kernel_array(track),
                       float(window), float(min_leg))
