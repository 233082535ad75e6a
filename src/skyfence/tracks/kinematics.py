"""Kinematics from noisy reports: turn rate, bank, load factor, accelerations.

The smoother is a robust local linear regression (LOWESS-style): at each
report, the slope of the reported track angle (unwrapped), speed and vertical
rate against time, fitted by weighted least squares (tricube weights in time)
over the nearby reports of the same flight, then refitted once with bisquare
weights on the residuals so that a wild report does not carry the slope.
Results beyond what any aircraft can do (12 g, 15 m/s2 along the path) are
data errors and left NaN. The window adapts to the update rate: it grows from 3 s each
side until it holds at least four reports, up to 12 s; with fewer reports
than that the figures are NaN (a dropout, not a guess). Track and speed come
from the reports themselves (ADS-B velocity is far less noisy than
differentiated positions); a report without them has no kinematics.

Turn rate is the slope of the track angle; bank is ``atan(v w / g)``; the
load factor of the turn is ``sqrt(1 + (v w / g)^2)``, and in all it is
combined with the vertical acceleration (the slope of the vertical rate, so
25 ft altitude steps do not enter). Longitudinal acceleration is the slope of
the speed along the path; adding ``g`` times the sine of the climb angle gives
the excess of thrust over drag, which speed brakes make strongly negative and
a zoom climb does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.parallel import serial_below
from skyfence.tracks.arrays import TrackArrays
from skyfence.tracks.row_memo import RowMemo

G = 9.80665
MIN_HALF, MAX_HALF, MIN_POINTS = 3.0, 12.0, 4


@dataclass(frozen=True)
class Kinematics:
    """Per report: turn rate (rad/s, positive right), bank (rad), load factor (g: of the turn alone, and
    in all, with the vertical acceleration), longitudinal acceleration along the path and the excess of
    thrust over drag it implies (m/s^2), vertical acceleration, ground speed and vertical rate (m/s).
    NaN where unknown, and for reports on the ground or slower than ``MIN_SPEED`` (taxiing is not
    manoeuvring)."""

    turn_rate: np.ndarray
    bank: np.ndarray
    turn_load: np.ndarray
    load_factor: np.ndarray
    accel: np.ndarray
    excess_accel: np.ndarray
    vertical_accel: np.ndarray
    speed: np.ndarray
    vertical_rate: np.ndarray


MIN_SPEED = 50 * 0.514444  # m/s: 50 kt
MAX_ACCEL = 15.0  # m/s2 along the path: more than any aircraft's engines or brakes give


def kinematics(tr: TrackArrays, on_ground: np.ndarray | None = None, memo: RowMemo | None = None) -> Kinematics:
    """Smoothed kinematics of every report of a track table (see the module docstring); with a ``memo`` (the
    live monitor's), the fits of the reports whose neighbourhood is the same as in the last run are taken from
    it (:mod:`skyfence.tracks.row_memo`)."""
    speed = np.hypot(tr.vx.astype(np.float64), tr.vy.astype(np.float64))
    heading = np.arctan2(tr.vx.astype(np.float64), tr.vy.astype(np.float64))  # grid azimuth
    if tr.velocity_reported is not None:
        # velocities differenced from positions a second apart are too noisy to differentiate again
        speed = np.where(tr.velocity_reported, speed, np.nan)
        heading = np.where(tr.velocity_reported, heading, np.nan)
    vz = tr.vz.astype(np.float64)
    path_speed = np.hypot(speed, np.nan_to_num(vz))
    course = _course(tr)
    def fits(rows: np.ndarray | None) -> tuple[np.ndarray, ...]:
        want = np.ones(len(tr.t), np.bool_)
        if rows is not None:
            want[:] = False
            want[rows] = True
        with serial_below(len(tr.t) if rows is None else len(rows)):
            turn, acc, vacc = _slopes(tr.t, tr.starts, heading, path_speed, vz, True, want)
            # the reported track must turn the way the positions do (resampled data sometimes interpolates
            # a track angle the long way round, 350 -> 10 through 180: a phantom 340-degree turn)
            turn_pos = _slopes(tr.t, tr.starts, course, path_speed, vz, False, want)[0]
        return (turn, acc, vacc, turn_pos) if rows is None else (turn[rows], acc[rows], vacc[rows], turn_pos[rows])

    if memo is None:
        turn, acc, vacc, turn_pos = fits(None)
    else:
        # a report's fits read the reports within MAX_HALF of it, their neighbours (the course), and the last
        # reported heading before each of them (held through reports without one)
        turn, acc, vacc, turn_pos = memo.apply_local(
            "kinematics", (heading, path_speed, vz, tr.x, tr.y), tr.t, tr.starts, MAX_HALF * 1.001, fits,
            back=_last_heading(heading, tr.starts))
    still = speed < MIN_SPEED
    if on_ground is not None:
        still |= on_ground
    turn, acc, vacc, turn_load, load, excess, lateral = _loads(turn, turn_pos, acc, vacc, speed, vz, path_speed,
                                                               still)
    bank = np.arctan(lateral)  # (numpy's arctan: numba's differs in the last bit now and then)
    return Kinematics(turn, bank, turn_load, load, acc, excess, vacc, speed, vz)


_AGREE = float(np.radians(3.0))  # rad/s: the reported track's turn and the positions' may differ this much
_NEAR_LEVEL = float(np.sin(np.radians(15.0)))
_HUGE = float(np.finfo(np.float64).max)


@nb.njit(cache=True, inline="always")
def _finite(v: float) -> float:
    """``np.nan_to_num`` of one value."""
    if v != v:
        return 0.0
    if v > _HUGE:
        return _HUGE
    if v < -_HUGE:
        return -_HUGE
    return v


@nb.njit(cache=True, parallel=True, error_model="numpy")  # a zero path speed divides as numpy does
def _loads(turn, turn_pos, acc, vacc, speed, vz, path_speed, still):
    """What the fits give each report, in one pass (new arrays: the memo's fits are not written): the turn rate
    where the reported track and the positions agree, figures beyond what any aircraft does left NaN, the loads
    of the turn and in all, the excess of thrust over drag near level flight, and ``v w / g`` (the bank's
    tangent); all NaN where the aircraft is on the ground or too slow. The same operations in the same order as
    whole-array arithmetic."""
    n = len(turn)
    turn_out, acc_out, vacc_out = np.empty(n), np.empty(n), np.empty(n)
    turn_load, load, excess, lateral = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    nan = np.nan
    for i in nb.prange(n):
        w = turn[i]
        if abs(w - turn_pos[i]) > _AGREE and abs(w - turn_pos[i]) > 0.5 * abs(w):
            w = nan
        if abs(speed[i] * w) > 12 * G:
            w = nan
        a = acc[i]
        if abs(a) > MAX_ACCEL:
            a = nan
        va = vacc[i]
        if abs(va) > 12 * G:
            va = nan
        sin_climb = _finite(vz[i]) / path_speed[i]
        ex = a + G * sin_climb if abs(sin_climb) <= _NEAR_LEVEL else nan
        lat = speed[i] * w / G
        vertical = 1.0 + _finite(va) / G
        if still[i]:
            w = a = va = ex = lat = nan
        turn_out[i], acc_out[i], vacc_out[i], excess[i], lateral[i] = w, a, va, ex, lat
        turn_load[i] = np.sqrt(1.0 + lat * lat)
        load[i] = np.sqrt(lat * lat + vertical * vertical)
    return turn_out, acc_out, vacc_out, turn_load, load, excess, lateral


def _course(tr: TrackArrays) -> np.ndarray:
    """Course over the ground from the positions either side of each report (grid azimuth, radians)."""
    dx, dy = _across(tr.x, tr.y, np.asarray(tr.starts, np.int64))
    course = np.arctan2(dx, dy)
    course[(dx == 0) & (dy == 0)] = np.nan
    return course


@nb.njit(cache=True)
def _across(x: np.ndarray, y: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The step from the report before each report to the one after it, in its flight (from or to the report
    itself at a flight's ends), in float64."""
    n = len(x)
    dx, dy = np.empty(n), np.empty(n)
    for f in range(len(starts) - 1):
        s0, e0 = starts[f], starts[f + 1]
        for i in range(s0, e0):
            p, q = max(i - 1, s0), min(i + 1, e0 - 1)
            dx[i] = np.float64(x[q]) - np.float64(x[p])
            dy[i] = np.float64(y[q]) - np.float64(y[p])
    return dx, dy


@nb.njit(cache=True, inline="always")
def _fit(t, y, offset, lo, hi, t0, half, robust, scale):
    """Weighted least-squares line through ``y[j - offset]`` against ``t[j]`` (tricube weights in time,
    times bisquare weights on the residuals of a first fit when ``robust``); (slope, intercept)."""
    sw = swt = swy = swtt = swty = 0.0
    n = 0
    for j in range(lo, hi):
        yj = y[j - offset]
        if not np.isfinite(yj):
            continue
        u = abs(t[j] - t0) / (half * 1.0001)
        w = (1.0 - u * u * u) ** 3
        dt = t[j] - t0
        if robust:
            r = (yj - (scale[0] + scale[1] * dt)) / (6.0 * scale[2])
            if abs(r) >= 1.0:
                continue
            w *= (1.0 - r * r) ** 2
        sw += w
        swt += w * dt
        swy += w * yj
        swtt += w * dt * dt
        swty += w * dt * yj
        n += 1
    if n < 3:
        return np.nan, np.nan
    den = sw * swtt - swt * swt
    if den <= 1e-12:
        return np.nan, np.nan
    slope = (sw * swty - swt * swy) / den
    return slope, (swy - slope * swt) / sw


@nb.njit(cache=True, inline="always")
def _wls_slope(t, y, offset, lo, hi, t0, half, floor):
    """Robust local slope (LOWESS-style: one bisquare reweighting, residual scale from the median
    absolute residual, at least ``floor``)."""
    slope, icpt = _fit(t, y, offset, lo, hi, t0, half, False, np.zeros(3))
    if not np.isfinite(slope):
        return np.nan
    res = np.empty(hi - lo)
    m = 0
    for j in range(lo, hi):
        yj = y[j - offset]
        if np.isfinite(yj):
            res[m] = abs(yj - (icpt + slope * (t[j] - t0)))
            m += 1
    mad = max(np.median(res[:m]), floor)
    return _fit(t, y, offset, lo, hi, t0, half, True, np.array([icpt, slope, mad]))[0]


@nb.njit(cache=True)
def _winding(heading, s, e, held, wind):
    """Along one flight: each report's heading (the last known one where it has none) in ``held`` and the
    whole turns counted up to it in ``wind``, so that ``held + 2 pi wind`` is the unwrapped heading."""
    last = np.nan
    w = 0
    for k in range(e - s):
        h = heading[s + k]
        if np.isfinite(h):
            if np.isfinite(last):
                w -= int(np.floor((h - last + np.pi) / (2 * np.pi)))
            last = h
        held[k] = last
        wind[k] = w


@nb.njit(cache=True)
def _last_heading(heading: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each report, the last report of its flight up to it with a heading (its flight's first report when
    none has)."""
    out = np.empty(len(heading), np.int64)
    for f in range(len(starts) - 1):
        last = starts[f]
        for i in range(starts[f], starts[f + 1]):
            if np.isfinite(heading[i]):
                last = i
            out[i] = last
    return out


@nb.njit(cache=True, parallel=True)
def _slopes(t, starts, heading, speed, vz, rates, want):
    """The turn rate of each report from ``heading``; with ``rates``, its along-path and vertical accelerations
    (of the reports ``want`` asks for)."""
    n = t.shape[0]
    turn = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    vacc = np.full(n, np.nan)
    nf = starts.shape[0] - 1
    for f in nb.prange(nf):
        s, e = starts[f], starts[f + 1]
        held = np.empty(e - s)
        wind = np.empty(e - s, np.int64)
        _winding(heading, s, e, held, wind)
        # the heading unwrapped around each report (turns counted from it, not from the flight's start,
        # so the figures are the same whatever stretch of the flight is at hand)
        local = np.empty(e - s)
        lo, hi = s, s
        for i in range(s, e):
            if not want[i]:
                continue
            t0 = t[i]
            # the smallest window (3-12 s each side) that holds MIN_POINTS reports
            half = MIN_HALF
            while True:
                while lo < i and t0 - t[lo] > half:
                    lo += 1
                while lo > s and t0 - t[lo - 1] <= half:
                    lo -= 1
                while hi < e and t[hi] - t0 <= half:
                    hi += 1
                while hi > i + 1 and t[hi - 1] - t0 > half:
                    hi -= 1
                if hi - lo >= MIN_POINTS or half >= MAX_HALF:
                    break
                half = min(half * 1.5, MAX_HALF)
            if hi - lo < MIN_POINTS:
                continue
            for j in range(lo, hi):
                local[j - s] = held[j - s] + 2 * np.pi * (wind[j - s] - wind[i - s])
            turn[i] = _wls_slope(t, local, s, lo, hi, t0, half, 0.005)  # floors: a third of a degree,
            if rates:
                acc[i] = _wls_slope(t, speed, 0, lo, hi, t0, half, 0.5)  # half a m/s,
                vacc[i] = _wls_slope(t, vz, 0, lo, hi, t0, half, 0.33)  # a 64 ft/min step
    return turn, acc, vacc
