"""Synthetic loads for benchmarks: N aircraft airborne at once for the whole period.

Aircraft fly random chains of waypoints in a square sized for one aircraft per
1,000 km2 (busy European airspace), centred on the agreement's region, with
the scenario's parties' identities and the same flight model and sensor.
"""

from __future__ import annotations

import numpy as np

from skyfence.agreement.model import Agreement
from skyfence.sim.aircraft import aircraft_type
from skyfence.sim.flight import Leg, Start, fly
from skyfence.sim.identity import Addresses, Callsigns
from skyfence.sim.missions import Sortie
from skyfence.sim.scenario import Scenario

_MIX = ("F-16", "Su-24", "A320", "B738", "KC-135", "Su-25")


def synthetic_load(scenario: Scenario, agreement: Agreement, n: int, hours: float, seed: int):
    """``n`` flown sorties, all airborne from the scenario's start for ``hours`` (yielded one by one, so
    that a caller can observe and drop each trajectory and keep memory flat)."""
    rng = np.random.default_rng(seed)
    half = np.sqrt(n * 1000.0) * 1000.0 / 2
    cx, cy = (float(v) for v in agreement.projection.forward(*agreement.region.centroid.coords[0]))
    taken: set[int] = set()
    owners = list(scenario.parties) + [None]
    addresses = {p: Addresses(scenario.parties[p].identity, rng, taken) for p in scenario.parties}
    addresses[None] = Addresses(scenario.civil.identity, rng, taken)
    callsigns = Callsigns(rng)
    t0 = scenario.start.timestamp()
    for k in range(n):
        ac = aircraft_type(_MIX[k % len(_MIX)])
        party = owners[int(rng.integers(len(owners)))]
        h = float(rng.integers(100, 400)) * 100 * 0.3048
        x, y = cx + rng.uniform(-half, half), cy + rng.uniform(-half, half)
        legs = []
        for _ in range(int(hours * 3600 * ac.cruise / 150e3) + 2):
            wx, wy = cx + rng.uniform(-half, half), cy + rng.uniform(-half, half)
            legs.append(Leg.goto(wx, wy, h, ac.cruise, capture=5000.0))
        s = Sortie(k, party, ac, "load", callsigns.next("LOAD" if party is None else "SYN"),
                   addresses[party].next(), Start(t0, x, y, h, ac.cruise, rng.uniform(-np.pi, np.pi)), legs)
        s.traj = fly(s.leg_array(), ac, s.start, max_seconds=hours * 3600)
        yield s
