"""The intercept's look back at the turn onto the target: each state's track against its flight's track at
every 30 s before it, up to 10 minutes, held to the lookup written out state by state."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.detect.interactions import _turned


def _turned_plainly(state, track, flight, group, step, lookback, degrees):
    at = {(int(f), int(g)): i for i, (f, g) in enumerate(zip(flight, group))}
    out = []
    for s in state:
        turned = False
        for back in np.arange(30.0, lookback + 1e-9, 30.0):
            j = at.get((int(flight[s]), int(group[s]) - int(round(back / step))))
            if j is not None and abs((track[s] - track[j] + 180.0) % 360.0 - 180.0) >= degrees:
                turned = True
        out.append(turned)
    return out


@settings(max_examples=200, deadline=None)
@given(data=st.data(), flights=st.integers(1, 4), instants=st.integers(1, 120), step=st.sampled_from([2.0, 5.0]))
def test_a_turn_is_found_against_the_flights_earlier_instants_with_gaps_or_without(data, flights, instants,
                                                                                 step):
    rows = [(f, g) for f in range(flights) for g in range(instants)
            if data.draw(st.floats(0, 1)) > data.draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))]
    if not rows:
        return
    order = data.draw(st.permutations(range(len(rows))))  # aligned states in any order
    flight = np.array([rows[i][0] for i in order], np.int64) * 7 + 3
    group = np.array([rows[i][1] for i in order], np.int64)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    track = np.cumsum(rng.choice([0.0, 0.0, 5.0, -20.0, 45.0], len(rows))) % 360.0
    state = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=40)), np.int64)
    got = _turned(state, track, flight, group, step, lookback=600.0, degrees=30.0)
    assert got.tolist() == _turned_plainly(state, track, flight, group, step, 600.0, 30.0)
