"""Routine sorties as legs: patrols, strikes, close air support, tankers, ISR, AWACS, airliners.

Every military sortie takes off from one of its party's bases, flies a route
that keeps clear of the areas closed to its party, works on its own side of the
line, and flies home. Work areas keep a distance from the line that suits the
mission, so only the injected events bring rival aircraft close.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skyfence.sim.aircraft import AircraftType
from skyfence.sim.flight import Leg, Start
from skyfence.sim.geography import Airfield, Theatre
from skyfence.units import FOOT

# how far from the line each mission works, metres
WORK_BAND = {"cap": (25e3, 70e3), "strike": (15e3, 80e3), "cas": (14e3, 30e3), "tanker": (70e3, 160e3),
             "isr": (20e3, 60e3), "awacs": (80e3, 170e3)}


@dataclass
class Sortie:
    """One flight: who, what, and the legs it flies (then its trajectory, once flown)."""

    id: int
    party: str | None
    ac: AircraftType
    mission: str
    callsign: str
    icao24: str
    start: Start
    legs: list[np.ndarray]
    base: np.ndarray | None = None
    notes: dict = field(default_factory=dict)
    traj: np.ndarray | None = None

    def leg_array(self) -> np.ndarray:
        return np.vstack(self.legs)


def flight_level(ac: AircraftType, rng: np.random.Generator, spread: int = 2) -> float:
    """A flight level near the type's usual altitude, in metres."""
    fl = int(round(ac.altitude / FOOT / 1000)) + int(rng.integers(-spread, spread + 1))
    return max(fl, 5) * 1000 * FOOT


def departure(base: Airfield, theatre: Theatre, toward: np.ndarray, t: float, ac: AircraftType) -> tuple[Start, np.ndarray]:
    """Airborne over the base, climbing out toward the first point."""
    p = theatre.xy(base.lon, base.lat)
    d = toward - p
    return Start(t, p[0], p[1], base.elevation + 600.0, ac.min_speed * 1.3, float(np.arctan2(d[0], d[1]))), p


def transit(theatre: Theatre, a: np.ndarray, b: np.ndarray, h: float, v: float,
            ac: AircraftType | None = None) -> list[np.ndarray]:
    """Legs along a route that keeps clear of the closed areas by more than the type's turn can swing."""
    margin = 6000.0
    if ac is not None:
        radius = v * v / (9.80665 * np.tan(np.radians(ac.bank)))
        margin = max(margin, 1.5 * radius)
    return [Leg.goto(p[0], p[1], h, v, capture=3000.0) for p in theatre.route(a, b, margin)]


def racetrack_ends(theatre: Theatre, centre: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """The two ends of a racetrack through ``centre``, parallel to the nearby line."""
    frac = theatre.core_line.project(_pt(centre)) / theatre.core_line.length
    _, tangent, _ = theatre.line_frame(min(max(frac, 0.01), 0.99))
    return centre - tangent * half, centre + tangent * half


def _pt(p):
    import shapely

    return shapely.Point(p)


def plan_military(sid: int, party: str, mission: str, ac: AircraftType, callsign: str, icao24: str, base: Airfield,
                  theatre: Theatre, t: float, rng: np.random.Generator, hard_turns: float,
                  attack_dives: float) -> Sortie:
    """A routine sortie of one of the six missions."""
    near, far = WORK_BAND[mission]
    work = theatre.work_point(rng, near, far)
    h = flight_level(ac, rng)
    start, home = departure(base, theatre, work, t, ac)
    legs = transit(theatre, home, work, h, ac.cruise, ac)
    notes = {"work": work, "altitude": h}
    if mission in ("cap", "tanker", "awacs"):
        half = {"cap": 20e3, "tanker": 25e3, "awacs": 30e3}[mission]
        a, b = racetrack_ends(theatre, work, half)
        if theatre.forbidden.distance(_pt(a)) < near * 0.6 or theatre.forbidden.distance(_pt(b)) < near * 0.6:
            a, b = racetrack_ends(theatre, work, half / 3)
        total = {"cap": rng.uniform(3600, 7200), "tanker": rng.uniform(10800, 14400),
                 "awacs": rng.uniform(18000, 23400)}[mission]
        speed = ac.cruise * (0.85 if mission == "cap" else 0.95)
        turns = rng.poisson(hard_turns) if (mission == "cap" and ac.fast_mover) else 0
        pieces = np.diff(np.sort(np.r_[0.0, rng.uniform(0.1, 0.9, turns), 1.0])) * total
        for k, piece in enumerate(pieces):
            legs.append(Leg.racetrack(a[0], a[1], b[0], b[1], h, speed, piece))
            if k < turns:
                legs.append(Leg.turn(rng.choice([-1, 1]) * rng.uniform(np.pi * 0.9, np.pi * 1.6), 0.85 * ac.max_g))
        notes["racetrack"] = (a, b)
    elif mission == "strike":
        legs.append(Leg.turn(rng.choice([-1, 1]) * rng.uniform(np.pi * 0.8, np.pi * 1.1), 0.75 * ac.max_g))
    elif mission in ("cas", "isr"):
        radius = 7000.0 if mission == "cas" else 9000.0
        total = rng.uniform(1800, 3600) if mission == "cas" else rng.uniform(14400, 21600)
        h_work = h if mission == "isr" else min(h, ac.altitude)
        dives = rng.poisson(attack_dives) if mission == "cas" else 0
        pieces = np.diff(np.sort(np.r_[0.0, rng.uniform(0.1, 0.9, dives), 1.0])) * total
        direction = float(rng.choice([-1.0, 1.0]))
        for k, piece in enumerate(pieces):
            legs.append(Leg.orbit(work[0], work[1], h_work, ac.cruise * 0.8, radius, piece, direction))
            if k < dives:
                # an attack run: dive at the target in the middle of the orbit, then climb back
                legs.append(Leg.dive(h_work - rng.uniform(1200, 2200), -0.8 * ac.descent, 60.0, work[0], work[1]))
                legs.append(Leg.dive(h_work, 0.6 * ac.climb, 90.0, work[0], work[1]))
    legs += transit(theatre, work, home, flight_level(ac, rng), ac.cruise, ac)
    legs.append(Leg.goto(home[0], home[1], base.elevation + 1500.0, ac.min_speed * 1.4, capture=5000.0))
    return Sortie(sid, party, ac, mission, callsign, icao24, start, legs, home, notes)


def plan_civil(sid: int, ac: AircraftType, callsign: str, icao24: str, theatre: Theatre, t: float,
               rng: np.random.Generator, levels: tuple[float, float]) -> Sortie:
    """An airliner crossing the area straight, at a cruise level."""
    centre = np.array(theatre.agreement.projection.forward(*theatre.agreement.region.centroid.coords[0])).ravel()
    bearing = rng.uniform(0, 2 * np.pi)
    offset = rng.uniform(-150e3, 150e3)
    d = np.array([np.sin(bearing), np.cos(bearing)])
    side = np.array([d[1], -d[0]])
    a = centre - d * 450e3 + side * offset
    b = centre + d * 450e3 + side * offset
    fl = rng.integers(int(levels[0] / FOOT / 1000), int(levels[1] / FOOT / 1000) + 1) * 1000 * FOOT
    start = Start(t, a[0], a[1], fl, ac.cruise, float(np.arctan2(d[0], d[1])))
    return Sortie(sid, None, ac, "transit", callsign, icao24, start, [Leg.goto(b[0], b[1], fl, ac.cruise)])
