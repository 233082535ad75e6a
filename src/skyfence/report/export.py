"""``skyfence export``: events (or one aircraft's track) as GeoJSON, KML or CSV.

* GeoJSON (RFC 7946): one FeatureCollection; positions are ``[lon, lat, altitude m]`` (a missing altitude
  interpolated between known ones; a geometry with none is ``[lon, lat]``); every
  feature carries ``event_id`` and ``feature`` (crossings: entry, track_inside; encounters: closest_point,
  track_a, track_b; interactions: position, track, other_track)
  beside the event's columns. QGIS, geojson.io and web maps open it.
* KML (Google Earth): a folder per kind of event, lines and points at their altitude (absolute),
  styled by party, with the event's time span for the time slider and its columns as data.
* CSV: one row per feature with its geometry as WKT (``POINT Z``, ``LINESTRING Z``; QGIS reads it as
  a delimited-text layer); for one aircraft, one row per state instead.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import polars as pl

from skyfence.errors import SkyfenceError
from skyfence.report.features import Feature
from skyfence.report.style import PARTY_PALETTE, UNKNOWN_COLOUR, party_colours

FORMATS = ("geojson", "kml", "csv")


def with_altitudes(coords: np.ndarray) -> tuple[np.ndarray, bool]:
    """A geometry's positions ``[lon, lat, alt]`` with every altitude known, and whether it has altitudes at all:
    a missing altitude between two known ones is interpolated (along the positions), one before the first or
    after the last known takes that one; a geometry with none is 2-D. One geometry never mixes 2-D and 3-D
    positions (shapely refuses them), and never puts an aircraft at 0 m for want of an altitude."""
    coords = np.asarray(coords, dtype=float)
    alt = coords[:, 2]
    known = np.isfinite(alt)
    if not known.any():
        return coords, False
    if known.all():
        return coords, True
    out = coords.copy()
    idx = np.arange(len(alt))
    out[:, 2] = np.interp(idx, idx[known], alt[known])
    return out, True


def positions(coords: np.ndarray) -> list[list[float]]:
    """GeoJSON positions, to 6 decimals and 0.1 m, all 2-D or all 3-D (:func:`with_altitudes`)."""
    coords, has_alt = with_altitudes(coords)
    return [[round(float(r[0]), 6), round(float(r[1]), 6)] + ([round(float(r[2]), 1)] if has_alt else [])
            for r in coords]


DECIMALS = {"_ft": 0, "_fpm": 0, "_kt": 0, "_nm": 2, "_km": 3, "_m": 1, "_s": 1, "_deg": 1}
"""Decimals a float property is written to, by the unit its name ends in (feet to the foot, NM to 0.01); others
(positions, scores) to 6 decimals, a position to 0.1 m."""


def _value(key: str, v):
    """A property as written: floats to the decimals its unit deserves (30999.998047 ft reads as 31000)."""
    if isinstance(v, float) and math.isfinite(v):
        digits = next((d for end, d in DECIMALS.items() if key.endswith(end)), 6)
        return int(round(v)) if digits == 0 else round(v, digits)
    return v


def _geometry(f: Feature) -> dict:
    if f.geometry == "Point":
        return {"type": "Point", "coordinates": positions(f.coords[:1])[0]}
    return {"type": "LineString", "coordinates": positions(f.coords)}


def geojson_document(features: list[Feature], name: str) -> dict:
    """A GeoJSON FeatureCollection of the features."""
    return {"type": "FeatureCollection", "name": name,
            "features": [{"type": "Feature", "id": f"{f.event_id}/{f.feature}", "geometry": _geometry(f),
                          "properties": {"event_id": f.event_id, "feature": f.feature,
                                         **{k: _value(k, v) for k, v in f.properties.items()}}}
                         for f in features]}


def write_geojson(features: list[Feature], path: Path, name: str) -> None:
    path.write_text(json.dumps(geojson_document(features, name), default=str), encoding="utf-8")


def _wkt(f: Feature) -> str:
    coords, has_alt = with_altitudes(f.coords[:1] if f.geometry == "Point" else f.coords)
    z = " Z" if has_alt else ""

    def pos(r):
        return f"{r[0]:.6f} {r[1]:.6f}" + (f" {r[2]:.1f}" if has_alt else "")

    if f.geometry == "Point":
        return f"POINT{z} ({pos(coords[0])})"
    return f"LINESTRING{z} (" + ", ".join(pos(r) for r in coords) + ")"


def write_csv(features: list[Feature], path: Path) -> None:
    """One row per feature, properties as columns, the geometry as WKT (altitude in metres; see
    :func:`with_altitudes` where some are unknown)."""
    keys: list[str] = []
    for f in features:
        keys += [k for k in f.properties if k not in keys]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["event_id", "feature", *keys, "wkt"])
        for f in features:
            writer.writerow([f.event_id, f.feature, *("" if f.properties.get(k) is None else _value(k, f.properties[k])
                                                      for k in keys), _wkt(f)])


def write_states_csv(states: pl.DataFrame, path: Path) -> None:
    """One aircraft's states: time, position, altitude in feet, speed in knots, as the field reads them."""
    from skyfence.analysis.outputs import ISO
    from skyfence.units import FEET_PER_MINUTE, FOOT, KNOT

    cols = [pl.col("time"), pl.col("track_id"), pl.col("callsign"), pl.col("party").cast(pl.String),
            pl.col("lat").round(6), pl.col("lon").round(6), (pl.col("altitude") / FOOT).round(0).alias("altitude_ft"),
            (pl.col("ground_speed") / KNOT).round(1).alias("groundspeed_kt"), pl.col("track").round(1),
            (pl.col("vertical_rate") / FEET_PER_MINUTE).round(0).alias("vertical_rate_fpm")]
    if "flight_id" in states.columns:
        cols.append(pl.col("flight_id"))
    states.sort("time").select(cols).write_csv(path, datetime_format=ISO)


def _kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """#rrggbb as KML's aabbggrr."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{b}{g}{r}"


def write_kml(features: list[Feature], path: Path, name: str, parties: list[str]) -> None:
    """Google Earth: a folder per kind of event, altitude absolute, coloured by party, time spans."""
    import simplekml

    colours = party_colours(parties)
    kml = simplekml.Kml(name=name)
    folders: dict[str, object] = {}
    styles: dict[tuple[str, str], object] = {}

    def style(party: str | None, geometry: str):
        key = (party or "unknown", geometry)
        if key not in styles:
            s = simplekml.Style()
            colour = colours.get(party or "unknown", PARTY_PALETTE[len(styles) % len(PARTY_PALETTE)]
                                 if party else UNKNOWN_COLOUR)
            s.linestyle.color = _kml_colour(colour)
            s.linestyle.width = 2.5
            s.iconstyle.color = _kml_colour(colour)
            s.iconstyle.scale = 0.9
            s.labelstyle.scale = 0.8
            styles[key] = s
        return styles[key]

    for f in features:
        kind = str(f.properties.get("event") or f.event_id.split("-")[0])
        folder = folders.get(kind) or folders.setdefault(kind, kml.newfolder(name=kind.replace("_", " ")))
        label = f.properties.get("callsign") or f.properties.get("track_id") or f.event_id
        coords, has_alt = with_altitudes(f.coords[:1] if f.geometry == "Point" else f.coords)
        # to 1e-6 degree (about 0.1 m) and 0.1 m: full floats made a 7.4 MB file of noise digits (user trial)
        positions = [(round(float(r[0]), 6), round(float(r[1]), 6), round(float(r[2]), 1) if has_alt else 0.0)
                     for r in coords]
        if f.geometry == "Point":
            geom = folder.newpoint(name=f"{f.event_id} {f.feature}", coords=positions)
        else:
            geom = folder.newlinestring(name=f"{f.event_id} {f.feature} {label}", coords=positions)
            geom.tessellate = 0
        # with no altitude at all, on the ground (the 0 is not read as a height)
        geom.altitudemode = simplekml.AltitudeMode.absolute if has_alt else simplekml.AltitudeMode.clamptoground
        geom.style = style(f.party, f.geometry)
        if f.start is not None:
            geom.timespan.begin = f.start.isoformat().replace("+00:00", "Z")
            geom.timespan.end = (f.end or f.start).isoformat().replace("+00:00", "Z")
        for k, v in f.properties.items():
            if v is not None:
                geom.extendeddata.newdata(name=k, value=str(v))
    path.write_text(_named_ids(kml.kml()), encoding="utf-8")


def _named_ids(text: str) -> str:
    """simplekml numbers its ids (``id="3"``, ``#3``), which XML's ID type does not allow (an ID starts with a
    letter): prefixed, ``id="k3"``, so strict readers take them."""
    import re

    text = re.sub(r'(\s)id="(\d+)"', r'\1id="k\2"', text)
    return re.sub(r"<styleUrl>#(\d+)</styleUrl>", r"<styleUrl>#k\1</styleUrl>", text)


def write_features(features: list[Feature], fmt: str, path: Path, name: str, parties: list[str]) -> None:
    """The features in one of ``FORMATS``."""
    if fmt not in FORMATS:
        raise SkyfenceError(f"--to must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "geojson":
            write_geojson(features, path, name)
        elif fmt == "kml":
            write_kml(features, path, name, parties)
        else:
            write_csv(features, path)
    except OSError as exc:
        raise SkyfenceError(f"{path}: cannot write ({exc.strerror})") from None
