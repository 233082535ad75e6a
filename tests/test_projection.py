"""The local projection against geodesic truth (pyproj.Geod) over the agreement's region."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod, Proj

from skyfence.geo.projection import LocalProjection

GEOD = Geod(ellps="WGS84")
lons = st.floats(38.5, 42.4)
lats = st.floats(34.0, 37.3)


@given(lon1=lons, lat1=lats, lon2=lons, lat2=lats)
def test_planar_distance_matches_geodesic_within_half_a_percent(lon1, lat1, lon2, lat2):
    p = LocalProjection(39.9952, 35.5907)  # the Euphrates agreement's projection
    x, y = p.forward([lon1, lon2], [lat1, lat2])
    planar = np.hypot(x[1] - x[0], y[1] - y[0])
    _, _, geodesic = GEOD.inv(lon1, lat1, lon2, lat2)
    if geodesic > 1000:
        assert abs(planar - geodesic) / geodesic < 0.005


def test_distances_across_the_whole_region_are_within_0_2_percent(euphrates):
    rng = np.random.default_rng(7)
    lon1, lon2 = rng.uniform(38.5, 42.4, (2, 20000))
    lat1, lat2 = rng.uniform(34.0, 37.3, (2, 20000))
    x1, y1 = euphrates.projection.forward(lon1, lat1)
    x2, y2 = euphrates.projection.forward(lon2, lat2)
    _, _, geodesic = GEOD.inv(lon1, lat1, lon2, lat2)
    ok = geodesic > 1000
    err = np.abs(np.hypot(x2 - x1, y2 - y1)[ok] - geodesic[ok]) / geodesic[ok]
    assert err.max() < 0.002


def test_round_trip():
    p = LocalProjection(40.0, 35.5)
    lon, lat = np.array([38.6, 41.9]), np.array([34.1, 37.2])
    back = p.inverse(*p.forward(lon, lat))
    assert np.allclose(back, (lon, lat), atol=1e-9)


@given(lons, lats, st.floats(0, 359.9))
def test_grid_velocity_points_along_the_geodesic(lon, lat, track):
    """A 1 km step along a true track lands where the grid velocity says."""
    p = LocalProjection(40.0, 35.5)
    vx, vy = p.velocity(lon, lat, 1000.0, track)
    lon2, lat2, _ = GEOD.fwd(lon, lat, track, 1000.0)
    x1, y1 = p.forward(lon, lat)
    x2, y2 = p.forward(lon2, lat2)
    assert np.hypot(x2 - x1 - vx, y2 - y1 - vy) < 1.5  # metres, of 1000


def test_convergence_matches_proj():
    p = LocalProjection(40.0, 35.5)
    proj = Proj(p.proj4)
    lon, lat = np.array([38.5, 42.4, 40.0, 41.0]), np.array([34.0, 37.3, 36.0, 35.0])
    ours = p.convergence(lon, lat)
    theirs = np.array(proj.get_factors(lon, lat).meridian_convergence)
    assert np.allclose(ours, theirs, atol=0.01)
