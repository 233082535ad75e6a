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
from skyfence.detect.manoeuvres import BRAKE_GAP, _weave_rows
from skyfence.sim.flight import BANK, DIVE, H, LEG, ORBIT, PSI, RACETRACK, T, TURN, V, VZ, X, Y
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
    """One unmistakable crossing: a single stay deep and long enough with room to spare, entered and left
    at a clear angle (at least 200 m beyond the line 5 s after entering and 5 s before leaving); any other
    stay so shallow (under a quarter of ``min_depth``) that it is plainly jitter."""
    found = stays(s, area)
    main = [f for f in found if f[2] >= 0.25 * th.min_depth]
    if len(main) != 1:
        return False
    a, b, depth = main[0]
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


def _true_runs(mask: np.ndarray, t: np.ndarray, min_duration: float, merge_gap: float = 0.0,
               pulse: float = 0.0) -> list[tuple[float, float, int, int]]:
    """(start, end, first, last) of the runs of a per-second mask that last ``pulse`` or more, those less
    than ``merge_gap`` apart joined, lasting ``min_duration`` or more."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.r_[0, edges, len(mask)]
    runs = [[a, b - 1] for a, b in zip(bounds[:-1], bounds[1:]) if mask[a] and t[b - 1] - t[a] >= pulse]
    if not runs:
        return []
    joined = [runs[0]]
    for a, b in runs[1:]:
        if t[a] - t[joined[-1][1]] <= merge_gap:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    return [(float(t[a]), float(t[b]), int(a), int(b)) for a, b in joined if t[b] - t[a] >= min_duration]


def manoeuvres(s: Sortie, by_id: dict[int, Sortie], th) -> list[dict]:
    """What the aircraft physically did, by the agreement's manoeuvre thresholds ``th``: hard turns and
    weaves (load factor and turn direction), speed brakes (deceleration), rapid climbs and dives
    (vertical rate), from the true track every second; loiters (orbits and racetracks) from its legs."""
    if s.traj is None or len(s.traj) < 3:
        return []
    tr = s.traj
    out = []

    def add(event, t0, t1, other=None, detail=""):
        out.append({"event_type": event, "track_id": s.icao24, "other_track_id": other, "start_time": t0,
                    "end_time": t1, "party": s.party, "detail": detail})

    load = 1.0 / np.cos(tr[:, BANK])  # of the turn
    # weaving: alternating hard turns, by the same rule as the detector, on the true track
    side = np.sign(np.gradient(np.unwrap(tr[:, PSI]), tr[:, T]))
    weaving = _weave_rows(tr[:, T], np.array([0, len(tr)]), load >= th.weave_g, side, th.weave_reversals,
                          th.weave_window)
    for t0, t1, a, b in _true_runs(weaving, tr[:, T], th.weave_window / 4, th.weave_window / 2):
        add("weave", t0, t1)
    for t0, t1, a, b in _true_runs((load >= th.hard_turn_g) & ~weaving, tr[:, T], th.hard_turn_duration):
        add("hard_turn", t0, t1, detail=f"load_factor={load[a:b + 1].max():.1f}")
    path = np.hypot(tr[:, V], tr[:, VZ])
    sin_climb = tr[:, VZ] / path
    accel = np.where(np.abs(sin_climb) <= np.sin(np.radians(15.0)),  # excess of thrust over drag, near level
                     np.gradient(path, tr[:, T]) + 9.80665 * sin_climb, np.nan)
    for t0, t1, a, b in _true_runs(accel <= -th.brake_decel, tr[:, T], th.brake_duration, BRAKE_GAP,
                                   pulse=th.brake_duration):
        add("speed_brake", t0, t1, detail=f"decel={-accel[a:b + 1].min():.1f}")
    for sign, event in ((1, "climb"), (-1, "dive")):
        for t0, t1, a, b in _true_runs(sign * tr[:, VZ] >= th.rapid_vertical_rate, tr[:, T], th.rapid_duration):
            add(event, t0, t1, detail=f"vertical_rate={abs(tr[a:b + 1, VZ]).max():.0f}")
    loiter_start = None
    windows = leg_windows(s)
    for n, (leg, kind, t0, t1) in enumerate(windows):
        # a loiter: orbit and racetrack legs, with the turns and dives flown inside them
        if kind in (ORBIT, RACETRACK) or (kind in (TURN, DIVE) and loiter_start is not None):
            loiter_start = t0 if loiter_start is None else loiter_start
            last = n + 1 == len(windows) or windows[n + 1][1] not in (ORBIT, RACETRACK, TURN, DIVE)
            if last:
                if t1 - loiter_start >= th.loiter_window:
                    add("orbit", loiter_start, t1)
                loiter_start = None
    return out


def interactions(sorties: list[Sortie], agreement: Agreement, step: float = 2.0) -> list[dict]:
    """Intercepts, mock engagements and shadowing between parties, by the agreement's definitions
    (``detect.interactions``) applied to the true tracks: exact positions, velocities and load factors
    every ``step`` seconds, with no noise and no losses."""
    from skyfence.detect.conflicts import StateVectors, allowed_pairs
    from skyfence.detect.interactions import KINDS, detect_interactions

    flying = [s for s in sorties if s.traj is not None and len(s.traj) > 1]
    parties = sorted({s.party for s in flying if s.party})
    cols = {k: [] for k in ("t", "x", "y", "h", "v", "psi", "vz", "load", "flight", "code")}
    for i, s in enumerate(flying):
        t = np.arange(np.ceil(s.traj[0, T] / step) * step, s.traj[-1, T] + 1e-9, step)
        for key, c in (("x", X), ("y", Y), ("h", H), ("v", V), ("vz", VZ)):
            cols[key].append(np.interp(t, s.traj[:, T], s.traj[:, c]))
        cols["psi"].append(np.interp(t, s.traj[:, T], np.unwrap(s.traj[:, PSI])))
        cols["load"].append(np.interp(t, s.traj[:, T], 1.0 / np.cos(s.traj[:, BANK])))
        cols["t"].append(t)
        cols["flight"].append(np.full(len(t), i))
        cols["code"].append(np.full(len(t), parties.index(s.party) if s.party else len(parties)))
    if not flying:
        return []
    a = {k: np.concatenate(v) for k, v in cols.items()}
    proj = agreement.projection
    lon, lat = proj.inverse(a["x"], a["y"])
    track = (np.degrees(a["psi"]) + proj.convergence(lon, lat)) % 360.0
    sv = StateVectors.from_arrays(lon, lat, a["h"], a["v"], track, a["vz"])
    group = np.round(a["t"] / step).astype(np.int64)
    ev = detect_interactions(sv, group, a["t"], a["flight"], a["load"], track, a["code"],
                             allowed_pairs(len(parties), "parties"), step, agreement.thresholds.manoeuvres)
    out = []
    for k in range(len(ev)):
        actor, other = flying[a["flight"][ev.actor[k]]], flying[a["flight"][ev.other[k]]]
        out.append({"event_type": KINDS[ev.kind[k]], "track_id": actor.icao24, "other_track_id": other.icao24,
                    "start_time": float(ev.start[k]), "end_time": float(ev.end[k]), "party": actor.party,
                    "other_party": other.party, "detail": f"closest_m={ev.closest[k]:.0f}"})
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
