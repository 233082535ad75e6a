"""The simulator's keep-clear test (a routine sortie keeps 2 km from the areas closed to it, a base 4 km) against
shapely's distance, measured plainly."""

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.agreement import load_agreement
from skyfence.sim.geography import Theatre

THEATRE = Theatre(load_agreement("euphrates-2017"), "russia_syria")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([500.0, 2000.0, 4000.0, 20_000.0]), st.integers(1, 40))
def test_a_path_is_clear_when_no_point_is_inside_or_within_the_margin(seed, margin, n):
    """A path's points around one spot of the areas' edge, within 1.5 margins of it."""
    rng = np.random.default_rng(seed)
    edge = shapely.get_exterior_ring(shapely.get_parts(THEATRE.forbidden)[0])
    spot = shapely.get_coordinates(shapely.line_interpolate_point(edge, rng.uniform(0, 1), normalized=True))[0]
    x, y = spot[:, None] + rng.uniform(-1.5 * margin, 1.5 * margin, (2, n))
    pts = shapely.points(x, y)
    plainly = not shapely.contains(THEATRE.forbidden, pts).any() and \
        shapely.distance(THEATRE.forbidden, pts).min() >= margin
    assert THEATRE.clear_of(x, y, margin) == plainly


def test_a_point_exactly_at_the_margin_is_clear():
    """Review: ``clearance >= margin`` held a point exactly the margin away clear; the index's capped search
    returns that distance, and it must not count as too close."""
    theatre = Theatre(THEATRE.agreement, "russia_syria")
    theatre.__dict__["forbidden"] = shapely.box(0.0, 0.0, 10_000.0, 10_000.0)
    assert theatre.clear_of(np.array([5000.0]), np.array([12_000.0]), 2000.0)
    assert not theatre.clear_of(np.array([5000.0]), np.array([11_999.0]), 2000.0)
    assert not theatre.clear_of(np.array([5000.0, 30_000.0]), np.array([5000.0, 0.0]), 2000.0)  # one inside
