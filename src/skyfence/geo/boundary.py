"""A uniform-grid index over boundary segments: inside, distance and ray hits for millions of points.

Crossing detection asks three questions of every state vector: is it inside a
restricted area, how far is it from the line, and when would its straight path
reach the boundary. shapely answers the first quickly but the other two at a
few hundred thousand points per second; this index answers all three at tens of
millions per second, exactly (up to floating point), on projected coordinates.

How it works: the segments are binned into the cells of a uniform grid that
covers them with a margin. Each cell keeps the segments whose bounding box
touches it, a reference point whose inside/outside status is known, and a lower
bound of its distance to any segment (a distance transform of the occupied
cells). Inside is the reference status flipped once per segment crossed on the
way from the reference point to the query point (both are in the cell, so only
that cell's segments can be crossed). Distance searches rings of cells outward
until the ring is farther than the best found. Rays walk the cells they cross
(Amanatides and Woo) and stop at the first hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import shapely
from scipy import ndimage

from skyfence.parallel import serial_below

_REF_X, _REF_Y = 0.5731, 0.4583  # reference point in a cell, off its centre lines


def segments_of(geom) -> np.ndarray:
    """All straight segments of a (multi)line or (multi)polygon boundary, as an (n, 4) array x0, y0, x1, y1."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.boundary(geom)
    parts = shapely.get_parts(geom)
    out = []
    for part in parts:
        if part.geom_type in ("MultiLineString", "GeometryCollection"):
            out.extend(segments_of(p) for p in shapely.get_parts(part))
            continue
        c = shapely.get_coordinates(part)
        if len(c) >= 2:
            out.append(np.column_stack([c[:-1], c[1:]]))
    if not out:
        return np.empty((0, 4))
    seg = np.vstack(out)
    keep = (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
    return np.ascontiguousarray(seg[keep], dtype=np.float64)


@dataclass(frozen=True)
class _Grid:
    """One resolution of the index: the cells and the segments binned in them."""

    x_min: float
    y_min: float
    cell: float
    nx: int
    ny: int
    cell_start: np.ndarray  # (nx*ny + 1,) offsets into cell_seg
    cell_seg: np.ndarray  # segment ids, grouped by cell
    clearance: np.ndarray  # (nx*ny,) lower bound of the distance from the cell to any segment

    @classmethod
    def build(cls, seg: np.ndarray, bounds: tuple[float, float, float, float], cell: float) -> "_Grid":
        x_lo, y_lo, x_hi, y_hi = bounds
        x_min, y_min = x_lo - cell, y_lo - cell
        nx = int(np.ceil((x_hi + cell - x_min) / cell)) + 1
        ny = int(np.ceil((y_hi + cell - y_min) / cell)) + 1
        cell_start, cell_seg = _bin_segments(seg, x_min, y_min, cell, nx, ny)
        empty = (np.diff(cell_start) == 0).reshape(ny, nx)
        cells_away = ndimage.distance_transform_edt(empty) if empty.any() and not empty.all() else np.zeros(empty.shape)
        clearance = np.maximum(cells_away - np.sqrt(2.0), 0.0).ravel() * cell
        return cls(float(x_min), float(y_min), float(cell), nx, ny, cell_start, cell_seg,
                   np.ascontiguousarray(clearance))

    def args(self):
        return (self.x_min, self.y_min, self.cell, self.nx, self.ny, self.cell_start, self.cell_seg, self.clearance)

    def clearance_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = np.clip(((x - self.x_min) // self.cell), 0, self.nx - 1).astype(np.int64)
        j = np.clip(((y - self.y_min) // self.cell), 0, self.ny - 1).astype(np.int64)
        return self.clearance[j * self.nx + i]


@dataclass(frozen=True)
class BoundaryIndex:
    """Segments of one boundary, binned in a pyramid of grids; see the module docstring.

    Build it with :meth:`from_geometry` (a projected shapely geometry). A polygon
    gives an index that also answers :meth:`contains`; a line only distances and
    ray hits. Far from the boundary, distances are searched in a coarser grid so
    that every query visits a few dozen cells.
    """

    seg: np.ndarray  # (n, 4) x0, y0, x1, y1
    grids: tuple[_Grid, ...]  # finest first, each 4 times coarser
    ref_inside: np.ndarray | None  # inside status of each finest cell's reference point

    @classmethod
    def from_geometry(cls, geom, cell: float | None = None, margin: float = 0.0) -> "BoundaryIndex":
        """Index the boundary of ``geom`` (projected, metres); ``margin`` widens the grids beyond it."""
        seg = segments_of(geom)
        if len(seg) == 0:
            raise ValueError("cannot index an empty boundary")
        x_lo = min(seg[:, 0].min(), seg[:, 2].min()) - margin
        x_hi = max(seg[:, 0].max(), seg[:, 2].max()) + margin
        y_lo = min(seg[:, 1].min(), seg[:, 3].min()) - margin
        y_hi = max(seg[:, 1].max(), seg[:, 3].max()) + margin
        extent = max(x_hi - x_lo, y_hi - y_lo, 1.0)
        if cell is None:
            lengths = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
            cell = min(max(2.0 * float(np.quantile(lengths, 0.25)), extent / 2048.0, 1.0), extent / 4.0)
        bounds = (x_lo, y_lo, x_hi, y_hi)
        grids = [_Grid.build(seg, bounds, cell)]
        while grids[-1].cell * 4 < extent / 2:
            grids.append(_Grid.build(seg, bounds, grids[-1].cell * 4))
        ref_inside = None
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            g = grids[0]
            ix, iy = np.meshgrid(np.arange(g.nx), np.arange(g.ny))
            rx = g.x_min + (ix.ravel() + _REF_X) * g.cell
            ry = g.y_min + (iy.ravel() + _REF_Y) * g.cell
            ref_inside = shapely.contains_xy(geom, rx, ry)
        return cls(seg, tuple(grids), ref_inside)

    def contains(self, x, y) -> np.ndarray:
        """Whether each point is inside the indexed polygon (points on the boundary may go either way)."""
        if self.ref_inside is None:
            raise TypeError("this index was built from a line; it has no inside")
        x, y = _f64(x), _f64(y)
        with serial_below(len(x)):
            return _contains(x, y, self.seg, *self.grids[0].args()[:7], self.ref_inside)

    def distance(self, x, y, cap: float = np.inf) -> np.ndarray:
        """Distance from each point to the nearest segment; ``inf`` where it is beyond ``cap``."""
        x, y = _f64(x), _f64(y)
        if len(self.grids) == 1 or len(x) == 0:
            with serial_below(len(x)):
                return _distance(x, y, float(cap), self.seg, *self.grids[0].args())
        # pick for each point the coarsest grid whose cells are no more than a quarter of its clearance
        lead = self.grids[0].clearance_at(x, y)
        cells = np.array([g.cell for g in self.grids])
        level = np.clip(np.searchsorted(cells * 4.0, lead, side="right") - 1, 0, len(self.grids) - 1)
        out = np.empty(len(x))
        for k, grid in enumerate(self.grids):
            sel = np.flatnonzero(level == k)
            if len(sel):
                with serial_below(len(sel)):
                    out[sel] = _distance(x[sel], y[sel], float(cap), self.seg, *grid.args())
        return out

    def first_hit(self, x, y, vx, vy, t_max, rows: np.ndarray | None = None) -> np.ndarray:
        """First ``t`` in (0, t_max] at which ``(x, y) + t (vx, vy)`` meets a segment; ``inf`` if none.

        ``t_max`` is a number or one per point. With ``rows``, only those
        indices of the arrays are asked (no copies are made) and the answer
        has one entry per row.
        """
        x, y, vx, vy = _f64(x), _f64(y), _f64(vx), _f64(vy)
        t_max = _f64(t_max)
        if rows is not None and len(rows) == 0:
            return np.empty(0)
        asked = len(x) if rows is None else len(rows)
        rows = np.empty(0, np.int64) if rows is None else np.require(rows, np.int64, ["C", "W"])
        with serial_below(asked):
            return _first_hit(x, y, vx, vy, t_max, rows, self.seg, *self.grids[0].args())


def _f64(a) -> np.ndarray:
    """A contiguous, writeable float array (a read-only one would be another type to the compiled kernels);
    float32 is kept as it is (the kernels compute in float64)."""
    a = np.atleast_1d(np.asarray(a))
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return np.require(a, requirements=["C", "W"])


@nb.njit(cache=True)
def _bin_segments(seg, x_min, y_min, cell, nx, ny):
    counts = np.zeros(nx * ny + 1, np.int64)
    _visit_cells(seg, x_min, y_min, cell, nx, ny, counts, counts, np.empty(0, np.int32), True)
    for k in range(nx * ny):
        counts[k + 1] += counts[k]
    fill = counts[:-1].copy()
    out = np.empty(counts[-1], np.int32)
    _visit_cells(seg, x_min, y_min, cell, nx, ny, counts, fill, out, False)
    return counts, out


@nb.njit(cache=True)
def _visit_cells(seg, x_min, y_min, cell, nx, ny, counts, fill, out, counting):
    """Count (``counting``) or record the cells each segment passes through."""
    for s in range(seg.shape[0]):
        ax, ay, bx, by = seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3]
        i0 = int((min(ax, bx) - x_min) // cell)
        i1 = int((max(ax, bx) - x_min) // cell)
        j0 = int((min(ay, by) - y_min) // cell)
        j1 = int((max(ay, by) - y_min) // cell)
        for j in range(max(j0, 0), min(j1, ny - 1) + 1):
            for i in range(max(i0, 0), min(i1, nx - 1) + 1):
                if not _segment_touches_cell(ax, ay, bx, by, x_min + i * cell, y_min + j * cell, cell):
                    continue
                k = j * nx + i
                if counting:
                    counts[k + 1] += 1
                else:
                    out[fill[k]] = s
                    fill[k] += 1


@nb.njit(cache=True, inline="always")
def _segment_touches_cell(ax, ay, bx, by, cx, cy, cell):
    """Conservative test: the segment's line passes within a hair of the square cell."""
    eps = cell * 1e-9
    dx, dy = bx - ax, by - ay
    # signed side of the four corners relative to the segment's line
    s0 = dx * (cy - ay) - dy * (cx - ax)
    s1 = dx * (cy - ay) - dy * (cx + cell - ax)
    s2 = dx * (cy + cell - ay) - dy * (cx - ax)
    s3 = dx * (cy + cell - ay) - dy * (cx + cell - ax)
    tol = eps * (abs(dx) + abs(dy))
    if min(min(s0, s1), min(s2, s3)) > tol or max(max(s0, s1), max(s2, s3)) < -tol:
        return False
    return True


@nb.njit(cache=True, inline="always")
def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@nb.njit(cache=True, inline="always")
def _cell_of(x, y, x_min, y_min, cell, nx, ny):
    i = int((x - x_min) // cell)
    j = int((y - y_min) // cell)
    return min(max(i, 0), nx - 1), min(max(j, 0), ny - 1), (0 <= i < nx) and (0 <= j < ny)


@nb.njit(cache=True, parallel=True)
def _contains(x, y, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg, ref_inside):
    n = x.shape[0]
    out = np.zeros(n, np.bool_)
    for p in nb.prange(n):
        px, py = x[p], y[p]
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        i, j, in_grid = _cell_of(px, py, x_min, y_min, cell, nx, ny)
        if not in_grid:
            continue
        k = j * nx + i
        rx = x_min + (i + _REF_X) * cell
        ry = y_min + (j + _REF_Y) * cell
        inside = ref_inside[k]
        for q in range(cell_start[k], cell_start[k + 1]):
            s = cell_seg[q]
            cx, cy, dx, dy = seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3]
            # symbolic perturbation: an endpoint on the line ref->p counts as on the positive side
            sc = _orient(rx, ry, px, py, cx, cy) >= 0.0
            sd = _orient(rx, ry, px, py, dx, dy) >= 0.0
            if sc == sd:
                continue
            oa = _orient(cx, cy, dx, dy, rx, ry)
            ob = _orient(cx, cy, dx, dy, px, py)
            if (oa > 0.0 and ob < 0.0) or (oa < 0.0 and ob > 0.0):
                inside = not inside
        out[p] = inside
    return out


@nb.njit(cache=True, inline="always")
def _point_segment_distance2(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / l2 if l2 > 0.0 else 0.0
    t = min(max(t, 0.0), 1.0)
    ex, ey = ax + t * dx - px, ay + t * dy - py
    return ex * ex + ey * ey


@nb.njit(cache=True)
def _distance_one(px, py, cap, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg, clearance):
    i, j, in_grid = _cell_of(px, py, x_min, y_min, cell, nx, ny)
    if in_grid:
        lead = clearance[j * nx + i]
    else:
        # distance to the grid box is a lower bound for the clamped cell's search as well
        gx = min(max(px, x_min), x_min + nx * cell)
        gy = min(max(py, y_min), y_min + ny * cell)
        lead = np.hypot(px - gx, py - gy)
    if lead > cap:
        return np.inf
    best2 = np.inf
    # rings whose farthest point is nearer than the clearance hold no segment
    r = max(int(lead / (cell * 1.4143)) - 1, 0) if in_grid else 0
    r_max = max(nx, ny)
    while r <= r_max:
        ring_lb = (r - 1) * cell
        if ring_lb > 0.0 and ring_lb * ring_lb > best2:
            break
        if ring_lb > cap:
            break
        for jj in range(j - r, j + r + 1):
            if jj < 0 or jj >= ny:
                continue
            edge_row = jj == j - r or jj == j + r
            step = 1 if edge_row else 2 * r
            ii = i - r
            while ii <= i + r:
                if 0 <= ii < nx:
                    k = jj * nx + ii
                    for q in range(cell_start[k], cell_start[k + 1]):
                        s = cell_seg[q]
                        d2 = _point_segment_distance2(px, py, seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3])
                        if d2 < best2:
                            best2 = d2
                ii += step
        r += 1
    d = np.sqrt(best2)
    return d if d <= cap else np.inf


@nb.njit(cache=True, parallel=True)
def _distance(x, y, cap, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg, clearance):
    n = x.shape[0]
    out = np.empty(n)
    for p in nb.prange(n):
        if np.isfinite(x[p]) and np.isfinite(y[p]):
            out[p] = _distance_one(x[p], y[p], cap, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg,
                                   clearance)
        else:
            out[p] = np.nan
    return out


@nb.njit(cache=True, inline="always")
def _ray_segment(px, py, vx, vy, ax, ay, bx, by):
    """Smallest t >= 0 with p + t v on segment ab, or inf."""
    ex, ey = bx - ax, by - ay
    den = vx * ey - vy * ex
    if den == 0.0:
        return np.inf
    wx, wy = ax - px, ay - py
    t = (wx * ey - wy * ex) / den
    u = (wx * vy - wy * vx) / den
    if t < 0.0 or u < 0.0 or u > 1.0:
        return np.inf
    return t


@nb.njit(cache=True)
def _first_hit_one(px, py, vx, vy, t_max, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg, clearance):
    speed = np.hypot(vx, vy)
    if not (speed > 0.0) or not (t_max > 0.0):
        return np.inf
    x_max, y_max = x_min + nx * cell, y_min + ny * cell
    # clip the ray to the grid box (slab method)
    t0, t1 = 0.0, t_max
    if vx != 0.0:
        ta, tb = (x_min - px) / vx, (x_max - px) / vx
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    elif not (x_min <= px <= x_max):
        return np.inf
    if vy != 0.0:
        ta, tb = (y_min - py) / vy, (y_max - py) / vy
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    elif not (y_min <= py <= y_max):
        return np.inf
    if t0 > t1:
        return np.inf
    sx, sy = px + t0 * vx, py + t0 * vy
    i, j, _ = _cell_of(sx, sy, x_min, y_min, cell, nx, ny)
    if t0 == 0.0 and clearance[j * nx + i] > speed * t_max:
        return np.inf
    step_i = 1 if vx > 0 else -1
    step_j = 1 if vy > 0 else -1
    if vx != 0.0:
        next_x = x_min + (i + (1 if vx > 0 else 0)) * cell
        t_next_x = (next_x - px) / vx
        dt_x = cell / abs(vx)
    else:
        t_next_x, dt_x = np.inf, np.inf
    if vy != 0.0:
        next_y = y_min + (j + (1 if vy > 0 else 0)) * cell
        t_next_y = (next_y - py) / vy
        dt_y = cell / abs(vy)
    else:
        t_next_y, dt_y = np.inf, np.inf
    best = np.inf
    while True:
        k = j * nx + i
        for q in range(cell_start[k], cell_start[k + 1]):
            s = cell_seg[q]
            t = _ray_segment(px, py, vx, vy, seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3])
            if t < best:
                best = t
        t_leave = min(t_next_x, t_next_y)
        if best <= t_leave or t_leave > t1:
            break
        if t_next_x < t_next_y:
            i += step_i
            t_next_x += dt_x
        else:
            j += step_j
            t_next_y += dt_y
        if i < 0 or i >= nx or j < 0 or j >= ny:
            break
    return best if (best <= t_max and best > 0.0) else np.inf


@nb.njit(cache=True, parallel=True)
def _first_hit(x, y, vx, vy, t_max, rows, seg, x_min, y_min, cell, nx, ny, cell_start, cell_seg, clearance):
    use_rows = rows.shape[0] > 0
    n = rows.shape[0] if use_rows else x.shape[0]
    out = np.empty(n)
    for p in nb.prange(n):
        i = np.int64(p)
        if use_rows:
            i = np.int64(rows[p])
        tm = t_max[0]
        if t_max.shape[0] > 1:
            tm = t_max[i]
        if np.isfinite(x[i]) and np.isfinite(y[i]) and np.isfinite(vx[i]) and np.isfinite(vy[i]):
            out[p] = _first_hit_one(x[i], y[i], vx[i], vy[i], tm, seg, x_min, y_min, cell, nx, ny,
                                    cell_start, cell_seg, clearance)
        else:
            out[p] = np.inf
    return out
