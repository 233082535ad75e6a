"""Shapes of an agreement: reading them (GeoJSON file, inline, bbox, circle) and checking them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import shape as geojson_shape

from skyfence.agreement.limits import MAX_GEOJSON_BYTES, LimitError, check_geometry_depth, load_json, read_text
from skyfence.agreement.schema import ShapeSpec
from skyfence.units import UnitError, parse_length

WGS84 = Geod(ellps="WGS84")


class ShapeError(ValueError):
    """A shape that cannot be used; the text says why."""


def geodesic_circle(lon: float, lat: float, radius: float, n: int = 128) -> shapely.Polygon:
    """A polygon of ``n`` points at ``radius`` metres (geodesic) from the centre."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    plon, plat, _ = WGS84.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius))
    return shapely.Polygon(np.column_stack([plon, plat]))


def read_shape(spec: ShapeSpec, base_dir: Path):
    """The lon/lat geometry a shape spec describes (files are relative to ``base_dir``)."""
    if spec.bbox is not None:
        w, s, e, n = spec.bbox
        if not (w < e and s < n):
            raise ShapeError(f"bbox {list(spec.bbox)} must be west < east and south < north")
        geom = shapely.box(w, s, e, n)
    elif spec.circle is not None:
        try:
            radius = parse_length(spec.circle.radius)
        except UnitError as exc:
            raise ShapeError(f"circle radius: {exc}") from None
        if radius <= 0:
            raise ShapeError("circle radius must be positive")
        check_coordinates(shapely.Point(spec.circle.center))
        geom = geodesic_circle(*spec.circle.center, radius)
    elif spec.geojson is not None:
        geom = _from_geojson(spec.geojson, spec.feature, "inline geojson")
    else:
        path = Path(spec.file)
        if not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise ShapeError(f"file not found: {path}")
        try:
            data = load_json(read_text(path, MAX_GEOJSON_BYTES))
        except LimitError as exc:
            raise ShapeError(f"{path}: {exc}") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ShapeError(f"cannot read {path} as GeoJSON: {exc}") from None
        geom = _from_geojson(data, spec.feature, str(path))
    check_coordinates(geom)
    return geom


def _from_geojson(data: dict, feature: str | int | None, where: str):
    try:
        check_geometry_depth(data)
    except LimitError as exc:
        raise ShapeError(f"{where}: {exc}") from None
    return _geometry(data, feature, where)


def _geometry(data: dict, feature: str | int | None, where: str):
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        feats = data.get("features") or []
        if feature is None:
            if len(feats) != 1:
                raise ShapeError(f"{where} holds {len(feats)} features; name one with 'feature:'")
            chosen = feats[0]
        elif isinstance(feature, int):
            if not 0 <= feature < len(feats):
                raise ShapeError(f"{where} has no feature number {feature}")
            chosen = feats[feature]
        else:
            matches = [f for f in feats if feature in (f.get("id"), (f.get("properties") or {}).get("id"),
                                                      (f.get("properties") or {}).get("name"))]
            if not matches:
                raise ShapeError(f"{where} has no feature with id or name {feature!r}")
            chosen = matches[0]
        return _geometry(chosen, None, where)
    if kind == "Feature":
        return _geometry(data.get("geometry"), None, where)
    try:
        return geojson_shape(data)
    except RecursionError:
        raise ShapeError(f"{where}: GeoJSON nested too deeply") from None
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise ShapeError(f"{where}: not a GeoJSON geometry ({exc})") from None


def check_coordinates(geom) -> None:
    """Longitudes in [-180, 180] and latitudes in [-90, 90], all finite."""
    c = shapely.get_coordinates(geom)
    if len(c) == 0:
        raise ShapeError("the shape is empty")
    if not np.isfinite(c).all():
        raise ShapeError("the shape has coordinates that are not numbers")
    bad = (np.abs(c[:, 0]) > 180) | (np.abs(c[:, 1]) > 90)
    if bad.any():
        lon, lat = c[np.argmax(bad)]
        raise ShapeError(f"coordinate ({lon}, {lat}) is out of range (lon -180..180, lat -90..90; GeoJSON order is lon, lat)")


def check_polygon(geom) -> None:
    """A valid, non-empty (multi)polygon: no self-intersections."""
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ShapeError(f"expected a Polygon, got a {geom.geom_type}")
    if not shapely.is_valid(geom):
        raise ShapeError(f"invalid polygon: {shapely.is_valid_reason(geom)}")
    if geom.area <= 0:
        raise ShapeError("the polygon has no area")


def check_line(geom) -> None:
    """A simple LineString (one piece, not crossing itself)."""
    if geom.geom_type == "MultiLineString":
        merged = shapely.line_merge(geom)
        if merged.geom_type != "LineString":
            raise ShapeError("the line has several disconnected pieces; give one LineString")
        geom = merged
    if geom.geom_type != "LineString":
        raise ShapeError(f"expected a LineString, got a {geom.geom_type}")
    if not shapely.is_simple(geom):
        raise ShapeError("the line crosses itself")
