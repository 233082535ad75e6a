"""Aligning tracks in time: interpolation, no extrapolation, no crossing of data gaps."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyfence import synthetic
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.align import align
from skyfence.tracks.clean import clean

T0 = synthetic.EPOCH_2017


def cleaned(df):
    return clean(df, ReadReport())[0]


def test_instants_stay_inside_each_flight_and_interpolate_linearly():
    t = T0 + np.array([0.5, 3.5, 7.5])
    df = cleaned(synthetic.table(t, "a00001", "A", [40.0, 40.03, 40.07], [35.0, 35.0, 35.0], [1000.0, 1300.0, 1700.0],
                                 200.0, 90.0, 100.0))
    snap = align(df, 1.0, 30.0)
    assert snap.time.tolist() == [T0 + k for k in range(1, 8)]
    # at T0 + 2 we are half-way from 0.5 to 3.5
    k = snap.time.tolist().index(T0 + 2)
    assert snap.lon[k] == pytest.approx(40.015) and snap.alt[k] == pytest.approx(1150.0)


def test_no_state_inside_a_gap_or_beyond_the_data():
    t = T0 + np.array([0.0, 10.0, 100.0, 110.0])
    df = cleaned(synthetic.table(t, "a00001", "A", [40.0, 40.02, 40.2, 40.22], 35.0, 1000.0, 200.0, 90.0, 0.0))
    snap = align(df, 5.0, max_gap=30.0)
    assert (snap.time - T0).tolist() == [0.0, 5.0, 10.0, 100.0, 105.0, 110.0]


def test_track_is_interpolated_the_short_way_round():
    t = T0 + np.array([0.0, 2.0])
    df = cleaned(synthetic.table(t, "a00001", "A", [40.0, 40.0], [35.0, 35.01], 1000.0, 200.0, [350.0, 10.0], 0.0))
    snap = align(df, 1.0, 30.0)
    assert snap.track[1] == pytest.approx(0.0, abs=1e-9) or snap.track[1] == pytest.approx(360.0)


def test_missing_speed_and_track_come_from_positions():
    track = synthetic.straight_track(40.0, 35.0, 45.0, 200.0, 20.0, 10.0, track_id="a00001")
    df = cleaned(track.with_columns(pl.lit(None, dtype=pl.Float32).alias("ground_speed"),
                                    pl.lit(None, dtype=pl.Float32).alias("track")))
    snap = align(df, 5.0, 30.0)
    assert np.allclose(snap.ground_speed, 200.0, rtol=1e-3)
    assert np.allclose(snap.track, 45.0, atol=0.2)


@given(data=st.data())
def test_interpolation_between_reports_is_the_written_out_arithmetic_bit_for_bit(data):
    """Each instant's value between the reports around it, one compiled pass: bit for bit the array arithmetic it
    replaced (where one end is unknown, the other end's value)."""
    from skyfence.tracks.align import _lerp

    n = data.draw(st.integers(1, 20))
    v = np.array(data.draw(st.lists(st.one_of(st.just(np.nan), st.floats(-1e5, 1e5)), min_size=n, max_size=n)))
    m = data.draw(st.integers(0, 30))
    lo = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int64)
    hi = np.minimum(lo + np.array(data.draw(st.lists(st.integers(0, 1), min_size=m, max_size=m)), np.int64), n - 1)
    f = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=m, max_size=m)))
    a, b = v[lo], v[hi]
    want = np.where(np.isnan(b), a, np.where(np.isnan(a), b, a + f * (b - a)))
    assert np.array_equal(_lerp(v, lo, hi, f), want, equal_nan=True)
