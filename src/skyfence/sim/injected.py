"""The injected events: crossings of the line, intercepts, mock engagements and near collisions.

An *inadvertent* crossing is a shallow, brief excursion: an aircraft working
near the river drifts across at a shallow angle and turns back. A *deliberate*
one goes deep, turns toward the nearest coalition aircraft, sometimes weaves,
and leaves. Intercepts are flown by a fighter already on patrol: its patrol is
cut at the moment it is sent, it pursues the intruder to a station behind it
(a few hundred metres, or a hundred for a near collision), may weave with it,
and breaks off before the intruder leaves.
"""

from __future__ import annotations

import numpy as np
import shapely

from skyfence.errors import SkyfenceError
from skyfence.sim.flight import LEG, RACETRACK, TURN, T, X, Y, Leg
from skyfence.sim.geography import Theatre
from skyfence.sim.missions import Sortie, departure, flight_level, transit


def plan_crossing(sid: int, party: str, ac, callsign: str, icao24: str, base, theatre: Theatre, t: float,
                  rng: np.random.Generator, deliberate: bool, depth: float, toward=None) -> Sortie:
    """A sortie that works near the line and crosses it once.

    ``toward`` (a point) is where a deliberate intruder turns after it is
    deep: the nearest coalition aircraft, found by the caller.
    """
    length = theatre.core_line.length
    half = rng.uniform(25e3, 40e3)  # inadvertent: a drift across at 15-25 degrees to the river
    room = 0.05 if deliberate else 2.5 * half / length + 0.02
    frac = rng.uniform(max(room, 0.12), min(1 - room, 0.88))
    p, tangent, normal = theatre.line_frame(frac)
    h = flight_level(ac, rng)
    if deliberate:
        s = p - normal * 20e3
        back = s
        drift = []
    else:
        # inadvertent: following the river 8 km off it, drifting across by ``depth`` over a few km, and back
        direction = float(rng.choice([-1.0, 1.0]))
        along = np.linspace(-2.5 * half, 2.5 * half, 11)
        bump = np.clip(1.0 - np.abs(along) / half, 0.0, 1.0)
        offset = -8e3 + (depth + 8e3) * bump
        drift = []
        for a, o in zip(direction * along, offset):
            f = frac + a / length
            if not 0.01 < f < 0.99:
                raise SkyfenceError("the excursion does not fit here")
            q, _, nq = theatre.line_frame(f)
            drift.append(q + nq * o)
        s, back = drift[0], drift[-1]
    for q in (s, back):  # both ends of the excursion must lie well inside the party's own ground
        if theatre.forbidden.distance(shapely.Point(q)) < 5000 or not theatre.home.contains(shapely.Point(q)):
            raise SkyfenceError("the excursion does not fit here")
    start, home = departure(base, theatre, s, t, ac)
    legs = transit(theatre, home, s, h, ac.cruise)
    notes = {"intent": "deliberate" if deliberate else "inadvertent", "line_point": p, "normal": normal,
             "planned_depth": depth}
    if deliberate:
        deep = p + normal * depth
        legs.append(Leg.goto(deep[0], deep[1], h, ac.cruise, capture=1500.0))
        target = toward if toward is not None else deep + normal * 30e3
        d = target - deep
        legs.append(Leg.heading(float(np.arctan2(d[0], d[1])), h, ac.cruise, rng.uniform(60, 150)))
        if rng.random() < 0.7:  # baiting: weave as if in a dogfight
            legs.append(Leg.weave(float(np.arctan2(d[0], d[1])), np.radians(70), 24.0, rng.uniform(60, 100),
                                  0.8 * ac.max_g, ac.cruise))
            notes["weave"] = True
        legs.append(Leg.goto(back[0], back[1], h, ac.cruise * 1.1, capture=3000.0))
    else:
        radius = ac.cruise ** 2 / (9.80665 * np.tan(np.radians(ac.bank)))
        legs += [Leg.goto(q[0], q[1], h, ac.cruise, capture=max(1500.0, 0.8 * radius)) for q in drift[1:]]
    legs += transit(theatre, legs[-1][1:3].copy(), home, flight_level(ac, rng), ac.cruise)
    legs.append(Leg.goto(home[0], home[1], base.elevation + 1500.0, ac.min_speed * 1.4, capture=5000.0))
    return Sortie(sid, party, ac, "crossing", callsign, icao24, start, legs, home, notes)


def nearest_aircraft(sorties: list[Sortie], party: str, t: float, point: np.ndarray) -> tuple[Sortie, np.ndarray] | None:
    """The party's airborne aircraft nearest to ``point`` at time ``t``."""
    best, best_d = None, np.inf
    for s in sorties:
        if s.party != party or s.traj is None or len(s.traj) == 0 or not (s.traj[0, T] <= t <= s.traj[-1, T]):
            continue
        k = int(np.searchsorted(s.traj[:, T], t))
        pos = s.traj[min(k, len(s.traj) - 1), [X, Y]]
        d = float(np.hypot(*(pos - point)))
        if d < best_d:
            best, best_d = (s, pos), d
    return best


def plan_intercept(interceptor: Sortie, t_divert: float, t_break: float, near_collision: bool, weave: bool,
                   rng: np.random.Generator, cutoff: np.ndarray | None = None) -> list[np.ndarray] | None:
    """The interceptor's legs with its patrol cut at ``t_divert``, a dash to the ``cutoff`` point (on its
    own side, where the intruder will be), and a pursuit until ``t_break``.

    None when the interceptor is not flying a racetrack at that moment.
    """
    traj = interceptor.traj
    legs = interceptor.leg_array()
    k = int(np.searchsorted(traj[:, T], t_divert))
    if k >= len(traj):
        return None
    leg = int(traj[k, LEG])
    if int(legs[leg, 0]) == TURN and leg + 1 < len(legs) and int(legs[leg + 1, 0]) == RACETRACK:
        # a hard turn in progress: send it when the turn is done
        later = np.flatnonzero(traj[:, LEG] == leg + 1)
        if len(later) == 0:
            return None
        k, leg = int(later[0]) + 1, leg + 1
        t_divert = float(traj[min(k, len(traj) - 1), T])
    if int(legs[leg, 0]) != RACETRACK or t_break - t_divert < 60:
        return None
    leg_start = traj[np.argmax(traj[:, LEG] == leg), T]
    used = t_divert - leg_start
    remaining = legs[leg, 7] - used
    if used < 30 or remaining < 60:
        return None
    cut = legs[leg].copy()
    cut[7] = used
    ac = interceptor.ac
    offset = 60.0 if near_collision else rng.uniform(800.0, 1500.0)
    new = list(legs[:leg]) + [cut]
    if cutoff is not None:
        new.append(Leg.goto(cutoff[0], cutoff[1], interceptor.notes["altitude"], ac.max_speed * 0.9,
                            n=0.85 * ac.max_g, capture=8000.0))
    new.append(Leg.pursue(offset, max(t_break - t_divert, 30.0), 0.85 * ac.max_g, ac.max_speed * 0.9))
    a, b = interceptor.notes["racetrack"]
    if weave:  # weaving with the intruder, heading back toward its own patrol (away from the line)
        here = cutoff if cutoff is not None else traj[k, 1:3]
        home = float(np.arctan2(a[0] - here[0], a[1] - here[1]))
        new.append(Leg.weave(home, np.radians(60), 20.0, rng.uniform(50, 80), 0.85 * ac.max_g, ac.cruise))
    h = interceptor.notes["altitude"]
    back = cut.copy()
    back[7] = remaining
    # break off hard, back toward the patrol (a routine turn at pursuit speed would swing far over the line)
    new += [Leg.goto(a[0], a[1], h, ac.cruise, n=0.85 * ac.max_g, capture=3000.0), back] + list(legs[leg + 1:])
    return new
