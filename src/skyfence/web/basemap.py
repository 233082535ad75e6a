"""The offline basemap the page draws: Natural Earth layers carried in ``skyfence/data``, as GeoJSON.

``world`` (land and country borders, 1:50m) everywhere; the finer ``borders`` and ``rivers`` (1:10m),
``places`` (towns) and ``airports`` of the Euphrates region. Each is built once and kept as bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from functools import lru_cache
from importlib import resources
from typing import Literal

Layer = Literal["world", "borders", "rivers", "places", "airports"]
LAYERS: tuple[str, ...] = ("world", "borders", "rivers", "places", "airports")


@lru_cache(maxsize=None)
def layer_bytes(name: str) -> bytes:
    """The layer ``name`` (one of ``LAYERS``) as GeoJSON bytes."""
    data = resources.files("skyfence.data")
    if name == "world":
        return gzip.decompress(data.joinpath("ne_world_50m.geojson.gz").read_bytes())
    if name == "borders":
        return data.joinpath("ne_region_borders.geojson").read_bytes()
    if name == "rivers":
        return data.joinpath("ne_rivers_region.geojson").read_bytes()
    if name == "places":
        rows = _csv(data.joinpath("ne_places_region.csv").read_text("utf-8"))
        return _points(rows, lambda r: {"name": r["name"], "country": r["adm0name"],
                                        "pop_max": int(float(r["pop_max"] or 0))})
    if name == "airports":
        rows = _csv(data.joinpath("airports_region.csv").read_text("utf-8"))
        return _points(rows, lambda r: {"icao": r["icao"], "name": r["name"], "country": r["country"]})
    raise KeyError(name)


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _points(rows: list[dict], props) -> bytes:
    feats = [{"type": "Feature", "properties": props(r),
              "geometry": {"type": "Point", "coordinates": [round(float(r["lon"]), 5), round(float(r["lat"]), 5)]}}
             for r in rows]
    return json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":")).encode()
