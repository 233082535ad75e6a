"""What real feeds get wrong about position and altitude, found per aircraft on the ordered table.

* **Stale positions**: a moving aircraft reported again at exactly the same
  latitude and longitude (the feed repeated its last position with a newer time).
* **Too slow at altitude**: a ground speed no fixed-wing aircraft flies at cruise
  levels, the signature of GNSS spoofing (the receiver reports the spoofer's
  slow-moving position and velocity).
* **Position jumps**: positions that no aircraft could reach from its other
  positions in the time between them. The positions are split into segments
  that are each reachable point to point; at each row the segment with the
  most rows within ``JUMP_HORIZON`` s of it is the main one, and a row of another
  segment stays only if its stretch is reachable from and to the main rows
  around it. A one-point outlier and an excursion away and back (up to about
  the horizon) are dropped; a long stretch before or after a single
  discontinuity stays (which side is true cannot be told). No report more
  than the horizon after a row counts for it, so its answer is final once the
  feed has gone that far past it (what a live monitor needs).
* **Altitude spikes**: a reported altitude away from both its neighbours, in the
  same direction, by more than any aircraft climbs or descends in that time.

Each function returns a boolean mask over the rows (True: the row or value is bad).
The table must be sorted by aircraft and time.
"""

from __future__ import annotations

import numba
import numpy as np

from skyfence.kernels import as_kernel_array

EARTH_RADIUS = 6_371_000.0
SEGMENT_LOOKBACK = 4  # open segments a new position may continue
JUMP_HORIZON = 600.0  # s: a position is judged on the rows this close to it in time


def group_starts(ids: np.ndarray) -> np.ndarray:
    """Row index where each aircraft's rows start, plus the end."""
    if len(ids) == 0:
        return np.zeros(1, dtype=np.int64)
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return np.concatenate([[0], change, [len(ids)]]).astype(np.int64)


def stale_positions(starts: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed: np.ndarray,
                    on_ground: np.ndarray, moving: float) -> np.ndarray:
    """Rows repeating the previous row's exact position while the aircraft moves (speed > ``moving`` m/s, or
    unknown in the air)."""
    same = np.zeros(len(lat), dtype=bool)
    same[1:] = (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
    same[starts[:-1]] = False
    # NaN speed compares False: an unknown speed counts as moving, unless the aircraft is on the ground
    slow = (speed <= moving) | (on_ground & np.isnan(speed))
    return same & ~slow


def implied_speed(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                  window: float = 20.0) -> np.ndarray:
    """Ground speed (m/s) implied by the positions: the faster of the legs from the previous and to the next
    position, each at most ``window`` s long (NaN where neither is). Short legs keep a turning aircraft's
    speed: over 20 s even a fighter's hardest turn leaves a chord of more than half its path."""
    n = len(t)
    leg = np.full(max(n - 1, 0), np.nan)
    if n < 2:
        return np.full(n, np.nan)
    phi = np.radians(lat)
    dy = np.radians(np.diff(lat)) * EARTH_RADIUS
    dx = np.radians((np.diff(lon) + 180.0) % 360.0 - 180.0) * EARTH_RADIUS * np.cos(phi[1:])
    dt = np.diff(t)
    ok = (dt > 0) & (dt <= window)
    ok[starts[1:-1] - 1] = False  # no leg between two aircraft
    leg[ok] = np.hypot(dx[ok], dy[ok]) / dt[ok]
    before = np.concatenate([[np.nan], leg])
    after = np.concatenate([leg, [np.nan]])
    return np.fmax(before, after)


@numba.njit(cache=True, inline="always")
def _reachable(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, i: int, j: int, speed_max: float,
               margin: float) -> bool:
    dlat = np.radians(lat[j] - lat[i])
    dlon = np.radians(lon[j] - lon[i])
    dlon = (dlon + np.pi) % (2 * np.pi) - np.pi
    coslat = np.cos(np.radians(0.5 * (lat[i] + lat[j])))
    dist = EARTH_RADIUS * np.sqrt(dlat * dlat + (dlon * coslat) ** 2)
    return dist <= speed_max * abs(t[j] - t[i]) + margin


@numba.njit(cache=True)
def _segments(a: int, b: int, t, lat, lon, speed_max: float, margin: float, seg: np.ndarray) -> np.ndarray:
    """Split rows a..b into segments reachable point to point (``seg``, local ids); the count of each.
    A position continues the most recently extended segment it can be reached from."""
    count = np.zeros(b - a, dtype=np.int64)
    last = np.empty(b - a, dtype=np.int64)  # last row of each segment
    recent = np.full(SEGMENT_LOOKBACK, -1, dtype=np.int64)  # segments by their latest point, newest first
    nseg = 0
    for i in range(a, b):
        found = -1
        for r in range(SEGMENT_LOOKBACK):
            k = recent[r]
            if k >= 0 and _reachable(t, lat, lon, last[k], i, speed_max, margin):
                found = k
                break
        if found < 0:
            found = nseg
            nseg += 1
        seg[i], last[found] = found, i
        count[found] += 1
        pos = SEGMENT_LOOKBACK - 1  # move to the front
        for r in range(SEGMENT_LOOKBACK):
            if recent[r] == found:
                pos = r
                break
        for r in range(pos, 0, -1):
            recent[r] = recent[r - 1]
        recent[0] = found
    return count[:nseg]


@numba.njit(cache=True)
def _main_segments(a: int, b: int, seg: np.ndarray, nseg: int, t: np.ndarray, horizon: float) -> np.ndarray:
    """For each row a..b, the segment with the most rows within ``horizon`` s of it, before or after (ties: the
    row's own segment, then the earliest begun)."""
    main = np.empty(b - a, dtype=np.int64)
    inwin = np.zeros(nseg, dtype=np.int64)
    present = np.empty(nseg, dtype=np.int64)  # the segments with rows in the window: present[:distinct]
    where = np.empty(nseg, dtype=np.int64)  # each one's place in present
    distinct, lo, hi = 0, a, a
    for p in range(a, b):
        while hi < b and t[hi] <= t[p] + horizon:
            s = seg[hi]
            inwin[s] += 1
            if inwin[s] == 1:
                present[distinct], where[s] = s, distinct
                distinct += 1
            hi += 1
        while t[lo] < t[p] - horizon:
            s = seg[lo]
            inwin[s] -= 1
            if inwin[s] == 0:  # swap the last present segment into its place
                distinct -= 1
                last = present[distinct]
                present[where[s]], where[last] = last, where[s]
            lo += 1
        best = seg[p]
        if distinct > 1:  # the answer does not depend on the order the segments are looked at in
            for i in range(distinct):
                s = present[i]
                if inwin[s] > inwin[best] or (inwin[s] == inwin[best] and s < best and best != seg[p]):
                    best = s
        main[p - a] = best
    return main


@numba.njit(cache=True)
def _judge(a: int, b: int, seg: np.ndarray, count: np.ndarray, t, lat, lon, speed_max: float, margin: float,
           min_points: int, min_duration: float, horizon: float, bad: np.ndarray) -> None:
    """Mark the rows a..b of one aircraft split into several segments (see :func:`position_jumps`)."""
    nseg = len(count)
    main = _main_segments(a, b, seg, nseg, t, horizon)
    first = np.zeros(nseg + 1, dtype=np.int64)  # each segment's rows, in time order: rows[first[s]:first[s + 1]]
    first[1:] = np.cumsum(count)
    rows = np.argsort(seg[a:b], kind="mergesort") + a
    times = t[rows]
    last_key = (-1, -1, -1)
    last_ok = True
    for p in range(a, b):
        m, s = main[p - a], seg[p]
        if s == m:
            continue
        mine = rows[first[m]:first[m + 1]]
        k = np.searchsorted(mine, p)
        before = mine[k - 1] if k > 0 and t[mine[k - 1]] >= t[p] - horizon else -1
        after = mine[k] if k < len(mine) and t[mine[k]] <= t[p] + horizon else -1
        ts = times[first[s]:first[s + 1]]
        if before >= 0 and after >= 0 and (s, before, after) == last_key:
            ok = last_ok  # the same stretch between the same main rows: judged for the row before
        else:
            # the rows of its segment between those main rows (within the horizon where one is missing)
            if before >= 0:
                i0 = np.searchsorted(ts, t[before], side="right")
            else:
                i0 = np.searchsorted(ts, t[p] - horizon, side="left")
            i1 = np.searchsorted(ts, t[after] if after >= 0 else t[p] + horizon, side="right")
            ok = True
            for i in range(first[s] + i0, first[s] + i1):
                r = rows[i]
                if (before >= 0 and not _reachable(t, lat, lon, before, r, speed_max, margin)) or \
                        (after >= 0 and not _reachable(t, lat, lon, r, after, speed_max, margin)):
                    ok = False
                    break
            last_key, last_ok = (s, before, after), ok
        if not ok and (before < 0 or after < 0):
            # past a single discontinuity: which side is true is unknown, so a long stretch stays (its reports
            # from its first up to the horizon); a short one is an outlier
            j1 = np.searchsorted(ts, t[p] + horizon, side="right")
            ok = j1 >= min_points and ts[j1 - 1] - ts[0] >= min_duration
        bad[p] = not ok


@numba.njit(cache=True)
def _jumps(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float,
           margin: float, min_points: int, min_duration: float, horizon: float) -> np.ndarray:
    bad = np.zeros(len(t), dtype=np.bool_)
    seg = np.empty(len(t), dtype=np.int64)
    for g in range(len(starts) - 1):
        a, b = starts[g], starts[g + 1]
        if b - a < 2:
            continue
        count = _segments(a, b, t, lat, lon, speed_max, margin, seg)
        if len(count) > 1:
            _judge(a, b, seg, count, t, lat, lon, speed_max, margin, min_points, min_duration, horizon, bad)
    return bad


def position_jumps(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float,
                   margin: float, min_points: int = 10, min_duration: float = 30.0,
                   horizon: float = JUMP_HORIZON) -> np.ndarray:
    """Rows whose position is unreachable from the aircraft's main positions at ``speed_max`` (m/s), with
    ``margin`` (m) for position error, each row judged on the track up to ``horizon`` s after it.

    The main segment at a row is the one with the most rows within the horizon before and after it. A row of
    another segment stays when every row of its segment between the main rows around it (the last before and the
    first after, within the horizon) is reachable from the one and can reach the other. Where there is a main
    row on one side only, a stretch that does not fit stays if it is long (``min_points`` positions over
    ``min_duration`` s, from its first up to the horizon): past a single discontinuity which side is true cannot
    be told. No row after the horizon counts, so a decision is final once the track has a report more than
    ``horizon`` s after the row: a feed cut at any point gives the same answers for the rows before that as the
    whole day. (The segments depend on the whole track before: a window that cuts a track's start may split it
    otherwise.)"""
    if len(t) == 0:
        return np.zeros(0, dtype=bool)
    return _jumps(as_kernel_array(starts, np.int64), as_kernel_array(t), as_kernel_array(lat),
                  as_kernel_array(lon), float(speed_max), float(margin), int(min_points),
                  float(min_duration), float(horizon))


@numba.njit(cache=True)
def _spikes(starts: np.ndarray, t: np.ndarray, alt: np.ndarray, rate_max: float, floor: float,
            window: float) -> np.ndarray:
    n = len(t)
    bad = np.zeros(n, dtype=np.bool_)
    for _ in range(2):  # a second pass finds spikes two samples long
        for g in range(len(starts) - 1):
            a, b = starts[g], starts[g + 1]
            prev = -1
            for i in range(a, b):
                if np.isnan(alt[i]) or bad[i]:
                    continue
                if prev >= 0:
                    nxt = -1
                    for j in range(i + 1, b):
                        if not np.isnan(alt[j]) and not bad[j]:
                            nxt = j
                            break
                    if nxt >= 0:
                        d1 = alt[i] - alt[prev]
                        d2 = alt[i] - alt[nxt]
                        dt1 = t[i] - t[prev]
                        dt2 = t[nxt] - t[i]
                        if (dt1 <= window and dt2 <= window and d1 * d2 > 0
                                and abs(d1) > floor + rate_max * dt1 and abs(d2) > floor + rate_max * dt2):
                            bad[i] = True
                            continue
                prev = i
    return bad


def altitude_spikes(starts: np.ndarray, t: np.ndarray, alt: np.ndarray, rate_max: float, floor: float,
                    window: float = 60.0) -> np.ndarray:
    """Rows whose altitude leaves both neighbours (within ``window`` s) in the same direction by more than
    ``floor`` + ``rate_max`` × the time to each (m, m/s)."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool)
    return _spikes(as_kernel_array(starts, np.int64), as_kernel_array(t), as_kernel_array(alt),
                   float(rate_max), float(floor), float(window))
