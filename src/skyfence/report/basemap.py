"""Map backgrounds drawn offline from the Natural Earth layers carried in ``skyfence/data``.

The world layer (land and borders, 1:50m) is drawn everywhere; where the map overlaps the Euphrates
region, the finer 1:10m borders, the rivers, towns and airfields are drawn too. Maps are plate
carrée with the aspect set for the map's middle latitude, which keeps shapes true over a region.
Every layer is clipped to the map before drawing, so the SVG holds only what is seen.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import polars as pl
import shapely

REGIONAL_BOX = shapely.box(34.5, 31.0, 45.0, 38.5)  # towns and airfields
BORDERS_BOX = shapely.box(35.0, 32.0, 43.0, 38.0)  # the 1:10m borders and rivers
LAND, WATER, BORDER, RIVER = "#f4f1ea", "#dfe9f2", "#8c8c8c", "#7fb3d5"


@dataclass(frozen=True)
class Extent:
    """A lon/lat rectangle."""

    west: float
    south: float
    east: float
    north: float

    @property
    def box(self):
        return shapely.box(self.west, self.south, self.east, self.north)

    @property
    def aspect(self) -> float:
        return 1.0 / max(np.cos(np.radians((self.south + self.north) / 2)), 0.05)


def extent_of(geoms: list, lon: np.ndarray, lat: np.ndarray, pad: float = 0.06, min_deg: float = 0.5) -> Extent | None:
    """The rectangle around some geometries and points, padded; None when there is nothing to show."""
    boxes = [g.bounds for g in geoms if g is not None and not g.is_empty]
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
        boxes.append((float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max())))
    if not boxes:
        return None
    b = np.array(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    cx, cy = (w + e) / 2, (s + n) / 2
    half_w = max(e - w, min_deg) / 2 * (1 + pad)
    half_h = max(n - s, min_deg) / 2 * (1 + pad)
    return Extent(max(cx - half_w, -180), max(cy - half_h, -89), min(cx + half_w, 180), min(cy + half_h, 89))


@lru_cache(maxsize=1)
def world_layers() -> dict[str, object]:
    """``land`` and ``borders`` of the world (shapely geometries)."""
    raw = resources.files("skyfence.data").joinpath("ne_world_50m.geojson.gz").read_bytes()
    doc = json.loads(gzip.decompress(raw))
    return {f["properties"]["layer"]: shapely.geometry.shape(f["geometry"]) for f in doc["features"]}


@lru_cache(maxsize=1)
def regional_layers() -> dict[str, object]:
    """The finer layers of the Euphrates region: ``borders``, ``rivers`` (name per part), ``places``, ``airports``."""
    data = resources.files("skyfence.data")
    borders = json.loads(data.joinpath("ne_region_borders.geojson").read_text("utf-8"))
    lines = [shapely.geometry.shape(f["geometry"]) for f in borders["features"]
             if f["properties"].get("layer") == "admin0_boundary_line"]
    rivers = json.loads(data.joinpath("ne_rivers_region.geojson").read_text("utf-8"))
    river_geoms = [shapely.geometry.shape(f["geometry"]) for f in rivers["features"]]
    with data.joinpath("ne_places_region.csv").open("rb") as fh:
        places = pl.read_csv(fh)
    with data.joinpath("airports_region.csv").open("rb") as fh:
        airports = pl.read_csv(fh, infer_schema_length=None)
    return {"borders": shapely.union_all(lines), "rivers": shapely.union_all(river_geoms), "places": places,
            "airports": airports}


def new_map(fig, extent: Extent, rect=None):
    """An axes on ``fig`` showing ``extent`` with land, borders and, in the region, rivers."""
    ax = fig.add_subplot(1, 1, 1) if rect is None else fig.add_axes(rect)
    ax.set_xlim(extent.west, extent.east)
    ax.set_ylim(extent.south, extent.north)
    ax.set_aspect(extent.aspect)
    ax.set_facecolor(WATER)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    ax.tick_params(length=2, pad=1)
    ax.xaxis.set_major_formatter(_degrees("E", "W"))
    ax.yaxis.set_major_formatter(_degrees("N", "S"))
    world = world_layers()
    view = extent.box.buffer(max(extent.east - extent.west, extent.north - extent.south) * 0.05)
    draw_polygons(ax, shapely.intersection(world["land"], view), facecolor=LAND, edgecolor="#b5b5b5",
                  linewidth=0.4, zorder=0)
    if extent.box.intersects(BORDERS_BOX):
        reg = regional_layers()
        outside = view.difference(BORDERS_BOX)
        draw_lines(ax, shapely.intersection(world["borders"], outside), color=BORDER, linewidth=0.6,
                   linestyle=(0, (4, 2)), zorder=1)
        draw_lines(ax, shapely.intersection(reg["borders"], view), color=BORDER, linewidth=0.6,
                   linestyle=(0, (4, 2)), zorder=1)
        draw_lines(ax, shapely.intersection(reg["rivers"], view), color=RIVER, linewidth=1.0, zorder=1)
    else:
        draw_lines(ax, shapely.intersection(world["borders"], view), color=BORDER, linewidth=0.6,
                   linestyle=(0, (4, 2)), zorder=1)
    return ax


def label_places(ax, extent: Extent, labels, towns: int = 10, airfields: int = 12) -> None:
    """The largest towns and the airfields on the map (regional layers): small markers, their names added to
    ``labels`` (:class:`skyfence.report.labels.Labels`; towns before airfields)."""
    if not extent.box.intersects(REGIONAL_BOX):
        return
    reg = regional_layers()
    inside = ((pl.col("lon") > extent.west) & (pl.col("lon") < extent.east) & (pl.col("lat") > extent.south)
              & (pl.col("lat") < extent.north))
    for r in reg["places"].filter(inside).sort("pop_max", descending=True).head(towns).iter_rows(named=True):
        ax.plot(r["lon"], r["lat"], "s", ms=2.2, color="#444444", zorder=4)
        labels.add(r["lon"], r["lat"], r["name"], rank=1, fontsize=6, color="#333333", zorder=4)
    ports = reg["airports"].filter(inside & pl.col("icao").str.starts_with("O"))
    ports = ports.sort(pl.col("note").is_null(), pl.col("iata").is_null()).head(airfields)
    for r in ports.iter_rows(named=True):
        ax.plot(r["lon"], r["lat"], marker="+", ms=4, mew=0.8, color="#555555", zorder=4)
        labels.add(r["lon"], r["lat"], r["icao"], rank=2, first=1, fontsize=5.5, color="#666666", zorder=4)


def draw_polygons(ax, geom, **style) -> None:
    """(Multi)polygons as one compound path (holes kept)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    polys = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty]
    if not polys:
        return
    verts, codes = [], []
    for poly in polys:
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            verts.append(xy)
            c = np.full(len(xy), Path.LINETO, dtype=np.uint8)
            c[0], c[-1] = Path.MOVETO, Path.CLOSEPOLY
            codes.append(c)
    ax.add_patch(PathPatch(Path(np.concatenate(verts), np.concatenate(codes)), **style))


def draw_lines(ax, geom, **style) -> None:
    """(Multi)line strings (and polygon outlines) as one line collection."""
    from matplotlib.collections import LineCollection

    segs = [np.asarray(g.coords) for g in shapely.get_parts(shapely.boundary(geom) if _is_polygonal(geom) else geom)
            if not g.is_empty and hasattr(g, "coords")]
    segs = [s for s in segs if len(s) > 1]
    if segs:
        ax.add_collection(LineCollection(segs, **style))


def _is_polygonal(geom) -> bool:
    return isinstance(geom, (shapely.Polygon, shapely.MultiPolygon))


def _degrees(pos: str, neg: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{abs(v):g}°{pos if v >= 0 else neg}")
