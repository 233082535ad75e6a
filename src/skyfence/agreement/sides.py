"""The two sides of a deconfliction line: the region split by the line, extended to its edge."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import ops


class SideError(ValueError):
    """The line and region do not make two sides; the text says why."""


def extend_to_edge(line: shapely.LineString, region) -> shapely.LineString:
    """The line with each end that lies inside the region carried straight on until past its edge.

    The direction of an end is taken over its last ~2 % of length (at least its
    last segment), so a tiny final segment does not swing the extension.
    """
    size = float(np.hypot(*(np.array(region.bounds[2:]) - np.array(region.bounds[:2]))))
    coords = np.asarray(line.coords, dtype=float)
    back = max(line.length * 0.02, 1e-9)
    ends = []
    for end, inner in ((coords[0], line.interpolate(back)), (coords[-1], line.interpolate(line.length - back))):
        point = shapely.Point(end)
        if not region.intersects(point):
            ends.append(None)
            continue
        direction = end - np.asarray(inner.coords[0])
        norm = np.hypot(*direction)
        if norm == 0:
            raise SideError("cannot tell which way the line runs at one of its ends")
        ray = shapely.LineString([end, end + direction / norm * 2 * size])
        hit = ray.intersection(region.boundary)
        if hit.is_empty:
            ends.append(None)
            continue
        # the first point past the end where the ray meets the edge, then a little beyond
        overshoot = direction / norm * max(size * 1e-3, 1.0)
        pts = shapely.get_coordinates(hit)
        dist = np.hypot(*(pts - end).T)
        eps = size * 1e-9
        nearest = pts[np.argmin(np.where(dist > eps, dist, np.inf))] if (dist > eps).any() else end
        if not region.contains(shapely.Point((nearest + end) / 2)):
            nearest = end  # the ray leaves the region at once: the end is on the edge
        ends.append(nearest + overshoot)
    out = coords
    if ends[0] is not None:
        out = np.vstack([ends[0], out])
    if ends[1] is not None:
        out = np.vstack([out, ends[1]])
    return shapely.LineString(out)


def split_sides(region, line: shapely.LineString):
    """The parts of the region left and right of the (extended) line, as two (multi)polygons."""
    extended = extend_to_edge(line, region)
    pieces = list(shapely.get_parts(ops.split(region, extended)))
    if len(pieces) < 2:
        raise SideError("the line does not cut the region into two sides")
    width = float(np.sqrt(region.area)) * 1e-3
    left_band = shapely.buffer(extended, width, single_sided=True)
    right_band = shapely.buffer(extended, -width, single_sided=True)
    left, right = [], []
    for piece in pieces:
        on_left = piece.intersection(left_band).area
        on_right = piece.intersection(right_band).area
        if on_left == 0 and on_right == 0:
            raise SideError("a part of the region does not touch the line")
        (left if on_left > on_right else right).append(piece)
    if not left or not right:
        raise SideError("the line does not cut the region into two sides")
    return shapely.union_all(left), shapely.union_all(right), extended


_DIRECTIONS = {"east": (1.0, 0.0), "west": (-1.0, 0.0), "north": (0.0, 1.0), "south": (0.0, -1.0)}


def side_toward(line: shapely.LineString, left, right, direction: str) -> str:
    """``'left'`` or ``'right'``: the side a compass direction points to, by vote along the line.

    From 41 points along the line a step is taken in the direction; the side
    most steps land on wins. Fewer than 70 % agreeing means the direction is
    ambiguous for this line (it runs that way), and an error says so.
    """
    dx, dy = _DIRECTIONS[direction]
    step = line.length * 0.01
    votes = {"left": 0, "right": 0}
    for f in np.linspace(0.05, 0.95, 41):
        p = np.asarray(line.interpolate(f, normalized=True).coords[0])
        q = shapely.Point(p[0] + dx * step, p[1] + dy * step)
        if left.contains(q):
            votes["left"] += 1
        elif right.contains(q):
            votes["right"] += 1
    total = votes["left"] + votes["right"]
    best = max(votes, key=votes.get)
    if total == 0 or votes[best] < 0.7 * total:
        raise SideError(f"'{direction}' does not name one side of this line clearly; give a point on the side instead")
    return best


def side_of_point(left, right, point) -> str:
    """``'left'`` or ``'right'``: the side holding the point."""
    p = shapely.Point(point)
    if left.contains(p):
        return "left"
    if right.contains(p):
        return "right"
    raise SideError(f"the point {tuple(point)} is on neither side (outside the region)")
