"""Ground truth: every event the simulator injected, measured on the flown (noise-free) trajectories.

Crossings are measured with shapely on the one-second true track (entry and
exit refined by bisection along the segment), independently of the
detector's own geometry code. Losses of separation between parties are
measured pair by pair. Manoeuvres, intercepts and mock engagements come from
the legs each aircraft flew, timed on its trajectory.
"""

from __future__ import annotations

import numpy as np
import shapely

from skyfence.agreement.model import Agreement
from skyfence.detect.conflicts import ConflictRules
from skyfence.detect.crossings import JITTER
from skyfence.sim.flight import DIVE, FLAGS, H, LEG, ORBIT, PURSUE, T, TURN, WEAVE, X, Y
from skyfence.sim.missions import Sortie

TRUTH_COLUMNS = ("event_type", "track_id", "other_track_id", "start_time", "end_time", "intent", "zone",
                 "party", "other_party", "detail")


def stays(s: Sortie, area) -> list[tuple[int, int, float]]:
    """Every raw stay of the aircraft inside an area: (first row, row after the last, greatest depth)."""
    inside = shapely.contains_xy(area.polygon_xy, s.traj[:, X], s.traj[:, Y])
    inside &= (s.traj[:, H] >= area.floor) & (s.traj[:, H] <= area.ceiling)
    if not inside.any():
        return []
    edges = np.flatnonzero(np.diff(inside.astype(np.int8))) + 1
    bounds = np.r_[0, edges, len(inside)]
    return [(int(a), int(b), float(shapely.distance(area.depth_xy, shapely.points(s.traj[a:b, X], s.traj[a:b, Y])).max()))
            for a, b in zip(bounds[:-1], bounds[1:]) if inside[a]]


def clean_crossing(s: Sortie, area, th) -> bool:
    """One unmistakable crossing: a single stay, deep and long enough with room to spare, entered and
    left at a clear angle (at least 200 m beyond the line 5 s after entering and 5 s before leaving)."""
    found = stays(s, area)
    if len(found) != 1:
        return False
    a, b, depth = found[0]
    if a == 0 or b >= len(s.traj) or depth < 1.5 * th.min_depth:
        return False
    if s.traj[b - 1, T] - s.traj[a, T] < 2 * th.min_duration:
        return False
    near = [min(a + 5, b - 1), max(b - 6, a)]
    d = shapely.distance(area.depth_xy, shapely.points(s.traj[near, X], s.traj[near, Y]))
    return bool(np.all(d >= 200.0))


def leg_windows(s: Sortie) -> list[tuple[int, int, float, float]]:
    """(leg index, kind, start, end) of every leg the aircraft flew."""
    if s.traj is None or len(s.traj) < 2:
        return []
    legs = s.leg_array()
    idx = s.traj[:, LEG].astype(int)
    change = np.flatnonzero(np.diff(idx)) + 1
    starts = np.r_[0, change]
    ends = np.r_[change - 1, len(idx) - 1]
    return [(int(idx[a]), int(legs[idx[a], 0]), float(s.traj[a, T]), float(s.traj[b, T])) for a, b in zip(starts, ends)]


def crossings(s: Sortie, agreement: Agreement) -> list[dict]:
    """Every crossing of the aircraft into an area closed to its party, measured on its true track.

    The agreement's own definition: stays that never reach half of
    ``min_depth`` are jitter and do not count; stays separated by a brief (under
    ``min_duration``) or shallow (never ``min_depth`` back out) return are one
    crossing; a crossing counts from ``min_duration``.
    """
    if s.party is None or s.traj is None or len(s.traj) < 2:
        return []
    th = agreement.thresholds.crossing
    out = []
    for area in agreement.areas:
        if s.party not in area.closed_to:
            continue
        raw = stays(s, area)
        if not raw:
            continue
        inside = np.zeros(len(s.traj), dtype=bool)
        for a, b, _ in raw:
            inside[a:b] = True
        runs = [[a, b] for a, b, depth in raw if depth >= JITTER * th.min_depth]
        if not runs:
            continue
        merged = [runs[0]]
        for a, b in runs[1:]:
            gap_a, gap_b = merged[-1][1], a  # the outside states between the two stays
            brief = s.traj[a, T] - s.traj[gap_a - 1, T] < th.min_duration
            back_out = shapely.distance(area.depth_xy, shapely.points(s.traj[gap_a:gap_b, X], s.traj[gap_a:gap_b, Y]))
            if brief or back_out.max() < th.min_depth:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            entry = _boundary_time(s.traj, a - 1, a, area.polygon_xy) if a > 0 else s.traj[0, T]
            exit_ = _boundary_time(s.traj, b - 1, b, area.polygon_xy) if b < len(inside) else None
            stay = inside[a:b]
            depth = float(shapely.distance(area.depth_xy, shapely.points(s.traj[a:b, X][stay], s.traj[a:b, Y][stay])).max())
            duration = (exit_ if exit_ is not None else s.traj[b - 1, T]) - entry
            if depth >= th.min_depth and duration >= th.min_duration:
                out.append({"event_type": "crossing", "track_id": s.icao24, "start_time": entry, "end_time": exit_,
                            "intent": s.notes.get("intent", "unplanned"), "zone": area.id, "party": s.party,
                            "detail": f"depth_km={depth / 1000:.2f}"})
    return out


def _boundary_time(traj, i, j, polygon, iterations: int = 30) -> float:
    """When the straight segment from state i to state j crosses the polygon's boundary."""
    a, b = traj[i], traj[j]
    inside_a = polygon.contains(shapely.Point(a[X], a[Y]))
    lo, hi = 0.0, 1.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        p = shapely.Point(a[X] + mid * (b[X] - a[X]), a[Y] + mid * (b[Y] - a[Y]))
        if polygon.contains(p) == inside_a:
            lo = mid
        else:
            hi = mid
    return float(a[T] + (lo + hi) / 2 * (b[T] - a[T]))


def manoeuvres(s: Sortie, by_id: dict[int, Sortie]) -> list[dict]:
    """Hard turns, speed brakes, weaves, dives, climbs, orbits and intercepts the aircraft flew."""
    out = []
    legs = s.leg_array()
    for leg, kind, t0, t1 in leg_windows(s):
        p = legs[leg]
        event, other, detail = None, None, ""
        if kind == TURN and p[2] >= 3.0:
            event, detail = "hard_turn", f"load_factor={p[2]:.1f};degrees={np.degrees(abs(p[1])):.0f}"
        elif kind == WEAVE:
            event = "weave"
        elif kind == DIVE and t1 - t0 >= 10:
            event = "dive" if p[2] < 0 else "climb"
        elif kind == ORBIT and t1 - t0 >= 300:
            event = "orbit"
        elif kind == PURSUE:
            event = "intercept"
            target = by_id.get(s.notes.get("target"))
            other = target.icao24 if target else None
        if event:
            out.append({"event_type": event, "track_id": s.icao24, "other_track_id": other, "start_time": t0,
                        "end_time": t1, "party": s.party, "detail": detail})
    if s.traj is not None and len(s.traj) > 1:
        flags = s.traj[:, FLAGS] > 0
        edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
        bounds = np.r_[0, edges, len(flags)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if flags[a] and s.traj[b - 1, T] - s.traj[a, T] >= 2.0:
                out.append({"event_type": "speed_brake", "track_id": s.icao24, "start_time": float(s.traj[a, T]),
                            "end_time": float(s.traj[b - 1, T]), "party": s.party})
    return out


def mock_engagements(interceptor: Sortie, target: Sortie) -> list[dict]:
    """Times when the interceptor and its target weave together."""
    mine = [(t0, t1) for _, k, t0, t1 in leg_windows(interceptor) if k == WEAVE]
    theirs = [(t0, t1) for _, k, t0, t1 in leg_windows(target) if k == WEAVE]
    out = []
    for a0, a1 in mine:
        for b0, b1 in theirs:
            lo, hi = max(a0, b0), min(a1, b1)
            if hi - lo >= 20:
                out.append({"event_type": "mock_engagement", "track_id": interceptor.icao24,
                            "other_track_id": target.icao24, "start_time": lo, "end_time": hi,
                            "party": interceptor.party, "other_party": target.party})
    return out


def separations(sorties: list[Sortie], rules: ConflictRules) -> list[dict]:
    """Every loss of separation between aircraft of different parties, on the true tracks (1 s)."""
    flying = [s for s in sorties if s.party is not None and s.traj is not None and len(s.traj) > 1]
    boxes = np.array([[s.traj[:, X].min(), s.traj[:, Y].min(), s.traj[:, X].max(), s.traj[:, Y].max(),
                       s.traj[0, T], s.traj[-1, T]] for s in flying]) if flying else np.empty((0, 6))
    out = []
    for i in range(len(flying)):
        for j in range(i + 1, len(flying)):
            a, b = flying[i], flying[j]
            if a.party == b.party:
                continue
            bi, bj = boxes[i], boxes[j]
            if (bi[4] > bj[5] or bj[4] > bi[5] or bi[0] - rules.sep_h > bj[2] or bj[0] - rules.sep_h > bi[2]
                    or bi[1] - rules.sep_h > bj[3] or bj[1] - rules.sep_h > bi[3]):
                continue
            out += _pair_losses(a, b, rules)
    return out


def _pair_losses(a: Sortie, b: Sortie, rules: ConflictRules) -> list[dict]:
    t0, t1 = max(a.traj[0, T], b.traj[0, T]), min(a.traj[-1, T], b.traj[-1, T])
    if t1 <= t0:
        return []
    t = np.arange(np.ceil(t0), np.floor(t1) + 1)
    pa = [np.interp(t, a.traj[:, T], a.traj[:, c]) for c in (X, Y, H)]
    pb = [np.interp(t, b.traj[:, T], b.traj[:, c]) for c in (X, Y, H)]
    dh = np.hypot(pa[0] - pb[0], pa[1] - pb[1])
    dz = np.abs(pa[2] - pb[2])
    lost = (dh < rules.sep_h) & (dz < rules.sep_v)
    if not lost.any():
        return []
    edges = np.flatnonzero(np.diff(lost.astype(np.int8))) + 1
    bounds = np.r_[0, edges, len(lost)]
    out = []
    for s, e in zip(bounds[:-1], bounds[1:]):
        if not lost[s]:
            continue
        k = s + int(np.argmin(dh[s:e]))
        nmac = bool(((dh[s:e] < rules.nmac_h) & (dz[s:e] < rules.nmac_v)).any())
        out.append({"event_type": "near_collision" if nmac else "close_approach", "track_id": a.icao24,
                    "other_track_id": b.icao24, "start_time": float(t[s]), "end_time": float(t[e - 1]),
                    "party": a.party, "other_party": b.party,
                    "detail": f"min_horizontal_m={dh[k]:.0f};vertical_m={dz[k]:.0f}"})
    return out
