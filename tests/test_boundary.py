"""The boundary index against shapely computed point by point (brute force)."""

import numpy as np
import shapely
from hypothesis import given
from hypothesis import strategies as st

from skyfence.geo.boundary import BoundaryIndex


def star_polygon(seed: int, n: int, scale: float = 100e3):
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.2, 1.0, n) * scale
    return shapely.Polygon(np.column_stack([r * np.cos(ang), r * np.sin(ang)]))


def random_points(seed: int, n: int, scale: float = 150e3):
    rng = np.random.default_rng(seed + 1000)
    return rng.uniform(-scale, scale, n), rng.uniform(-scale, scale, n)


def away_from_boundary(geom, x, y, tol=1e-3):
    return shapely.distance(geom.boundary, shapely.points(x, y)) > tol


@given(seed=st.integers(0, 10_000), n=st.integers(3, 200))
def test_contains_matches_shapely(seed, n):
    poly = star_polygon(seed, n)
    if not poly.is_valid:
        return
    idx = BoundaryIndex.from_geometry(poly)
    x, y = random_points(seed, 3000)
    ok = away_from_boundary(poly, x, y)
    assert np.array_equal(idx.contains(x, y)[ok], shapely.contains_xy(poly, x, y)[ok])


@given(seed=st.integers(0, 10_000))
def test_contains_with_holes_and_parts(seed):
    outer = star_polygon(seed, 60)
    hole = shapely.Point(0, 0).buffer(15e3)
    other = shapely.Point(300e3, 0).buffer(40e3)
    geom = shapely.union_all([outer.difference(hole), other]) if outer.is_valid else other
    idx = BoundaryIndex.from_geometry(geom)
    x, y = random_points(seed, 3000, 400e3)
    ok = away_from_boundary(geom, x, y)
    assert np.array_equal(idx.contains(x, y)[ok], shapely.contains_xy(geom, x, y)[ok])


@given(seed=st.integers(0, 10_000), n=st.integers(2, 300), cap=st.sampled_from([np.inf, 5e3, 50e3]))
def test_distance_matches_shapely(seed, n, cap):
    rng = np.random.default_rng(seed)
    line = shapely.LineString(np.cumsum(rng.normal(0, 5e3, (n, 2)), axis=0))
    idx = BoundaryIndex.from_geometry(line)
    x, y = random_points(seed, 2000, 300e3)
    got = idx.distance(x, y, cap=cap)
    want = shapely.distance(line, shapely.points(x, y))
    want = np.where(want <= cap, want, np.inf)
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite)
    assert np.allclose(got[finite], want[finite], rtol=0, atol=1e-6)


def test_distance_far_outside_the_grid():
    line = shapely.LineString([(0, 0), (1000, 0)])
    idx = BoundaryIndex.from_geometry(line)
    d = idx.distance([0.0, 5e6, -3e6], [7e5, 0.0, -4e6])
    assert np.allclose(d, [7e5, 5e6 - 1000, 5e6])


@given(seed=st.integers(0, 10_000), n=st.integers(3, 120))
def test_first_hit_matches_brute_force(seed, n):
    poly = star_polygon(seed, n)
    if not poly.is_valid:
        return
    idx = BoundaryIndex.from_geometry(poly)
    rng = np.random.default_rng(seed)
    x, y = random_points(seed, 400, 200e3)
    vx, vy = rng.normal(0, 250, (2, 400))
    t_max = 300.0
    got = idx.first_hit(x, y, vx, vy, t_max)
    rays = shapely.linestrings(np.stack([np.column_stack([x, y]),
                                         np.column_stack([x + vx * t_max, y + vy * t_max])], axis=1))
    hits = shapely.intersection(rays, poly.boundary)
    for k in range(400):
        if hits[k].is_empty:
            assert np.isinf(got[k])
        else:
            c = shapely.get_coordinates(hits[k])
            d = np.hypot(c[:, 0] - x[k], c[:, 1] - y[k]).min() / np.hypot(vx[k], vy[k])
            if d > 1e-9:
                assert abs(got[k] - d) < 1e-6


def test_zero_velocity_and_nan_never_hit():
    idx = BoundaryIndex.from_geometry(shapely.box(0, 0, 10, 10))
    got = idx.first_hit([5.0, np.nan, -5.0], [5.0, 5.0, 5.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0], 100.0)
    assert np.isinf(got[0]) and np.isinf(got[1]) and got[2] == 5.0


def test_real_euphrates_sides_match_shapely(euphrates):
    rng = np.random.default_rng(3)
    for area in euphrates.areas:
        w, s, e, n = area.polygon_xy.bounds
        x = rng.uniform(w - 50e3, e + 50e3, 200_000)
        y = rng.uniform(s - 50e3, n + 50e3, 200_000)
        ok = away_from_boundary(area.polygon_xy, x, y)
        assert np.array_equal(area.area_index.contains(x, y)[ok], shapely.contains_xy(area.polygon_xy, x, y)[ok])
        d = area.depth_index.distance(x[:5000], y[:5000])
        assert np.allclose(d, shapely.distance(area.depth_xy, shapely.points(x[:5000], y[:5000])), atol=1e-6)
