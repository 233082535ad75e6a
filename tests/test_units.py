import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyfence.units import (
    UnitError, ft_to_m, kt_to_ms, m_to_nm, parse_altitude, parse_duration, parse_length, parse_speed,
)


def test_conversions_are_the_definitions():
    assert ft_to_m(1.0) == 0.3048
    assert kt_to_ms(3600.0) == pytest.approx(1852.0)
    assert m_to_nm(1852.0) == 1.0


@pytest.mark.parametrize("text, metres", [
    ("20 NM", 37040.0), ("1000 ft", 304.8), ("5 km", 5000.0), ("250", 250.0), (12.5, 12.5), ("0.5nm", 926.0),
])
def test_lengths(text, metres):
    assert parse_length(text) == pytest.approx(metres)


@pytest.mark.parametrize("text, seconds", [("300 s", 300), ("5 min", 300), ("1 h", 3600), (90, 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_altitudes():
    assert parse_altitude("FL350") == pytest.approx(35000 * 0.3048)
    assert parse_altitude("SFC") == 0.0
    assert math.isinf(parse_altitude("UNL"))
    assert parse_altitude("2000 ft") == pytest.approx(609.6)


def test_speed():
    assert parse_speed("450 kt") == pytest.approx(450 * 1852 / 3600)


@pytest.mark.parametrize("bad", ["20 furlongs", "fast", "", None, True, "1 2 km"])
def test_bad_quantities_say_why(bad):
    with pytest.raises(UnitError) as err:
        parse_length(bad)
    assert "unit" in str(err.value) or "expected" in str(err.value) or "cannot read" in str(err.value)


@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**9, 4 * 10**9).map(lambda n: n / 2e6),  # half microseconds: rounding
                          st.floats(-1e14, 1e14)), max_size=30))
def test_times_are_the_polars_expression(values):
    """Event tables' times, worked out in numpy, are exactly what the readers' polars expression gives: rounded
    half to even to the microsecond, null for NaN, infinities and beyond any representable time."""
    import numpy as np
    import polars as pl

    from skyfence.tracks.schema import time_from_seconds, times

    x = np.array(values, dtype=np.float64)
    want = pl.select(time_from_seconds(pl.Series(x, dtype=pl.Float64).fill_nan(None))).to_series()
    got = times(x)
    assert got.dtype == want.dtype and got.to_physical().to_list() == want.to_physical().to_list()
