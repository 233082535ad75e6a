"""Interactions between aircraft of different parties: intercepts, mock engagements, shadowing.

Computed over aligned snapshots (``tracks.align``), for the pairs the conflict
engine finds within the largest interaction range at each instant:

- ``intercept`` (A on B): A has turned onto B (its track changed by 30 degrees or
  more over the 10 minutes before), its nose is within ``intercept_off_nose`` of B,
  B's tail is toward A (B's nose at least 60 degrees off A: a head-on pass is not
  an intercept), the range closes at ``intercept_closing`` or faster for
  ``intercept_duration``, and A gets within ``intercept_closest`` horizontally and
  ``intercept_vertical`` vertically. The intercept goes on while A stays on B, B
  ahead of it, within that vertical distance.
- ``mock_engagement``: the two within ``engagement_range``, both pulling
  ``engagement_g`` or more, for ``engagement_duration``.
- ``shadowing`` (A shadows B): within ``shadow_range``, range changing by no more
  than ``shadow_rate``, headings within ``shadow_heading``, B ahead of A, for
  ``shadow_duration``. A close formation is shadowing, not an intercept.

Instants of one pair a short gap apart (20 s; 30 s when shadowing) make one event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.agreement.model import ManoeuvreThresholds
from skyfence.detect.conflicts import CAUTION, ConflictRules, StateVectors, find_conflicts
from skyfence.detect.search_memo import SearchMemo
from skyfence.order import ascending
from skyfence.parallel import serial_below

KINDS = ("intercept", "mock_engagement", "shadowing")


@dataclass(frozen=True)
class InteractionEvents:
    kind: np.ndarray
    actor: np.ndarray  # snapshot state of the interceptor / shadower (either one for an engagement)
    other: np.ndarray
    start: np.ndarray
    end: np.ndarray
    closest: np.ndarray  # metres
    closest_actor: np.ndarray  # snapshot state index at the closest range
    closest_other: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True)
class PairGeometry:
    """For each pair row (a, b): range, range rate, each one's nose angle to the other, heading difference."""

    a: np.ndarray
    b: np.ndarray
    range: np.ndarray
    range_rate: np.ndarray
    off_nose_a: np.ndarray  # degrees between a's track and the bearing to b
    off_nose_b: np.ndarray
    heading_diff: np.ndarray


def pair_geometry(sv: StateVectors, a: np.ndarray, b: np.ndarray) -> PairGeometry:
    """Horizontal geometry of each pair in its local tangent plane (see ``geo.ecef``)."""
    with serial_below(len(a)):
        rng, rate, cos_a, cos_b, cos_h = _geometry(sv.pos, sv.vel, sv.up, np.asarray(a, np.int64),
                                                   np.asarray(b, np.int64))
    return PairGeometry(a, b, rng, rate, _degrees(cos_a), _degrees(cos_b), _degrees(cos_h))


def _degrees(cosine: np.ndarray) -> np.ndarray:
    """The angle of each cosine (NaN where the vectors had no length), in degrees."""
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arccos(cosine))


@nb.njit(cache=True, inline="always")
def _dot(p0, p1, p2, q0, q1, q2):
    return 0.0 + p0 * q0 + p1 * q1 + p2 * q2  # numpy's sum begins at +0.0 (three -0.0 products give +0.0)


@nb.njit(cache=True, inline="always")
def _cosine(p0, p1, p2, q0, q1, q2):
    """The cosine of the angle between p and q, clipped to [-1, 1] (NaN stays NaN)."""
    c = _dot(p0, p1, p2, q0, q1, q2) / (np.sqrt(_dot(p0, p1, p2, p0, p1, p2)) * np.sqrt(_dot(q0, q1, q2, q0, q1, q2)))
    if c < -1.0:
        return -1.0
    if c > 1.0:
        return 1.0
    return c


@nb.njit(cache=True, parallel=True, error_model="numpy")  # 0 / 0 is NaN, as in numpy
def _geometry(pos, vel, up, a, b):
    """Each pair's range, range rate and the cosines of a's nose to b, b's nose to a and their headings, with the
    vectors flattened onto the plane square to the mean of their up vectors: one pass, the same operations in the
    same order as the (n, 3) array arithmetic it replaced, without its temporaries."""
    m = len(a)
    rng, rate = np.empty(m), np.empty(m)
    cos_a, cos_b, cos_h = np.empty(m), np.empty(m), np.empty(m)
    for k in nb.prange(m):
        i, j = a[k], b[k]
        u0, u1, u2 = up[i, 0] + up[j, 0], up[i, 1] + up[j, 1], up[i, 2] + up[j, 2]
        nu = np.sqrt(_dot(u0, u1, u2, u0, u1, u2))
        u0, u1, u2 = u0 / nu, u1 / nu, u2 / nu
        d0, d1, d2 = pos[j, 0] - pos[i, 0], pos[j, 1] - pos[i, 1], pos[j, 2] - pos[i, 2]
        s = _dot(d0, d1, d2, u0, u1, u2)
        d0, d1, d2 = d0 - s * u0, d1 - s * u1, d2 - s * u2
        s = _dot(vel[i, 0], vel[i, 1], vel[i, 2], u0, u1, u2)
        a0, a1, a2 = vel[i, 0] - s * u0, vel[i, 1] - s * u1, vel[i, 2] - s * u2
        s = _dot(vel[j, 0], vel[j, 1], vel[j, 2], u0, u1, u2)
        b0, b1, b2 = vel[j, 0] - s * u0, vel[j, 1] - s * u1, vel[j, 2] - s * u2
        r = np.sqrt(_dot(d0, d1, d2, d0, d1, d2))
        rng[k] = r
        floor = r if (r != r or r >= 1e-9) else 1e-9
        rate[k] = _dot(b0 - a0, b1 - a1, b2 - a2, d0, d1, d2) / floor
        cos_a[k] = _cosine(a0, a1, a2, d0, d1, d2)
        cos_b[k] = _cosine(b0, b1, b2, -d0, -d1, -d2)
        cos_h[k] = _cosine(a0, a1, a2, b0, b1, b2)
    return rng, rate, cos_a, cos_b, cos_h


def detect_interactions(sv: StateVectors, group: np.ndarray, time: np.ndarray, flight: np.ndarray,
                        load_factor: np.ndarray, track: np.ndarray, code: np.ndarray, allowed: np.ndarray,
                        step: float, th: ManoeuvreThresholds, memo: SearchMemo | None = None) -> InteractionEvents:
    """Intercepts, mock engagements and shadowing among snapshot states (one group per instant; ``memo``: the
    instants searched by an earlier run, :mod:`skyfence.detect.search_memo`)."""
    reach = max(th.intercept_range, th.engagement_range, th.shadow_range)
    rules = ConflictRules(reach, np.inf, reach, np.inf, 1e-3, 0.0, 0.0, 0.0)  # pairs within reach, now
    figs = find_conflicts(sv, rules, group=group, code=code, allowed=allowed, min_level=CAUTION, memo=memo)
    near = figs.horizontal < reach
    g = pair_geometry(sv, figs.a[near], figs.b[near])
    dz = np.nan_to_num(np.abs(sv.alt[g.a] - sv.alt[g.b]), nan=0.0)
    parts = []
    for actor, other, nose_actor, nose_other in ((g.a, g.b, g.off_nose_a, g.off_nose_b),
                                                 (g.b, g.a, g.off_nose_b, g.off_nose_a)):
        closing = ((nose_actor <= th.intercept_off_nose) & (nose_other >= 60.0)
                   & (g.range_rate <= -th.intercept_closing) & (g.range <= th.intercept_range))
        ask = np.flatnonzero(closing)  # the turn is looked up only where the rest holds
        closing[ask] = _turned(actor[ask], track, flight, group, step, lookback=600.0, degrees=30.0)
        holding = (nose_actor <= 90.0) & (g.range <= th.intercept_range)
        # how close it got counts only where it came within the vertical distance too
        close = np.where(dz <= th.intercept_vertical, g.range, np.inf)
        parts.append(_intercepts(actor, other, close, closing, holding, time, group, flight, step, th))
        shadow = ((g.range <= th.shadow_range) & (np.abs(g.range_rate) <= th.shadow_rate)
                  & (g.heading_diff <= th.shadow_heading) & (nose_actor <= 90.0) & (nose_actor <= nose_other))
        parts.append(_segments(2, actor, other, g.range, shadow, time, group, flight, step, 30.0,
                               th.shadow_duration))
    both_hard = ((g.range <= th.engagement_range) & (load_factor[g.a] >= th.engagement_g)
                 & (load_factor[g.b] >= th.engagement_g))
    parts.append(_segments(1, g.a, g.b, g.range, both_hard, time, group, flight, step, 20.0, th.engagement_duration))
    ev = InteractionEvents(*(np.concatenate([getattr(p, f) for p in parts]) for f in InteractionEvents.__dataclass_fields__))
    order = np.argsort(ev.start, kind="stable")
    return InteractionEvents(*(getattr(ev, f)[order] for f in InteractionEvents.__dataclass_fields__))


def _turned(state: np.ndarray, track: np.ndarray, flight: np.ndarray, group: np.ndarray, step: float,
            lookback: float, degrees: float) -> np.ndarray:
    """Whether each state's aircraft changed its track by ``degrees`` or more over the ``lookback``
    seconds before (against every earlier instant of its flight in that time, sampled every 30 s)."""
    if len(state) == 0 or len(group) == 0:
        return np.zeros(len(state), dtype=bool)
    width = int(group.max()) + 2
    keys = flight.astype(np.int64) * width + group
    if ascending(keys):  # snapshots come by flight and instant
        order = place = np.arange(len(keys))
        sorted_keys = keys
    else:
        order = np.argsort(keys)
        sorted_keys = keys[order]
        place = np.empty(len(order), np.int64)  # each state's place in that order
        place[order] = np.arange(len(order))
    backs = np.array([int(round(back / step)) for back in np.arange(30.0, lookback + 1e-9, 30.0)], np.int64)
    state = np.asarray(state, np.int64)
    with serial_below(len(state)):
        return _turned_by(place[state], group[state].astype(np.int64), sorted_keys,
                          np.ascontiguousarray(track[order], np.float64), backs, float(degrees))


@nb.njit(cache=True, parallel=True)
def _turned_by(here, g, keys, track, backs, degrees):
    """For each state (its place ``here`` in ``keys``, the (flight, instant) numbers in order), whether the track
    of its flight's instant ``k`` back, for any ``k`` of ``backs``, is ``degrees`` or more off its own. The instant
    k back is k places back where the flight has every instant; elsewhere it is searched among the flight's
    earlier instants (before its first instant there is none)."""
    out = np.zeros(len(here), np.bool_)
    for i in nb.prange(len(here)):
        h = here[i]
        key = keys[h]
        for k in backs:
            if g[i] < k:  # (before the first instant, the number is another flight's)
                continue
            q = key - k
            p = h - k
            if p < 0 or keys[p] != q:
                lo, hi = 0, h  # the first place at or after q, among those before h
                while lo < hi:
                    mid = (lo + hi) // 2
                    if keys[mid] < q:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo >= h or keys[lo] != q:
                    continue
                p = lo
            if abs((track[h] - track[p] + 180.0) % 360.0 - 180.0) >= degrees:
                out[i] = True
                break
    return out


def _segments(kind, actor, other, rng, mask, time, group, flight, step, gap, min_duration) -> InteractionEvents:
    """Rows of one (actor, other) flight pair where ``mask`` holds, merged across gaps of ``gap`` seconds."""
    sel = np.flatnonzero(mask)
    fa, fb, g = flight[actor[sel]], flight[other[sel]], group[actor[sel]]
    if kind == 1:  # unordered
        fa, fb = np.minimum(fa, fb), np.maximum(fa, fb)
    if len(sel) == 0:
        return _empty()
    order = _by_pair_and_instant(fa, fb, g)
    sel, fa, fb, g = sel[order], fa[order], fb[order], g[order]
    new = np.r_[True, (fa[1:] != fa[:-1]) | (fb[1:] != fb[:-1]) | ((g[1:] - g[:-1]) * step > gap)]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(sel) - 1]
    start, end = time[actor[sel[first]]], time[actor[sel[last]]]
    keep = end - start >= min_duration
    r = rng[sel]
    best = _nearest_of_each(r, first)
    rows = sel[best]
    return InteractionEvents(np.full(keep.sum(), kind), actor[rows][keep], other[rows][keep], start[keep], end[keep],
                             r[best][keep], actor[rows][keep], other[rows][keep])


def _by_pair_and_instant(fa: np.ndarray, fb: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The order of the rows by flight pair, then instant (each (pair, instant) once): one sort of a number per
    row where the numbers fit in 63 bits (a sort by three keys took three)."""
    fa, fb, g = fa.astype(np.int64), fb.astype(np.int64), g.astype(np.int64)
    lo_f, lo_g = int(min(fa.min(), fb.min())), int(g.min())
    span_f, span_g = int(max(fa.max(), fb.max())) - lo_f + 1, int(g.max()) - lo_g + 1
    if span_f * span_f * span_g >= 2 ** 62:
        return np.lexsort((g, fb, fa))
    return np.argsort(((fa - lo_f) * span_f + (fb - lo_f)) * span_g + (g - lo_g), kind="stable")


@nb.njit(cache=True)
def _nearest_of_each(r: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The row of the least ``r`` in each run of rows (runs begin at ``first``; the first of equals, NaN last)."""
    out = np.empty(len(first), np.int64)
    for k in range(len(first)):
        end = first[k + 1] if k + 1 < len(first) else len(r)
        best = first[k]
        for i in range(first[k] + 1, end):
            if r[i] < r[best] or (np.isnan(r[best]) and not np.isnan(r[i])):
                best = i
        out[k] = best
    return out


def _intercepts(actor, other, rng, closing, holding, time, group, flight, step, th) -> InteractionEvents:
    """Closing runs long enough, extended while the interceptor stays on its target, that get close."""
    closing_runs = _segments(0, actor, other, rng, closing, time, group, flight, step, 20.0, th.intercept_duration)
    if len(closing_runs) == 0:
        return closing_runs
    holds = _segments(0, actor, other, rng, holding, time, group, flight, step, 20.0, 0.0)
    # each intercept: the holding segment that contains a closing run
    fa_h, fb_h = flight[holds.actor], flight[holds.other]
    by_pair: dict[tuple[int, int], list[int]] = {}  # each flight pair's holding segments (in start order)
    for h in np.lexsort((holds.start, fb_h, fa_h)):
        by_pair.setdefault((int(fa_h[h]), int(fb_h[h])), []).append(h)
    found: dict[int, tuple] = {}  # holding segment -> the intercept in it (from its first closing run)
    for k in range(len(closing_runs)):
        fa, fb = flight[closing_runs.actor[k]], flight[closing_runs.other[k]]
        t0 = closing_runs.start[k]
        mine = np.asarray(by_pair.get((int(fa), int(fb)), []), dtype=np.int64)
        match = mine[(holds.start[mine] <= t0) & (holds.end[mine] >= t0)]
        if len(match) and holds.closest[match[0]] <= th.intercept_closest:
            h = int(match[0])
            if h not in found or t0 < found[h][0]:
                found[h] = (t0, holds.end[h], holds.closest[h], holds.closest_actor[h], holds.closest_other[h])
    if not found:
        return _empty()
    arr = np.array(sorted(found.values()))
    ia, ib = arr[:, 3].astype(np.int64), arr[:, 4].astype(np.int64)
    return InteractionEvents(np.zeros(len(arr), np.int64), ia, ib, arr[:, 0], arr[:, 1], arr[:, 2], ia, ib)


def _empty() -> InteractionEvents:
    e, i = np.empty(0), np.empty(0, np.int64)
    return InteractionEvents(i, i, i, e, e, e, i, i)
