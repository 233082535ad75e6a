"""Was a crossing deliberate? A score with its reasons, in words.

Intent is judged only on crossings seen to happen (``entry_kind`` ``crossed``):
an aircraft already inside at its first report, or come in across the
region's edge, shows nothing of how it meant to get there. Each sign points
one way or the other, with a weight:

=========================================================================  ======
sign                                                                       weight
=========================================================================  ======
went deep and stayed (10 km or more beyond the line or into the zone,     +1
for 3 min or more)
turned around inside (its track swung 120 degrees or more) and went back   +1
out across the same line or zone edge: an incursion, not a transit
stayed shallow (under 3 km)                                                -1
was brief (under 2 min)                                                    -1
crossed at a shallow angle to the line or zone edge (25 degrees or less)   -1
kept close to the line or zone edge (80 % of the time within 5 km)         -1
held a steady course, within 10 degrees, from 5 min before the entry to    -1
5 min after it (or to the exit): flying a route, not aiming at the area
turned toward an aircraft of another party and closed on it (not traffic   +2
coming the other way, which a route turn lines up with by chance)
manoeuvred hard (hard turn, weave) while inside                            +1
crossed before in the same data (same aircraft, same line or zone)         +1
=========================================================================  ======

A total of +2 or more reads ``likely deliberate``, -1 or less ``likely
inadvertent``, anything between ``unclear``. The reasons name what was seen
and the agreement's own line (its ``line_name``, "the line" when it has none)
or zone, by name.

Why these: a deliberate intrusion is aimed at something (it goes deep and
stays, turns toward the other party's aircraft, manoeuvres, comes back); a
navigation error is shallow, brief, at a grazing angle, along the line.
Depth and duration alone are no intent: an airliner on an airway that
happens to pass under a line goes deep and stays, aimed at nothing, so they
count once, together, and a transit on a steady course reads ``unclear`` at
most (checked on the real Swiss en-route day under an arbitrary line).

The signals are pure array functions (:func:`entry_angles`,
:func:`course_changes`, :func:`swings`, :func:`turned_toward`);
``analysis.behaviour`` gathers them per crossing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


LIKELY_DELIBERATE, LIKELY_INADVERTENT, UNCLEAR = "likely deliberate", "likely inadvertent", "unclear"
DEEP_KM, SHALLOW_KM, LONG_S, BRIEF_S = 10.0, 3.0, 180.0, 120.0
TURNED_BACK_DEG = 120.0
GRAZING_DEG, NEAR_M, NEAR_FRACTION = 25.0, 5000.0, 0.8
STEADY_DEG, STEADY_WINDOW_S, STEADY_SEEN_S = 10.0, 300.0, 120.0
TOWARD_RANGE_M, TOWARD_TURN_DEG, TOWARD_HOLD_DEG, TOWARD_HOLD_S, TOWARD_CLOSING_M = 100e3, 30.0, 15.0, 45.0, 2000.0
RECIPROCAL_DEG, TOWARD_OWN_DEG = 30.0, 20.0


@dataclass(frozen=True)
class CrossingSigns:
    """What was seen of one crossing."""

    depth_km: float
    duration_s: float
    entry_angle: float  # degrees between the track and the boundary's general direction at entry (90 = square)
    near_fraction: float  # of the states inside, the fraction within 5 km of the boundary
    course_change: float  # degrees the track swung from 5 min before the entry to 5 min after (NaN: not seen)
    swing_inside: float  # degrees the track swung while inside
    left_across_boundary: bool  # it went back out across the boundary it crossed (not open, not a floor)
    turned_toward: str | None  # the other party's aircraft it turned toward (callsign or id)
    manoeuvres: tuple[str, ...]
    earlier_crossings: int
    still_inside: bool = False  # the data ends (or the flight is lost) with the aircraft inside


@dataclass(frozen=True)
class Boundary:
    """How reasons name what was crossed: ``beyond`` ("beyond the line", "into zone X") and ``edge``
    ("the line", "the edge of zone X")."""

    beyond: str
    edge: str

    @classmethod
    def of(cls, kind: str, zone_name: str, line_name: str | None) -> "Boundary":
        if kind == "side":
            line = line_name or "the line"
            return cls(f"beyond {line}", line)
        return cls(f"into {zone_name}", f"the edge of {zone_name}")


def assess(s: CrossingSigns, where: Boundary = Boundary("beyond the line", "the line")) -> tuple[str, int, str]:
    """The class, the score and the reasons."""
    score, why = 0, []

    def sign(weight: int, text: str) -> None:
        nonlocal score
        score += weight
        why.append(text)

    if s.depth_km >= DEEP_KM and s.duration_s >= LONG_S:
        sign(+1, f"went {s.depth_km:.0f} km {where.beyond} and stayed {s.duration_s / 60:.0f} min")
    if s.swing_inside >= TURNED_BACK_DEG and s.left_across_boundary:
        sign(+1, f"turned around inside and went back out across {where.edge}")
    if s.depth_km < SHALLOW_KM:
        sign(-1, f"stayed within {s.depth_km:.1f} km {where.beyond}")
    if s.duration_s < BRIEF_S and not s.still_inside:  # a stay cut short by the data's end says nothing
        sign(-1, f"was back out within {s.duration_s:.0f} s")
    if np.isfinite(s.entry_angle) and s.entry_angle <= GRAZING_DEG:
        sign(-1, f"crossed at a shallow angle ({s.entry_angle:.0f} deg), along {where.edge}")
    if s.near_fraction >= NEAR_FRACTION:
        sign(-1, f"kept close to {where.edge}: a navigation error is plausible")
    if np.isfinite(s.course_change) and s.course_change <= STEADY_DEG:
        sign(-1, f"held a steady course (within {max(s.course_change, 1):.0f} deg) across {where.edge}, "
                 "as on a route")
    if s.turned_toward:
        sign(+2, f"turned toward {s.turned_toward} and closed on it")
    if s.manoeuvres:
        sign(+1, f"manoeuvred hard ({', '.join(sorted(set(s.manoeuvres)))})")
    if s.earlier_crossings:
        # counted by the aircraft's address over all the data: the same airframe on an earlier flight too
        sign(+1, f"the same aircraft (by its address) had crossed {where.edge} {s.earlier_crossings} time(s) "
                 "before, on this flight or an earlier one")
    label = LIKELY_DELIBERATE if score >= 2 else LIKELY_INADVERTENT if score <= -1 else UNCLEAR
    return label, score, "; ".join(why)


def entry_angles(boundary, x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray,
                 span: float = 8000.0) -> np.ndarray:
    """Degrees between each velocity and the boundary's general direction (over ``span`` m either side of
    the nearest point, not the meander under the aircraft) at each point; NaN without a velocity."""
    parts = [p for p in shapely.get_parts(shapely.line_merge(boundary) if boundary.geom_type == "MultiLineString"
                                          else boundary)]
    parts = [shapely.LineString(p.coords) for p in parts]  # rings as lines, so that project/interpolate work
    out = np.full(len(x), np.nan)
    for k in range(len(x)):
        v = np.array([vx[k], vy[k]], dtype=float)
        if not np.all(np.isfinite(v)) or np.hypot(*v) == 0 or not np.isfinite(x[k]):
            continue
        p = shapely.Point(float(x[k]), float(y[k]))
        line = parts[int(np.argmin([part.distance(p) for part in parts]))] if len(parts) > 1 else parts[0]
        s = line.project(p)
        p0 = np.asarray(line.interpolate(max(s - span, 0.0)).coords[0])
        p1 = np.asarray(line.interpolate(min(s + span, line.length)).coords[0])
        tangent = p1 - p0
        if np.hypot(*tangent) == 0:
            continue
        cos = abs(np.dot(v, tangent)) / (np.hypot(*v) * np.hypot(*tangent))
        out[k] = float(np.degrees(np.arccos(np.clip(cos, 0.0, 1.0))))
    return out


def course_changes(t: np.ndarray, vx: np.ndarray, vy: np.ndarray, starts: np.ndarray, flights: np.ndarray,
                   t_in: np.ndarray, t_out: np.ndarray) -> np.ndarray:
    """How far each crossing flight's track swung (max minus min of the unwrapped track, degrees) from
    ``STEADY_WINDOW_S`` before its entry to that long after it (or its exit, if sooner). NaN when the flight
    was not seen for at least ``STEADY_SEEN_S`` before the entry, or has too few velocities."""
    end = np.where(np.isfinite(t_out), np.minimum(t_out, t_in + STEADY_WINDOW_S), t_in + STEADY_WINDOW_S)
    return swings(t, vx, vy, starts, flights, t_in - STEADY_WINDOW_S, end, seen_before=t_in - STEADY_SEEN_S)


def swings(t: np.ndarray, vx: np.ndarray, vy: np.ndarray, starts: np.ndarray, flights: np.ndarray,
           t0: np.ndarray, t1: np.ndarray, seen_before: np.ndarray | None = None) -> np.ndarray:
    """How far each flight's track swung between ``t0`` and ``t1`` (max minus min of the unwrapped track,
    degrees); NaN with fewer than three velocities, or when the flight's first state in the window comes
    after ``seen_before``."""
    out = np.full(len(flights), np.nan)
    for k, f in enumerate(flights):
        a, b = starts[f], starts[f + 1]
        lo = a + int(np.searchsorted(t[a:b], t0[k]))
        hi = a + int(np.searchsorted(t[a:b], t1[k], side="right"))
        if hi - lo < 3 or (seen_before is not None and t[lo] > seen_before[k]):
            continue
        v_x, v_y = vx[lo:hi].astype(float), vy[lo:hi].astype(float)
        ok = np.isfinite(v_x) & np.isfinite(v_y) & (np.hypot(v_x, v_y) > 0)
        if ok.sum() < 3:
            continue
        unwrapped = np.degrees(np.unwrap(np.arctan2(v_x[ok], v_y[ok])))
        out[k] = float(unwrapped.max() - unwrapped.min())
    return out


def turned_toward(pos: np.ndarray, vel: np.ndarray, heading: np.ndarray, time: np.ndarray, group: np.ndarray,
                  flight_start: np.ndarray, order: np.ndarray, groups_sorted: np.ndarray, hostile: np.ndarray,
                  names: np.ndarray, flight: int, t0: float, t1: float) -> int | None:
    """The aircraft of another party that one flight turned to point at while inside (its ``names`` entry), or
    None.

    Within ``TOWARD_RANGE_M``, its nose brought ``TOWARD_TURN_DEG`` or more closer to it, then held within
    ``TOWARD_HOLD_DEG`` of it for ``TOWARD_HOLD_S`` or more while the range shrank by ``TOWARD_CLOSING_M``;
    an aircraft flying the other way (within ``RECIPROCAL_DEG`` of the reciprocal) does not count: a route's
    turn lines up with the traffic coming down it by chance. The nose must come round by the aircraft's own
    turn (``TOWARD_OWN_DEG`` or more, and at least half of the angle closed): two aircraft on converging
    routes sweep through each other's nose without either turning.
    Snapshot arrays: ECEF ``pos``/``vel``, ``time`` and ``group`` (instant) per state, states of a flight
    contiguous (``flight_start``); ``order`` sorts states by instant (``groups_sorted``); ``hostile(i, j)``
    is given as a boolean array over the candidates of each state (see the caller); ``names`` per state: each
    state's aircraft as a number that sorts as its name does (targets are tried in that order).
    """
    a, b = flight_start[flight], flight_start[flight + 1]
    mine = a + np.flatnonzero((time[a:b] >= t0) & (time[a:b] <= t1))
    if len(mine) < 2:
        return None
    from skyfence.detect.pairs import same_instant_within  # numba: not for the store's readers of the labels

    lo = np.searchsorted(groups_sorted, group[mine])
    hi = np.searchsorted(groups_sorted, group[mine], side="right")
    i, j = same_instant_within(mine, lo, hi, order, hostile, pos, TOWARD_RANGE_M)
    if len(i) == 0:
        return None
    d = np.take(pos, j, axis=0) - np.take(pos, i, axis=0)
    rng = np.linalg.norm(d, axis=1)
    within = np.flatnonzero(rng <= TOWARD_RANGE_M)  # the rest only for these (each row's figures are its own)
    i, j, d, rng = i[within], j[within], d[within], rng[within]
    vel_i, vel_j = np.take(vel, i, axis=0), np.take(vel, j, axis=0)
    speed = np.linalg.norm(vel_i, axis=1)
    cos = np.einsum("ij,ij->i", d, vel_i) / np.maximum(speed * rng, 1e-9)
    off = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    facing = np.einsum("ij,ij->i", vel_i, vel_j) / np.maximum(speed * np.linalg.norm(vel_j, axis=1), 1e-9)
    near = facing > -np.cos(np.radians(RECIPROCAL_DEG))
    i, j, rng, off = i[near], j[near], rng[near], off[near]
    if len(i) == 0:
        return None
    who = names[j]
    by = np.lexsort((time[i], who))
    who, ti, rng, off, own = who[by], time[i][by], rng[by], off[by], heading[i][by]
    bounds = np.flatnonzero(np.r_[True, who[1:] != who[:-1], True])
    for s, e in zip(bounds[:-1], bounds[1:]):
        pointing = off[s:e] <= TOWARD_HOLD_DEG
        if not pointing.any():
            continue
        first = int(np.argmax(pointing))
        widest = s + int(np.argmax(off[s:s + first + 1]))
        closed = off[widest] - off[s:e][pointing].min()
        turned = abs((own[s + first] - own[widest] + 180.0) % 360.0 - 180.0)
        if closed < TOWARD_TURN_DEG or not turned >= max(TOWARD_OWN_DEG, 0.5 * closed):
            continue
        held = np.flatnonzero(pointing)
        if ti[s + held[-1]] - ti[s + held[0]] >= TOWARD_HOLD_S and \
                rng[s + held[0]] - rng[s + held[-1]] >= TOWARD_CLOSING_M:
            return int(who[s])
    return None
