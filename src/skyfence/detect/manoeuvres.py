"""Manoeuvres of one aircraft: hard turns, speed brakes, rapid climbs and dives, weaving, loitering.

Each comes from the smoothed kinematics of the flight (``tracks.kinematics``)
and the agreement's manoeuvre thresholds:

- ``hard_turn``: load factor of the turn at or above ``hard_turn_g`` for ``hard_turn_duration``;
- ``weave``: ``weave_reversals`` hard turns (``weave_g``) alternating left and right,
  each within ``weave_window`` of the last (its turns are not reported again as hard turns);
- ``speed_brake``: deceleration of ``brake_decel`` or more beyond what the climb angle
  explains (excess of drag over thrust) for ``brake_duration`` (pulses under ``BRAKE_GAP``
  apart are one);
- ``climb`` / ``dive``: vertical rate beyond ``rapid_vertical_rate`` for ``rapid_duration``;
- ``orbit``: over ``loiter_window`` the aircraft stays within ``loiter_radius`` of a point
  while flying at least 2.5 times that distance (circling or a racetrack), with its distance
  from the line.

A report's duration counts half-way to its neighbours, so sparse reports are
not penalised. Reports on the ground or slower than 50 kt have no kinematics
and take part in nothing. Pure functions over arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.agreement.model import ManoeuvreThresholds
from skyfence.parallel import serial_below
from skyfence.tracks.arrays import TrackArrays
from skyfence.tracks.kinematics import Kinematics

KINDS = ("hard_turn", "weave", "speed_brake", "climb", "dive", "orbit")
BRAKE_GAP = 30.0
"""Speed-brake pulses less than this many seconds apart are one braking (pilots pump the brakes)."""


@dataclass(frozen=True)
class ManoeuvreEvents:
    kind: np.ndarray  # index into KINDS
    first: np.ndarray  # first report of the event
    last: np.ndarray
    start: np.ndarray  # seconds
    end: np.ndarray
    peak: np.ndarray  # g, m/s2 (deceleration, positive), m/s, reversals or km (orbit radius)
    peak_row: np.ndarray  # report at the peak (for the position)

    def __len__(self) -> int:
        return len(self.kind)


def runs(mask: np.ndarray, tr: TrackArrays) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of every run of True within a flight."""
    first_of = tr.first_of_flight()
    last_of = tr.last_of_flight()
    prev = np.r_[False, mask[:-1]]
    nxt = np.r_[mask[1:], False]
    start = np.flatnonzero(mask & (first_of | ~prev))
    end = np.flatnonzero(mask & (last_of | ~nxt))
    return start, end


def covered(t: np.ndarray, tr: TrackArrays, a: np.ndarray, b: np.ndarray, cap: float = 10.0):
    """Start and end of runs a..b counted half-way to the neighbouring reports (at most ``cap`` s)."""
    first_of, last_of = tr.first_of_flight(), tr.last_of_flight()
    before = np.where(first_of[a], 0.0, np.minimum((t[a] - t[np.maximum(a - 1, 0)]) / 2, cap))
    after = np.where(last_of[b], 0.0, np.minimum((t[np.minimum(b + 1, len(t) - 1)] - t[b]) / 2, cap))
    return t[a] - before, t[b] + after


def _events(kind: int, mask: np.ndarray, value: np.ndarray, tr: TrackArrays, min_duration: float,
            merge_gap: float = 0.0, pulse: float = 0.0) -> ManoeuvreEvents:
    """Runs of ``mask`` (each at least ``pulse`` long), joined across gaps up to ``merge_gap``, that last
    ``min_duration``."""
    a, b = runs(mask, tr)
    if pulse > 0 and len(a):
        s, e = covered(tr.t, tr, a, b)
        a, b = a[e - s >= pulse], b[e - s >= pulse]
    if len(a) > 1 and merge_gap > 0:  # join runs of one flight a short gap apart
        same = tr.flight_of(a[1:]) == tr.flight_of(b[:-1])
        join = same & (tr.t[a[1:]] - tr.t[b[:-1]] <= merge_gap)
        a, b = a[np.r_[True, ~join]], b[np.r_[~join, True]]
    s, e = covered(tr.t, tr, a, b)
    keep = e - s >= min_duration
    a, b, s, e = a[keep], b[keep], s[keep], e[keep]
    peak_row = _peaks(value, a.astype(np.int64), b.astype(np.int64))
    return ManoeuvreEvents(np.full(len(a), kind), a, b, s, e, value[peak_row] if len(a) else np.empty(0), peak_row)


@nb.njit(cache=True)
def _peaks(v: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The row of the largest value of each run ``a[k]..b[k]`` (the first of equals), reading the runs alone (not
    a copy of the whole table's values): values ranked as ``np.nan_to_num(v, nan=-inf)`` ranks them (unknown
    lowest, infinities as the largest finite numbers)."""
    out = np.empty(len(a), np.int64)
    for k in range(len(a)):
        best, at = _ranked(v[a[k]]), a[k]
        for i in range(a[k] + 1, b[k] + 1):
            x = _ranked(v[i])
            if x > best:
                best, at = x, i
        out[k] = at
    return out


_LARGEST = float(np.finfo(np.float64).max)


@nb.njit(cache=True, inline="always")
def _ranked(x: float) -> float:
    if x != x:
        return -np.inf
    return min(max(x, -_LARGEST), _LARGEST)


def detect_manoeuvres(tr: TrackArrays, k: Kinematics, th: ManoeuvreThresholds) -> ManoeuvreEvents:
    """Every manoeuvre of every flight, sorted by flight and start."""
    parts = []
    turning = k.turn_load >= th.weave_g
    side = np.sign(np.nan_to_num(k.turn_rate))
    weave_rows = _weave_rows(tr.t, tr.starts, turning, side, th.weave_reversals, th.weave_window)
    parts.append(_events(1, weave_rows, k.turn_load, tr, th.weave_window / 4, merge_gap=th.weave_window / 2))
    hard = (k.turn_load >= th.hard_turn_g) & ~weave_rows
    parts.append(_events(0, hard, k.turn_load, tr, th.hard_turn_duration))
    parts.append(_events(2, k.excess_accel <= -th.brake_decel, -k.excess_accel, tr, th.brake_duration,
                         merge_gap=BRAKE_GAP, pulse=th.brake_duration))
    parts.append(_events(3, k.vertical_rate >= th.rapid_vertical_rate, k.vertical_rate, tr, th.rapid_duration))
    parts.append(_events(4, k.vertical_rate <= -th.rapid_vertical_rate, -k.vertical_rate, tr, th.rapid_duration))
    with serial_below(len(tr.t)):
        loiter, radius = _loiter_rows(tr.t, tr.x.astype(np.float64), tr.y.astype(np.float64), tr.starts,
                                      th.loiter_window, th.loiter_radius)
    parts.append(_events(5, loiter, radius / 1000.0, tr, th.loiter_window * 0.9, merge_gap=120.0))
    ev = ManoeuvreEvents(*(np.concatenate([getattr(p, f) for p in parts]) for f in ManoeuvreEvents.__dataclass_fields__))
    order = np.lexsort((ev.start, ev.first))
    return ManoeuvreEvents(*(getattr(ev, f)[order] for f in ManoeuvreEvents.__dataclass_fields__))


@nb.njit(cache=True)
def _weave_rows(t, starts, turning, side, reversals, window):
    """Reports inside a weave: turning hard, in a sequence of ``reversals`` or more alternating turns,
    each beginning within ``window`` of the previous one's end."""
    n = t.shape[0]
    out = np.zeros(n, np.bool_)
    for f in range(starts.shape[0] - 1):
        s, e = starts[f], starts[f + 1]
        # the hard turns of this flight, as (first, last, side)
        seg_a = np.empty(e - s, np.int64)
        seg_b = np.empty(e - s, np.int64)
        seg_s = np.empty(e - s)
        m = 0
        i = s
        while i < e:
            if turning[i] and side[i] != 0:
                j = i
                while j + 1 < e and turning[j + 1] and side[j + 1] == side[i]:
                    j += 1
                seg_a[m], seg_b[m], seg_s[m] = i, j, side[i]
                m += 1
                i = j + 1
            else:
                i += 1
        k = 0
        while k < m:
            q = k
            while q + 1 < m and seg_s[q + 1] != seg_s[q] and t[seg_a[q + 1]] - t[seg_b[q]] <= window:
                q += 1
            if q - k + 1 >= reversals:
                for r in range(seg_a[k], seg_b[q] + 1):
                    out[r] = True
            k = q + 1
    return out


@nb.njit(cache=True, parallel=True)
def _loiter_rows(t, x, y, starts, window, radius):
    """Reports inside a loiter: a window of ``window`` seconds, starting at the flight's first report and
    then at the first report of every UTC minute, whose positions stay within ``radius`` of their centroid
    while the path is at least 2.5 times the radius found."""
    n = t.shape[0]
    out = np.zeros(n, np.bool_)
    rad = np.full(n, np.nan)
    for f in nb.prange(starts.shape[0] - 1):  # flights apart: each writes its own reports
        s, e = starts[f], starts[f + 1]
        if e - s < 3 or t[e - 1] - t[s] < window:
            continue
        i = s
        while i < e and t[i] + window <= t[e - 1]:
            j = i
            cx = cy = 0.0
            while j < e and t[j] <= t[i] + window:
                cx += x[j]
                cy += y[j]
                j += 1
            cnt = j - i
            cx /= cnt
            cy /= cnt
            r = 0.0
            path = 0.0
            for q in range(i, j):
                r = max(r, np.hypot(x[q] - cx, y[q] - cy))
                if q > i:
                    path += np.hypot(x[q] - x[q - 1], y[q] - y[q - 1])
            if r <= radius and path >= 2.5 * max(r, 2000.0):
                for q in range(i, j):
                    out[q] = True
                    if not (rad[q] >= r):
                        rad[q] = r
            # next window start: the first report of the next UTC minute (a grid fixed in time, so the
            # windows do not depend on where the data start)
            t_next = (np.floor(t[i] / 60.0) + 1.0) * 60.0
            while i < e and t[i] < t_next:
                i += 1
    return out, rad
