import math

import pytest

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
