"""The ground the scenario is flown over: bases, each party's side, work areas and safe routes.

Everything here is in the agreement's projection (x east, y north, metres).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

import numpy as np
import shapely
import shapely.prepared

from skyfence.agreement.model import Agreement
from skyfence.errors import SkyfenceError
from skyfence.geo.boundary import BoundaryIndex


@dataclass(frozen=True)
class Airfield:
    icao: str
    name: str
    lon: float
    lat: float
    elevation: float  # m


def airfields() -> dict[str, Airfield]:
    """The region's airports and airbases (from the package's copy of airports_region.csv)."""
    text = resources.files("skyfence.data").joinpath("airports_region.csv").read_text(encoding="utf-8")
    out = {}
    for r in csv.DictReader(text.splitlines()):
        out[r["icao"]] = Airfield(r["icao"], r["name"], float(r["lon"]), float(r["lat"]),
                                  float(r["elevation_ft"] or 0) * 0.3048)
    return out


@dataclass
class Theatre:
    """One party's view of the agreement: its side, where it may not go, the line."""

    agreement: Agreement
    party: str

    @cached_property
    def home(self):
        """The side of the line that belongs to the party (projected), or None."""
        for a in self.agreement.areas:
            if a.kind == "side" and a.owner == self.party:
                return a.polygon_xy
        return None

    @cached_property
    def forbidden(self):
        """Every area closed to the party, as one projected geometry."""
        parts = [a.polygon_xy for a in self.agreement.areas if self.party in a.closed_to]
        return shapely.union_all(parts) if parts else shapely.GeometryCollection()

    @cached_property
    def line(self):
        return self.agreement.projection.geometry_forward(self.agreement.line_extended)

    @cached_property
    def core_line(self):
        """The agreed line itself (not its extension to the region's edge)."""
        return self.agreement.projection.geometry_forward(self.agreement.line)

    def xy(self, lon, lat) -> np.ndarray:
        x, y = self.agreement.projection.forward(lon, lat)
        return np.array([float(x), float(y)])

    def work_point(self, rng: np.random.Generator, near: float, far: float, tries: int = 5000) -> np.ndarray:
        """A random point on the party's side between ``near`` and ``far`` metres from the line."""
        home = self.home
        if home is None:
            raise SkyfenceError(f"party {self.party!r} has no side of the line to work in")
        w, s, e, n = home.bounds
        for _ in range(tries):
            p = np.array([rng.uniform(w, e), rng.uniform(s, n)])
            pt = shapely.Point(p)
            if home.contains(pt) and near <= self.line.distance(pt) <= far \
                    and self.forbidden.distance(pt) >= near:
                return p
        raise SkyfenceError(f"no room on {self.party}'s side {near / 1000:g}-{far / 1000:g} km from the line")

    def line_frame(self, fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A point on the agreed line, the unit tangent, and the unit normal pointing away from home."""
        line = self.core_line
        d = fraction * line.length
        p = np.asarray(line.interpolate(d).coords[0])
        a = np.asarray(line.interpolate(max(d - 2000, 0)).coords[0])
        b = np.asarray(line.interpolate(min(d + 2000, line.length)).coords[0])
        tangent = (b - a) / np.hypot(*(b - a))
        normal = np.array([tangent[1], -tangent[0]])
        probe = shapely.Point(p + normal * 3000)
        if self.home is not None and self.home.contains(probe):
            normal = -normal
        return p, tangent, normal

    def route(self, a: np.ndarray, b: np.ndarray, margin: float = 6000.0) -> list[np.ndarray]:
        """Waypoints from a to b (b included) that keep ``margin`` away from every area closed to the party.

        The shortest path through a visibility graph whose nodes ring the
        closed areas a little further out than the margin.
        """
        if self.forbidden.is_empty:
            return [b]
        # an end close to a closed area (a base by the river) narrows the margin, in 500 m steps
        room = min(self.forbidden.distance(shapely.Point(a)), self.forbidden.distance(shapely.Point(b)))
        margin = max(min(margin, np.floor(0.8 * room / 500.0) * 500.0), 500.0)
        keep_out = self._keep_out(margin)
        if not shapely.LineString([a, b]).intersects(keep_out):
            return [b]
        nodes, edges = self._graph(margin)
        pts = np.vstack([a, b, nodes])
        n = len(pts)
        dist = np.full((n, n), np.inf)
        k = len(nodes)
        dist[2:, 2:] = edges
        for i, p in ((0, a), (1, b)):
            segs = shapely.linestrings(np.stack([np.repeat(p[None], k, 0), nodes], axis=1))
            ok = ~shapely.intersects(segs, keep_out)
            dist[i, 2:] = np.where(ok, np.hypot(*(nodes - p).T), np.inf)
            dist[2:, i] = dist[i, 2:]
        path = _dijkstra(dist, 0, 1)
        if path is None:
            raise SkyfenceError(f"no route for {self.party} that keeps clear of the areas closed to it")
        return [pts[i] for i in path[1:]]

    def _keep_out(self, margin: float):
        key = ("keep_out", margin)
        if key not in self.__dict__:
            self.__dict__[key] = shapely.prepared.prep(self.forbidden.buffer(margin)).context
            shapely.prepare(self.__dict__[key])
        return self.__dict__[key]

    def _graph(self, margin: float):
        key = ("graph", margin)
        if key not in self.__dict__:
            ring = self.forbidden.buffer(margin + 3000.0).simplify(2000.0)
            nodes = np.vstack([np.asarray(g.exterior.coords)[:-1] for g in shapely.get_parts(ring)])
            keep_out = self._keep_out(margin)
            i, j = np.triu_indices(len(nodes), k=1)
            segs = shapely.linestrings(np.stack([nodes[i], nodes[j]], axis=1))
            ok = ~shapely.intersects(segs, keep_out)
            edges = np.full((len(nodes), len(nodes)), np.inf)
            d = np.hypot(*(nodes[i] - nodes[j]).T)
            edges[i[ok], j[ok]] = d[ok]
            edges[j[ok], i[ok]] = d[ok]
            self.__dict__[key] = (nodes, edges)
        return self.__dict__[key]

    def clear_of(self, x: np.ndarray, y: np.ndarray, margin: float) -> bool:
        """Whether a path (its points) keeps at least ``margin`` metres from every area closed to the party."""
        if self.forbidden.is_empty or len(x) == 0:
            return True
        shapely.prepare(self.forbidden)  # in place, once: containment tests against it are then fast
        if shapely.contains_xy(self.forbidden, x, y).any():
            return False
        # the boundary index the detectors use, its search stopped at the margin (shapely's distance measured
        # every edge for every point: most of a simulated day's time)
        d = self._edges.distance(x, y, cap=margin)
        return not (d < margin).any()  # inf beyond the margin; exactly at it is clear

    @cached_property
    def _edges(self) -> BoundaryIndex:
        """The edges of the areas closed to the party, indexed."""
        return BoundaryIndex.from_geometry(self.forbidden)


def _dijkstra(dist: np.ndarray, source: int, target: int) -> list[int] | None:
    """Shortest path on a dense distance matrix (inf where there is no edge)."""
    n = len(dist)
    best = np.full(n, np.inf)
    prev = np.full(n, -1)
    done = np.zeros(n, dtype=bool)
    best[source] = 0.0
    while True:
        open_ = np.where(done, np.inf, best)
        u = int(np.argmin(open_))
        if not np.isfinite(open_[u]):
            return None
        if u == target:
            break
        done[u] = True
        alt = best[u] + dist[u]
        better = alt < best
        best[better] = alt[better]
        prev[better] = u
    path = [target]
    while path[-1] != source:
        path.append(int(prev[path[-1]]))
    return path[::-1]
