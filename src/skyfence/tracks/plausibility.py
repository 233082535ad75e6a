"""What real feeds get wrong about position and altitude, found per aircraft on the ordered table.

* **Stale positions**: a moving aircraft reported again at exactly the same
  latitude and longitude (the feed repeated its last position with a newer time).
* **Too slow at altitude**: a ground speed no fixed-wing aircraft flies at cruise
  levels, the signature of GNSS spoofing (the receiver reports the spoofer's
  slow-moving position and velocity).
* **Position jumps**: positions that no aircraft could reach from its other
  positions in the time between them. Along the track, a position continues
  the nearest stretch it can be reached from: the established one, or a
  stretch of other positions (a candidate). A candidate that is long and has more positions
  than the established stretch within ``JUMP_HORIZON`` s of its first takes
  over from there; otherwise it is dropped. A one-point outlier and an
  excursion away and back of up to half the horizon are dropped; a long stretch before or after a
  single discontinuity stays (which side is true cannot be told). A position is judged on the
  track up to two horizons after it at most, and at once where the track is settled and no
  candidate is open: what a live monitor needs.
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
SEGMENT_LOOKBACK = 4  # open candidates a position may continue, beside the established segment
JUMP_HORIZON = 120.0  # s: how long a candidate stretch has to out-count the established one
LEG_WINDOW = 20.0  # s: the longest leg the implied speed is taken over
SPIKE_WINDOW = 60.0  # s: how far an altitude's neighbours may be for it to be a spike


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
                  window: float = LEG_WINDOW) -> np.ndarray:
    """Ground speed (m/s) implied by the positions: the faster of the legs from the previous and to the next
    position, each at most ``window`` s long (NaN where neither is). Short legs keep a turning aircraft's
    speed: over 20 s even a fighter's hardest turn leaves a chord of more than half its path."""
    before, after = leg_speeds(starts, t, lat, lon, window)
    return np.fmax(before, after)


def leg_speeds(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray,
               window: float = LEG_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """The speeds (m/s) the positions imply over the legs from the previous and to the next position (NaN where
    that leg is longer than ``window`` s, or there is none)."""
    n = len(t)
    leg = np.full(max(n - 1, 0), np.nan)
    if n < 2:
        return np.full(n, np.nan), np.full(n, np.nan)
    phi = np.radians(lat)
    dy = np.radians(np.diff(lat)) * EARTH_RADIUS
    dx = np.radians((np.diff(lon) + 180.0) % 360.0 - 180.0) * EARTH_RADIUS * np.cos(phi[1:])
    dt = np.diff(t)
    ok = (dt > 0) & (dt <= window)
    ok[starts[1:-1] - 1] = False  # no leg between two aircraft
    leg[ok] = np.hypot(dx[ok], dy[ok]) / dt[ok]
    return np.concatenate([[np.nan], leg]), np.concatenate([leg, [np.nan]])


@numba.njit(cache=True, inline="always")
def _gap(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, i: int, j: int, speed_max: float, margin: float) -> float:
    """How far row ``j`` is from row ``i`` (m), or infinity where no aircraft could go so far between them (at
    ``speed_max``, plus ``margin`` for position error)."""
    dlat = np.radians(lat[j] - lat[i])
    dlon = np.radians(lon[j] - lon[i])
    dlon = (dlon + np.pi) % (2 * np.pi) - np.pi
    coslat = np.cos(np.radians(0.5 * (lat[i] + lat[j])))
    dist = EARTH_RADIUS * np.sqrt(dlat * dlat + (dlon * coslat) ** 2)
    return dist if dist <= speed_max * abs(t[j] - t[i]) + margin else np.inf


@numba.njit(cache=True, inline="always")
def _long(count: int, duration: float, min_points: int, min_duration: float, horizon: float) -> bool:
    """A stretch that counts as a track: ``min_points`` rows over ``min_duration`` s, or rows over half the
    horizon (a sparse track)."""
    return (count >= min_points and duration >= min_duration) or (count >= 2 and duration >= 0.5 * horizon)


@numba.njit(cache=True)
def _resolve(upto: int, t: np.ndarray, seg: np.ndarray, first: np.ndarray, est: int, cand: int, horizon: float,
             min_points: int, min_duration: float, bad: np.ndarray, since: float) -> int:
    """Settle the contest of the candidate segment ``cand`` against the established ``est`` (rows before
    ``upto`` seen): the candidate takes over if, within ``horizon`` s of its first row, it is long and has more
    rows than ``est`` has from its row in force then (its latest before). Then ``est``'s rows from the
    candidate's first are dropped, and all of them if ``est`` began within the horizon before and is short
    (``since``: when the first segment began, which may be before the rows given). The established segment
    after it."""
    f = first[cand]
    n_c, n_e, end = 0, 1, f  # n_e: the established row in force at f, and its rows since
    for i in range(f, upto):  # settled before the first row past the horizon: these are all within it
        if seg[i] == cand:
            n_c += 1
            end = i
        elif seg[i] == est:
            n_e += 1
    if n_c <= n_e or not _long(n_c, t[end] - t[f], min_points, min_duration, horizon):
        return est
    lo = f
    if t[f] - (since if est == 0 else t[first[est]]) <= horizon:  # a young established stretch goes whole if short
        count, end = 0, first[est]
        for i in range(first[est], f):
            if seg[i] == est:
                count += 1
                end = i
        if not _long(count, t[end] - t[first[est]], min_points, min_duration, horizon):
            lo = first[est]
    for i in range(lo, upto):
        if seg[i] == est:
            bad[i] = True
        elif seg[i] == cand:
            bad[i] = False
    return cand


@numba.njit(cache=True)
def _forget(recent: np.ndarray, k: int) -> None:
    """Take segment ``k`` out of the open candidates."""
    for r in range(len(recent)):
        if recent[r] == k:
            for q in range(r, len(recent) - 1):
                recent[q] = recent[q + 1]
            recent[len(recent) - 1] = -1
            return


@numba.njit(cache=True)
def _track(a: int, b: int, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float, margin: float,
           min_points: int, min_duration: float, horizon: float, seg: np.ndarray, bad: np.ndarray, since: float,
           settled: np.ndarray) -> None:
    """Mark the rows a..b of one aircraft (see :func:`position_jumps`), in time order: each contest is settled
    before the first row more than the horizon after its candidate's first. ``settled[i]``: after row i (or
    before the next row, once the contests due by then are decided) no contest is open and the established
    segment began more than a horizon before (``since``: when the first segment began)."""
    n = b - a
    first = np.empty(n, dtype=np.int64)  # each segment's first row
    last = np.empty(n, dtype=np.int64)  # and its latest
    recent = np.full(SEGMENT_LOOKBACK, -1, dtype=np.int64)  # open candidates, most recently extended first
    pending = np.empty(n, dtype=np.int64)  # candidates whose contest is open, oldest first: pending[p0:p1]
    p0 = p1 = 0
    est, nseg = 0, 1
    first[0] = last[0] = a
    seg[a] = 0
    settled[a] = t[a] - since > horizon
    for i in range(a + 1, b):
        while p0 < p1 and t[first[pending[p0]]] + horizon < t[i]:
            c = pending[p0]
            p0 += 1
            est = _resolve(i, t, seg, first, est, c, horizon, min_points, min_duration, bad, since)
            _forget(recent, c)
        if p0 == p1 and t[i] - (since if est == 0 else t[first[est]]) > horizon:
            settled[i - 1] = True  # every contest before this row decided: as settled as after the one before
        found, best = est, _gap(t, lat, lon, last[est], i, speed_max, margin)  # the nearest it can be reached from
        for r in range(SEGMENT_LOOKBACK):
            k = recent[r]
            if k < 0:
                break
            gap = _gap(t, lat, lon, last[k], i, speed_max, margin)
            if gap < best:
                found, best = k, gap
        if not best < np.inf:  # reachable from none (or no position)
            found = nseg
            nseg += 1
            first[found] = i
            pending[p1] = found
            p1 += 1
        seg[i], last[found] = found, i
        if found != est:
            bad[i] = True  # until its segment takes over
            _forget(recent, found)
            for r in range(SEGMENT_LOOKBACK - 1, 0, -1):
                recent[r] = recent[r - 1]
            recent[0] = found
        settled[i] = p0 == p1 and t[i] - (since if est == 0 else t[first[est]]) > horizon
    while p0 < p1:
        est = _resolve(b, t, seg, first, est, pending[p0], horizon, min_points, min_duration, bad, since)
        p0 += 1


@numba.njit(cache=True)
def _jumps(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float, margin: float,
           min_points: int, min_duration: float, horizon: float, since: np.ndarray) -> tuple:
    bad = np.zeros(len(t), dtype=np.bool_)
    settled = np.zeros(len(t), dtype=np.bool_)
    seg = np.empty(len(t), dtype=np.int64)
    for g in range(len(starts) - 1):
        a, b = starts[g], starts[g + 1]
        if b > a:
            s = since[g] if since[g] <= t[a] else t[a]  # NaN, or later than the first row: the first row
            _track(a, b, t, lat, lon, speed_max, margin, min_points, min_duration, horizon, seg, bad, s, settled)
    return bad, settled


def position_jumps(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float,
                   margin: float, min_points: int = 10, min_duration: float = 30.0,
                   horizon: float = JUMP_HORIZON) -> np.ndarray:
    """Rows whose position is unreachable from the aircraft's established positions at ``speed_max`` (m/s), with
    ``margin`` (m) for position error.

    Along each track in time order, a row continues the nearest segment it can be reached from (by the distance
    from the segment's latest row) among the established segment and the last ``SEGMENT_LOOKBACK`` open
    candidates; reachable from none, it begins a candidate. A candidate takes over if,
    within ``horizon`` s of its first row, it is long (``min_points`` rows over ``min_duration`` s, or rows over
    half the horizon) and has more rows than the established segment has from its row in force then: the
    established rows from the candidate's first are dropped (all of them, if that segment began within the
    horizon before and is short). A candidate that does not take over is dropped. The first row begins the
    established segment.

    Each contest is settled once the track has gone ``horizon`` s past the candidate's first row, on the rows up
    to there, so a row's answer is final once the track has a row more than two horizons after it (one, unless a
    short segment is taken over), and at once for a row of the established segment when no candidate is open and
    the segment began more than a horizon before: a feed cut at any point gives the same answers for the rows
    before that as the whole day. The past is not bounded: which segment is established depends on the track
    before, so a window that cuts a track's start (inside a contest, or between two aircraft reporting on one
    address) may keep the other side."""
    return position_contests(starts, t, lat, lon, speed_max, margin, min_points, min_duration, horizon)[0]


def position_contests(starts: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, speed_max: float,
                      margin: float, min_points: int = 10, min_duration: float = 30.0, horizon: float = JUMP_HORIZON,
                      since: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`position_jumps`, and where each track is settled: after the row no contest is open and the
    established segment began more than a horizon before, so that no later row changes the answers up to it
    and the rule, started again at the next row with ``since`` (per aircraft: when its established segment
    began, before the rows given), answers as on the whole track."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    since = np.full(len(starts) - 1, np.nan) if since is None else since
    return _jumps(as_kernel_array(starts, np.int64), as_kernel_array(t), as_kernel_array(lat),
                  as_kernel_array(lon), float(speed_max), float(margin), int(min_points),
                  float(min_duration), float(horizon), as_kernel_array(since))


@numba.njit(cache=True)
def _spikes(starts: np.ndarray, t: np.ndarray, alt: np.ndarray, rate_max: float, floor: float,
            window: float) -> tuple:
    n = len(t)
    bad = np.zeros(n, dtype=np.bool_)
    first = np.zeros(n, dtype=np.bool_)
    for p in range(2):  # a second pass finds spikes two samples long
        if p == 1:
            first[:] = bad
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
    return bad, first


def altitude_spikes(starts: np.ndarray, t: np.ndarray, alt: np.ndarray, rate_max: float, floor: float,
                    window: float = SPIKE_WINDOW) -> np.ndarray:
    """Rows whose altitude leaves both neighbours (within ``window`` s) in the same direction by more than
    ``floor`` + ``rate_max`` × the time to each (m, m/s)."""
    return altitude_spike_passes(starts, t, alt, rate_max, floor, window)[0]


def altitude_spike_passes(starts: np.ndarray, t: np.ndarray, alt: np.ndarray, rate_max: float, floor: float,
                          window: float = SPIKE_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """:func:`altitude_spikes`, and the rows the first pass found (spikes one sample long): what tells when a
    row's answer is final (:mod:`skyfence.tracks.settle`)."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    return _spikes(as_kernel_array(starts, np.int64), as_kernel_array(t), as_kernel_array(alt),
                   float(rate_max), float(floor), float(window))
