"""Crossings: an aircraft entering a side or zone closed to its party, and the warning before.

For each restricted area and each flight of a party it is closed to, the
states inside the area (horizontally, within its altitude band and validity
window) form runs. Hysteresis: runs that never reach half of ``min_depth``
beyond the boundary are jitter along the line (the river meanders under a
straight path) and are dropped; the runs left that are separated by a brief
(under ``min_duration``) or shallow (never ``min_depth`` back out) return are
merged; and an event counts when it reaches ``min_depth`` and lasts
``min_duration``. Entry and exit are interpolated to the
boundary crossing between the two states around it (the boundary, the band
edge or the window edge, whichever the aircraft met). An event still inside
at the end of its flight's track is ``open``.

How the aircraft came to be inside is its ``entry_kind`` (:data:`ENTRY_KINDS`):
``crossed`` when it was seen on the allowed side and then on the closed side,
across the line, a zone's boundary, floor or ceiling; ``first_seen_inside``
when its flight's first report is already inside; ``region_edge`` when it came
into a side across the region's outer boundary, not across the line; and
``zone_opened`` when it was already inside a zone's space as the zone's
validity window began. Only ``crossed`` events are crossings of the agreement;
the others are counted apart and get no warning lead time.

The warning works like an Area Proximity Warning: for every state outside the
area, the time until its straight path (ground velocity, vertical rate)
enters the area; a state warns when that is within ``warning_lookahead``. The
lead time of a crossing runs from the first state of the unbroken run of
warning states before the entry to the entry itself.

Pure functions over arrays: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyfence.agreement.model import CrossingThresholds, RestrictedArea
from skyfence.detect.ranges import range_rows
from skyfence.tracks.arrays import TrackArrays
from skyfence.tracks.row_memo import RowMemo


ENTRY_KINDS = ("crossed", "first_seen_inside", "region_edge", "zone_opened")
CROSSED, FIRST_SEEN_INSIDE, REGION_EDGE, ZONE_OPENED = range(4)
_ON_LINE = 1.0  # m: an entry point this close to the line came across the line (not the region's edge)

JITTER = 0.5
"""A stay beyond the line that never reaches this fraction of ``min_depth`` is jitter, not part of a crossing."""


@dataclass(frozen=True)
class CrossingEvents:
    """Crossing events of one area, one entry per event (rows index the track arrays)."""

    area_id: str
    first_row: np.ndarray  # first state inside
    last_row: np.ndarray  # last state inside
    entry_time: np.ndarray
    exit_time: np.ndarray  # NaN when open
    entry_x: np.ndarray
    entry_y: np.ndarray
    exit_x: np.ndarray
    exit_y: np.ndarray
    entry_observed: np.ndarray  # False when the flight's data starts inside
    entry_kind: np.ndarray  # int8 code into ENTRY_KINDS
    open: np.ndarray
    duration: np.ndarray
    max_depth: np.ndarray
    max_depth_row: np.ndarray
    alt_min: np.ndarray
    alt_max: np.ndarray
    max_gap: np.ndarray
    entry_gap: np.ndarray  # time between the two reports around the entry (0 when not observed)
    exit_gap: np.ndarray  # the same around the exit (NaN when open)
    warning_lead: np.ndarray  # NaN when no warning preceded the entry
    exit_final: np.ndarray  # the exit cannot change with later reports: see :func:`_exit_final`

    def __len__(self) -> int:
        return len(self.first_row)


@dataclass(frozen=True)
class WarningStats:
    """Warning episodes (unbroken runs of warning states) and how many ended in a counted crossing; and each
    episode's first and last state (rows) and whether it did (so that the episodes of parts of the data add up)."""

    episodes: int
    followed_by_crossing: int
    first_row: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    last_row: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    followed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


class _Asked:
    """What the area says of each state (inside it, how deep, whether its straight path enters it): the same
    answers with the live monitor's memo as without (:mod:`skyfence.tracks.row_memo`), which keeps those of the
    states its last run asked about."""

    def __init__(self, tr: TrackArrays, area: RestrictedArea, memo: RowMemo | None) -> None:
        self.tr, self.area, self.memo = tr, area, memo

    def inside(self) -> np.ndarray:
        tr, index = self.tr, self.area.area_index
        if self.memo is None:
            return index.contains(tr.x, tr.y)
        return self.memo.apply(f"inside:{self.area.id}", (tr.x, tr.y),
                               lambda rows: (index.contains(tr.x[rows], tr.y[rows]),))[0]

    def depth(self, rows: np.ndarray, cap: float = np.inf) -> np.ndarray:
        """Distance of the given states to the line or the zone's edge (``inf`` beyond ``cap``)."""
        tr, index = self.tr, self.area.depth_index
        if self.memo is None:
            return index.distance(tr.x[rows], tr.y[rows], cap=cap)
        return self.memo.apply(f"depth:{self.area.id}:{cap!r}", (tr.x, tr.y),
                               lambda r: (index.distance(tr.x[r], tr.y[r], cap=cap),), rows=rows)[0]

    def hits(self, rows: np.ndarray, lookahead: float) -> np.ndarray:
        """When each given state's straight path first enters the area, within ``lookahead`` (``inf``: not)."""
        tr, index = self.tr, self.area.area_index
        if self.memo is None:
            return index.first_hit(tr.x, tr.y, tr.vx, tr.vy, lookahead, rows=rows)
        return self.memo.apply(f"hit:{self.area.id}:{lookahead!r}", (tr.x, tr.y, tr.vx, tr.vy),
                               lambda r: (index.first_hit(tr.x, tr.y, tr.vx, tr.vy, lookahead, rows=r),),
                               rows=rows)[0]


def detect_area(tr: TrackArrays, area: RestrictedArea, th: CrossingThresholds, memo: RowMemo | None = None
                ) -> tuple[CrossingEvents, WarningStats]:
    """Crossing events into one restricted area, and its warning statistics (``memo``: the live monitor's, see
    :mod:`skyfence.tracks.row_memo`)."""
    closed = [k for k, pid in enumerate(tr.party_ids) if pid in area.closed_to]
    candidate = np.isin(tr.party, closed)
    if not candidate.any():
        return _empty(area.id), WarningStats(0, 0)
    x, y, t, alt = tr.x, tr.y, tr.t, tr.alt
    ask = _Asked(tr, area, memo)
    inside_h = ask.inside()
    inside = inside_h & candidate & _in_band(alt, area.floor, area.ceiling)
    lo, hi = area.window_seconds()
    if np.isfinite(lo) or np.isfinite(hi):
        inside &= (t >= lo) & (t <= hi)

    new_flight = tr.first_of_flight()
    end_flight = tr.last_of_flight()
    run_start = np.flatnonzero(inside & (new_flight | ~np.r_[False, inside[:-1]]))
    run_end = np.flatnonzero(inside & (end_flight | ~np.r_[inside[1:], False]))
    ev_start, ev_end = _merge_runs(run_start, run_end, t, tr, th, ask)
    final = _exit_final(ev_start, ev_end, run_start, inside, t, tr, th, ask)

    # warnings, from every state of a closed party outside the area
    warn = np.zeros(len(t), dtype=bool)
    if th.warning_lookahead > 0:
        block = 1 << 20  # in blocks, to keep the index arrays small
        for a in range(0, len(t), block):
            outside = a + np.flatnonzero(candidate[a:a + block] & ~inside_h[a:a + block])
            warn[outside] = _warns(tr, outside, area, th.warning_lookahead, ask)

    if len(ev_start) == 0:
        return _empty(area.id), _warning_stats(warn, new_flight, end_flight, np.empty(0, dtype=np.int64))

    depth, depth_at = _max_depth(ev_start, ev_end, inside, ask)
    entry_f, entry_observed, kind, horizontal = _entry_fraction(ev_start, new_flight, inside_h, x, y, t, alt, area)
    exit_f, is_open = _exit_fraction(ev_end, end_flight, inside_h, x, y, t, alt, area)

    prev = np.where(entry_observed, ev_start - 1, ev_start)
    entry_t = t[prev] + entry_f * (t[ev_start] - t[prev])
    entry_x = x[prev] + entry_f * (x[ev_start] - x[prev])
    entry_y = y[prev] + entry_f * (y[ev_start] - y[prev])
    nxt = np.where(is_open, ev_end, ev_end + 1)
    exit_t = t[ev_end] + exit_f * (t[nxt] - t[ev_end])
    exit_x = x[ev_end] + exit_f * (x[nxt] - x[ev_end])
    exit_y = y[ev_end] + exit_f * (y[nxt] - y[ev_end])
    duration = np.where(is_open, t[ev_end], exit_t) - entry_t

    keep = (depth >= th.min_depth) & (duration >= th.min_duration)
    if area.kind == "side" and horizontal.any():
        # came in horizontally: across the line, or across the region's outer edge
        h = np.flatnonzero(horizontal)
        off_line = area.depth_index.distance(entry_x[h], entry_y[h], cap=2 * _ON_LINE) > _ON_LINE
        kind[h[off_line]] = REGION_EDGE
    crossed = kind == CROSSED
    # altitudes while inside (not of the states around the event, which may be outside the band)
    alt_min, alt_max = _reduce_ranges(np.where(inside, alt, np.nan), ev_start, ev_end)
    max_gap = _max_gap(t, prev, nxt)
    lead = _lead(warn, new_flight, t, prev, entry_t, crossed)
    stats = _warning_stats(warn, new_flight, end_flight, prev[keep & crossed])
    exit_t = np.where(is_open, np.nan, exit_t)
    exit_x = np.where(is_open, np.nan, exit_x)
    exit_y = np.where(is_open, np.nan, exit_y)
    k = keep
    entry_gap = t[ev_start] - t[prev]
    exit_gap = np.where(is_open, np.nan, t[nxt] - t[ev_end])
    return CrossingEvents(area.id, ev_start[k], ev_end[k], entry_t[k], exit_t[k], entry_x[k], entry_y[k],
                          exit_x[k], exit_y[k], entry_observed[k], kind[k], is_open[k], duration[k], depth[k],
                          depth_at[k], alt_min[k], alt_max[k], max_gap[k], entry_gap[k], exit_gap[k], lead[k], final[k]), stats


def _empty(area_id: str) -> CrossingEvents:
    e = np.empty(0)
    i = np.empty(0, dtype=np.int64)
    b = np.empty(0, dtype=bool)
    return CrossingEvents(area_id, i, i, e, e, e, e, e, e, b, np.empty(0, np.int8), b, e, e, i, e, e, e, e, e, e, b)


def _in_band(alt: np.ndarray, floor: float, ceiling: float) -> np.ndarray:
    """Within [floor, ceiling]; an unknown altitude counts as inside only for a surface-to-unlimited band."""
    if floor <= 0 and not np.isfinite(ceiling):
        return np.ones(len(alt), dtype=bool)
    with np.errstate(invalid="ignore"):
        return (alt >= floor) & (alt <= ceiling)


def _merge_runs(run_start, run_end, t, tr: TrackArrays, th: CrossingThresholds, ask: _Asked):
    """Hysteresis: drop stays that never reach half of ``min_depth`` (jitter along the line), then join the
    stays of a flight whose return between them is brief or shallow (never ``min_depth`` out across the edge,
    nor, over the area, ``min_vertical_depth`` beyond its floor or ceiling)."""
    if len(run_start) and th.min_depth > 0:
        idx, offsets = range_rows(run_start, run_end - run_start + 1)
        deep = np.isinf(ask.depth(idx, cap=JITTER * th.min_depth))
        reaches = np.logical_or.reduceat(deep, offsets)
        run_start, run_end = run_start[reaches], run_end[reaches]
    if len(run_start) < 2:
        return run_start, run_end
    same = tr.flight_of(run_start[1:]) == tr.flight_of(run_end[:-1])
    gap_start, gap_end = run_end[:-1] + 1, run_start[1:] - 1  # outside states between runs
    brief = (t[run_start[1:]] - t[run_end[:-1]]) < th.min_duration
    shallow = np.ones(len(gap_start), dtype=bool)
    check = np.flatnonzero(same & ~brief)
    if len(check) and th.min_depth > 0:
        shallow[check] = ~_goes_out(gap_start[check], gap_end[check], tr, th, ask)
    join = same & (brief | shallow)
    keep_start = np.r_[True, ~join]
    keep_end = np.r_[~join, True]
    return run_start[keep_start], run_end[keep_end]


def _goes_out(lo: np.ndarray, hi: np.ndarray, tr: TrackArrays, th: CrossingThresholds, ask: _Asked) -> np.ndarray:
    """Whether any state of each range ``lo..hi`` (non-empty) is out by ``min_depth`` across the edge or, over the
    area, by ``min_vertical_depth`` beyond its floor or ceiling: a return that is not shallow."""
    idx, offsets = range_rows(lo, hi - lo + 1)
    over = ask.inside()[idx]
    deep = np.zeros(len(idx), dtype=bool)
    deep[~over] = np.isinf(ask.depth(idx[~over], cap=th.min_depth))
    if over.any():
        alt = tr.alt[idx[over]]
        area = ask.area
        with np.errstate(invalid="ignore"):
            deep[over] = (alt > area.ceiling + th.min_vertical_depth) | (alt < area.floor - th.min_vertical_depth)
    return np.logical_or.reduceat(deep, offsets)


def _exit_final(ev_start, ev_end, run_start, inside, t, tr: TrackArrays, th: CrossingThresholds, ask: _Asked
                ) -> np.ndarray:
    """Whether each event's exit is final: no later report of its flight could merge a return into it. That is
    when the next stay of the flight was kept apart already or, since the exit, the aircraft has been out by
    ``min_depth`` (the return is not shallow) and the first state a later stay could begin from comes
    ``min_duration`` or more after the last state inside (the return is not brief). A stay of the flight's
    last reports too shallow to count yet (jitter) may still deepen, so a later stay could begin from its
    first state. The flight's last report does not count as out (the next may make its altitude a spike), and
    after a zone's validity has ended no stay can begin. An event still inside at its flight's last report is
    not final."""
    final = np.zeros(len(ev_end), dtype=bool)
    if len(ev_end) == 0:
        return final
    flight = tr.flight_of(ev_end)
    final[:-1] = flight[:-1] == tr.flight_of(ev_start[1:])  # the next stay of the flight stayed apart
    last = tr.starts[flight + 1] - 1
    ask_out = ~final & (ev_end < last) & (th.min_depth > 0)
    if not ask_out.any():
        return final
    e, fl = ev_end[ask_out], last[ask_out]
    tail = run_start[np.maximum(np.searchsorted(run_start, fl, side="right") - 1, 0)]
    could_begin = np.where(inside[fl], tail, fl)  # the first row a later stay could start from
    # the flight's last report does not count as out: the next one may make its altitude a spike (cleaning)
    gap_end = np.where(inside[fl], tail - 1, fl - 1)
    late = t[could_begin] - t[e] >= th.min_duration
    late &= (could_begin > e) & (gap_end > e)
    out = np.zeros(len(e), dtype=bool)
    if late.any():
        out[late] = _goes_out(e[late] + 1, gap_end[late], tr, th, ask)
    # a zone closed: no stay can begin after its validity ends
    out |= (t[could_begin] > ask.area.window_seconds()[1]) & (could_begin > e)
    final[ask_out] = out
    return final


def _max_depth(ev_start, ev_end, inside, ask: _Asked):
    """The deepest inside state of each event and its depth (distance to the line or zone edge)."""
    lengths = ev_end - ev_start + 1
    idx, offsets = range_rows(ev_start, lengths)
    d = np.zeros(len(idx))
    ins = inside[idx]
    d[ins] = ask.depth(idx[ins])
    depth = np.maximum.reduceat(d, offsets)
    # position of the maximum within each event
    is_max = d == np.repeat(depth, lengths)
    first_max = np.minimum.reduceat(np.where(is_max, np.arange(len(idx)), len(idx)), offsets)
    return depth, idx[first_max]


def _band_fraction(a0, a1, floor, ceiling, entering: bool):
    """Where a linear altitude change from a0 to a1 enters (or leaves) the band, as a fraction."""
    f = np.zeros(len(a0)) if entering else np.ones(len(a0))
    if floor <= 0 and not np.isfinite(ceiling):
        return f
    a0, a1 = a0.astype(np.float64), a1.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for edge in (floor, ceiling):
            if not np.isfinite(edge):
                continue
            crosses = ((a0 < edge) != (a1 < edge)) & np.isfinite(a0) & np.isfinite(a1)
            frac = np.clip((edge - a0) / (a1 - a0), 0.0, 1.0)
            f = np.where(crosses, np.maximum(f, frac) if entering else np.minimum(f, frac), f)
    return f


def _window_fraction(t0, t1, lo, hi, entering: bool):
    """Where, along (t0 -> t1), the area's time window let the aircraft in (it opened at ``lo``: t0 < lo <= t1)
    or put it out (it closed after ``hi``: t0 <= hi < t1, a state at ``hi`` itself being inside), as a fraction."""
    f = np.zeros(len(t0)) if entering else np.ones(len(t0))
    edge = lo if entering else hi
    if not np.isfinite(edge):
        return f
    with np.errstate(invalid="ignore", divide="ignore"):
        crosses = (t0 < edge) & (t1 >= edge) if entering else (t0 <= edge) & (t1 > edge)
        frac = (edge - t0) / (t1 - t0)
        return np.where(crosses, np.maximum(f, frac) if entering else np.minimum(f, frac), f)


def _entry_fraction(ev_start, new_flight, inside_h, x, y, t, alt, area: RestrictedArea):
    """Fraction along (previous state -> first inside state) where the aircraft entered, whether the entry
    was observed, and its kind: the last of the three conditions (horizontally inside, within the band,
    within the window) to be met decides: the window gives ``ZONE_OPENED``, the others ``CROSSED``; and
    whether the horizontal boundary was the last one met (the caller tells the line from the region's
    edge there)."""
    observed = ~new_flight[ev_start]
    f = np.zeros(len(ev_start))
    kind = np.full(len(ev_start), FIRST_SEEN_INSIDE, dtype=np.int8)
    s = ev_start[observed]
    p = s - 1
    fh = np.zeros(len(s))
    crossed = ~inside_h[p]
    if crossed.any():
        sc, pc = s[crossed], p[crossed]
        back = area.area_index.first_hit(x[sc], y[sc], x[pc] - x[sc], y[pc] - y[sc], 1.0)
        fh[crossed] = np.where(np.isfinite(back), 1.0 - back, 0.5)
    fv = _band_fraction(alt[p], alt[s], area.floor, area.ceiling, entering=True)
    lo, hi = area.window_seconds()
    ft = _window_fraction(t[p], t[s], lo, hi, entering=True)
    f[observed] = np.clip(np.maximum(np.maximum(fh, fv), ft), 0.0, 1.0)
    opened = (t[p] < lo) & (t[s] >= lo) & (ft >= np.maximum(fh, fv))
    kind[observed] = np.where(opened, ZONE_OPENED, CROSSED)
    horizontal = np.zeros(len(ev_start), dtype=bool)
    horizontal[observed] = crossed & ~opened & (fh >= fv)
    return f, observed, kind, horizontal


def _exit_fraction(ev_end, end_flight, inside_h, x, y, t, alt, area: RestrictedArea):
    """Fraction along (last inside state -> next state) where the aircraft left; open events get 0."""
    is_open = end_flight[ev_end]
    f = np.zeros(len(ev_end))
    e = ev_end[~is_open]
    q = e + 1
    fh = np.ones(len(e))
    crossed = ~inside_h[q]
    if crossed.any():
        ec, qc = e[crossed], q[crossed]
        fwd = area.area_index.first_hit(x[ec], y[ec], x[qc] - x[ec], y[qc] - y[ec], 1.0)
        fh[crossed] = np.where(np.isfinite(fwd), fwd, 0.5)
    fv = _band_fraction(alt[e], alt[q], area.floor, area.ceiling, entering=False)
    ft = _window_fraction(t[e], t[q], *area.window_seconds(), entering=False)
    f[~is_open] = np.clip(np.minimum(np.minimum(fh, fv), ft), 0.0, 1.0)
    return f, is_open


def _reduce_ranges(values, lo, hi):
    """Min and max of ``values[lo:hi+1]`` for each range, ignoring NaN."""
    idx, offsets = range_rows(lo, hi - lo + 1)
    v = values[idx]
    vmin = np.minimum.reduceat(np.where(np.isnan(v), np.inf, v), offsets)
    vmax = np.maximum.reduceat(np.where(np.isnan(v), -np.inf, v), offsets)
    return np.where(np.isfinite(vmin), vmin, np.nan), np.where(np.isfinite(vmax), vmax, np.nan)


def _max_gap(t, lo, hi):
    """Longest interval between consecutive states over ``lo..hi``."""
    lengths = hi - lo
    out = np.zeros(len(lo))
    has = lengths > 0
    if has.any():
        idx, offsets = range_rows(lo[has], lengths[has])
        out[has] = np.maximum.reduceat(t[idx + 1] - t[idx], offsets)
    return out


def _warning_episodes(warn, new_flight) -> np.ndarray:
    """The first state of every unbroken run of warning states (sorted)."""
    return np.flatnonzero(warn & (new_flight | ~np.r_[False, warn[:-1]]))


def _lead(warn, new_flight, t, prev, entry_t, observed):
    lead = np.full(len(prev), np.nan)
    ok = observed & warn[prev]
    if ok.any():
        episodes = _warning_episodes(warn, new_flight)
        first = episodes[np.searchsorted(episodes, prev[ok], side="right") - 1]
        lead[ok] = entry_t[ok] - t[first]
    return lead


def _warning_stats(warn, new_flight, end_flight, prev_of_counted) -> WarningStats:
    episodes = _warning_episodes(warn, new_flight)
    last = np.flatnonzero(warn & (end_flight | ~np.r_[warn[1:], False]))
    followed = np.zeros(len(episodes), dtype=bool)
    warned = prev_of_counted[warn[prev_of_counted]]
    if len(warned):
        followed[np.searchsorted(episodes, warned, side="right") - 1] = True
    return WarningStats(len(episodes), int(followed.sum()), episodes, last, followed)


def _warns(tr: TrackArrays, rows: np.ndarray, area: RestrictedArea, lookahead: float, ask: _Asked) -> np.ndarray:
    """Whether each given (outside) state's straight path enters the area within the look-ahead."""
    t_hit = ask.hits(rows, lookahead)
    hit = np.isfinite(t_hit)
    if not hit.any():
        return hit
    lo, hi = area.window_seconds()
    banded = area.floor > 0 or np.isfinite(area.ceiling)
    if not (np.isfinite(lo) or np.isfinite(hi) or banded):
        return hit
    sel = rows[hit]
    th = t_hit[hit]
    ok = (tr.t[sel] + th >= lo) & (tr.t[sel] + th <= hi)
    if banded:
        a = tr.alt[sel] + np.nan_to_num(tr.vz[sel]) * th
        with np.errstate(invalid="ignore"):
            ok &= (a >= area.floor) & (a <= area.ceiling)
    hit[hit] = ok
    return hit
