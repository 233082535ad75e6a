"""Units at the edges: feet, knots, ft/min and nautical miles in, SI out.

Inside skyfence every length is in metres, every speed in m/s and every time
in seconds. Readers, reports and the agreement file speak the units of the
field; they convert once, with these helpers.

>>> round(ft_to_m(1000.0), 1)
304.8
>>> parse_length("20 NM")
37040.0
>>> parse_duration("5 min")
300.0
>>> parse_altitude("FL350")
10668.0
"""

from __future__ import annotations

import math
import re
from typing import Final

import numpy as np

FOOT: Final = 0.3048
"""One international foot in metres."""
NAUTICAL_MILE: Final = 1852.0
"""One nautical mile in metres."""
KNOT: Final = NAUTICAL_MILE / 3600.0
"""One knot in metres per second."""
FEET_PER_MINUTE: Final = FOOT / 60.0
"""One foot per minute in metres per second."""


def ft_to_m(x):
    """Feet to metres (scalars or arrays)."""
    return np.multiply(x, FOOT) if isinstance(x, np.ndarray) else x * FOOT


def m_to_ft(x):
    """Metres to feet."""
    return np.divide(x, FOOT) if isinstance(x, np.ndarray) else x / FOOT


def kt_to_ms(x):
    """Knots to metres per second."""
    return np.multiply(x, KNOT) if isinstance(x, np.ndarray) else x * KNOT


def ms_to_kt(x):
    """Metres per second to knots."""
    return np.divide(x, KNOT) if isinstance(x, np.ndarray) else x / KNOT


def fpm_to_ms(x):
    """Feet per minute to metres per second."""
    return np.multiply(x, FEET_PER_MINUTE) if isinstance(x, np.ndarray) else x * FEET_PER_MINUTE


def ms_to_fpm(x):
    """Metres per second to feet per minute."""
    return np.divide(x, FEET_PER_MINUTE) if isinstance(x, np.ndarray) else x / FEET_PER_MINUTE


def nm_to_m(x):
    """Nautical miles to metres."""
    return np.multiply(x, NAUTICAL_MILE) if isinstance(x, np.ndarray) else x * NAUTICAL_MILE


def m_to_nm(x):
    """Metres to nautical miles."""
    return np.divide(x, NAUTICAL_MILE) if isinstance(x, np.ndarray) else x / NAUTICAL_MILE


_LENGTH = {
    "m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0,
    "km": 1000.0,
    "ft": FOOT, "feet": FOOT, "foot": FOOT,
    "nm": NAUTICAL_MILE, "nmi": NAUTICAL_MILE,
}
_DURATION = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
_ACCEL = {"m/s2": 1.0, "g": 9.80665}
_SPEED = {"m/s": 1.0, "kt": KNOT, "kts": KNOT, "knots": KNOT, "km/h": 1 / 3.6,
          "ft/min": FEET_PER_MINUTE, "fpm": FEET_PER_MINUTE}
_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+)\s*([A-Za-z/0-9]*)\s*$")


class UnitError(ValueError):
    """A quantity that cannot be read, with the reason in words."""


def _parse(value: object, table: dict[str, float], what: str, default_unit: str) -> float:
    if isinstance(value, bool):
        raise UnitError(f"expected a {what}, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            raise UnitError(f"expected a finite {what}, got {value!r}")
        return float(value) * table[default_unit]
    if not isinstance(value, str):
        raise UnitError(f"expected a {what} such as '10 {default_unit}', got {value!r}")
    match = _QUANTITY.match(value)
    if not match:
        raise UnitError(f"cannot read {value!r} as a {what} (e.g. '10 {default_unit}')")
    number, unit = float(match.group(1)), match.group(2).lower() or default_unit
    if not math.isfinite(number):
        raise UnitError(f"{value!r} is not a finite {what}")
    if unit not in table:
        known = ", ".join(sorted(set(table)))
        raise UnitError(f"unknown unit {match.group(2)!r} in {value!r}; use one of: {known}")
    return number * table[unit]


def parse_length(value: object) -> float:
    """A length such as ``"20 NM"``, ``"1000 ft"``, ``"5 km"`` or a number of metres, in metres."""
    return _parse(value, _LENGTH, "length", "m")


def parse_duration(value: object) -> float:
    """A duration such as ``"300 s"``, ``"5 min"``, ``"1 h"`` or a number of seconds, in seconds."""
    return _parse(value, _DURATION, "duration", "s")


def parse_speed(value: object) -> float:
    """A speed such as ``"450 kt"``, ``"250 m/s"`` or a number of m/s, in m/s."""
    return _parse(value, _SPEED, "speed", "m/s")


def parse_acceleration(value: object) -> float:
    """An acceleration such as ``"4 m/s2"`` or ``"0.4 g"``, or a number of m/s2, in m/s2."""
    return _parse(value, _ACCEL, "acceleration", "m/s2")


def parse_altitude(value: object) -> float:
    """An altitude: ``"FL350"``, ``"20000 ft"``, ``"3 km"``, ``"SFC"`` / ``"UNL"``, or metres."""
    if isinstance(value, str):
        text = value.strip().upper()
        if text in ("SFC", "GND", "SURFACE"):
            return 0.0
        if text in ("UNL", "UNLIMITED"):
            return float("inf")
        if text.startswith("FL") and text[2:].strip().isdigit():
            return int(text[2:]) * 100 * FOOT
    return parse_length(value)
