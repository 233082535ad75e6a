"""Where an incident is, in words: distance and bearing from the nearest bundled place (Natural Earth)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from pyproj import Geod

from skyfence.units import m_to_nm

_GEOD = Geod(ellps="WGS84")
_POINTS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """The populated places bundled with skyfence for the agreements' region."""
    with resources.files("skyfence.data").joinpath("ne_places_region.csv").open(encoding="utf-8") as f:
        return tuple(Place(r["nameascii"] or r["name"], r["adm0name"], float(r["lat"]), float(r["lon"]))
                     for r in csv.DictReader(f))


def compass(bearing_deg: float) -> str:
    """A bearing as one of the 16 compass points."""
    return _POINTS[int(((bearing_deg % 360) + 11.25) // 22.5) % 16]


def nearest_place(lat: float, lon: float) -> tuple[Place, float, float]:
    """The nearest bundled place, the geodesic distance from it (m) and the bearing from it to the point (deg)."""
    ps = places()
    plat = np.array([p.lat for p in ps])
    plon = np.array([p.lon for p in ps])
    az, _, dist = _GEOD.inv(plon, plat, np.full(len(ps), lon), np.full(len(ps), lat))
    i = int(np.argmin(dist))
    return ps[i], float(dist[i]), float(az[i]) % 360


FAR_NM = 100.0  # a bundled place further than this names nothing useful: the position alone is given


def describe_position(lat: float, lon: float) -> str:
    """``"12 NM NE of Deir ez-Zor (35.4512N 40.2811E)"``; under 1 NM: ``"over Deir ez-Zor (...)"``; beyond
    :data:`FAR_NM` of every bundled place (they cover the agreements' region), the coordinates alone: under a
    user's agreement over Paris, "1554 NM NW of Nigde" helps no one."""
    coords = f"{abs(lat):.4f}{'N' if lat >= 0 else 'S'} {abs(lon):.4f}{'E' if lon >= 0 else 'W'}"
    place, dist, bearing = nearest_place(lat, lon)
    nm = float(m_to_nm(dist))
    if nm > FAR_NM:
        return coords
    if nm < 1:
        return f"over {place.name} ({coords})"
    return f"{nm:.0f} NM {compass(bearing)} of {place.name} ({coords})"
