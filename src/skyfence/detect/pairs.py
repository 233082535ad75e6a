"""A uniform 3-D grid over boxes, for finding every overlapping pair once.

Each aircraft's box holds everywhere it can be within the look-ahead, widened
by half the distance of interest; two aircraft can only come that close if
their boxes overlap. Boxes are binned into cubic cells (:func:`cell_runs`).
A scan over each cell's boxes reports a pair only in the one cell that holds
the low corner of the two boxes' intersection (the larger of their low
corners, compared as integer cells), so no pair is reported twice and none is
missed. A ``group`` keeps snapshots apart: only boxes of the same group share
cells, so many instants are searched at once.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_OFFSET = 1 << 20  # cell index offset, so that keys are non-negative


def cell_runs(lo: np.ndarray, hi: np.ndarray, group: np.ndarray, cell: float):
    """The (cell, box) entries sorted by cell: keys, box ids, the bounds of each cell's run, each
    entry's box as a (n, 6) array ``lo, hi`` in run order (so that scans read memory in sequence), and
    the cell of each entry's low corner."""
    keys, ids = _cell_entries(lo, hi, np.asarray(group, dtype=np.int64), cell)
    order = np.argsort(keys, kind="stable")
    keys, ids = keys[order], ids[order]
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    boxes, corner = _entry_boxes(lo, hi, ids, cell)
    return keys, ids, bounds, boxes, corner


@nb.njit(cache=True, parallel=True)
def _entry_boxes(lo, hi, ids, cell):
    """Each entry's box (``lo, hi`` in one row) and the cell of its low corner, in one pass (numpy's row
    gathers and stacking took several times as long, and as many copies of the entries)."""
    m = ids.shape[0]
    boxes = np.empty((m, 6))
    corner = np.empty((m, 3), np.int64)
    for k in nb.prange(m):
        b = ids[k]
        for d in range(3):
            boxes[k, d] = lo[b, d]
            boxes[k, 3 + d] = hi[b, d]
            corner[k, d] = int(np.floor(lo[b, d] / cell))
    return boxes, corner


@nb.njit(cache=True)
def _cell_range(lo, hi, cell, k):
    return (int(np.floor(lo[k, 0] / cell)), int(np.floor(hi[k, 0] / cell)),
            int(np.floor(lo[k, 1] / cell)), int(np.floor(hi[k, 1] / cell)),
            int(np.floor(lo[k, 2] / cell)), int(np.floor(hi[k, 2] / cell)))


@nb.njit(cache=True, inline="always")
def _key(g, ix, iy, iz):
    return (((g * 4096 + (ix + 2048)) * 4096 + (iy + 2048)) * 4096) + (iz + 2048)


@nb.njit(cache=True)
def _cell_entries(lo, hi, group, cell):
    n = lo.shape[0]
    total = 0
    for k in range(n):
        x0, x1, y0, y1, z0, z1 = _cell_range(lo, hi, cell, k)
        total += (x1 - x0 + 1) * (y1 - y0 + 1) * (z1 - z0 + 1)
    keys = np.empty(total, np.int64)
    ids = np.empty(total, np.int64)
    e = 0
    for k in range(n):
        x0, x1, y0, y1, z0, z1 = _cell_range(lo, hi, cell, k)
        for ix in range(x0, x1 + 1):
            for iy in range(y0, y1 + 1):
                for iz in range(z0, z1 + 1):
                    keys[e] = _key(group[k], ix, iy, iz)
                    ids[e] = k
                    e += 1
    return keys, ids


@nb.njit(cache=True, inline="always")
def decode(key):
    iz = key % 4096 - 2048
    key //= 4096
    iy = key % 4096 - 2048
    key //= 4096
    ix = key % 4096 - 2048
    return ix, iy, iz


@nb.njit(cache=True)
def same_instant_within(mine, lo, hi, order, keep, pos, radius):
    """Pairs ``(i, j)`` of each state ``i`` of ``mine`` with the states ``j = order[lo[k]:hi[k]]`` of its instant
    that ``keep`` allows and that are within about ``radius`` (squared distance up to ``radius``² with a hair of
    slack, so that a caller's exact test of the distance keeps the same pairs as over all of them); in the order
    the states are given. Makes no array of every candidate pair (a crossing flight against every aircraft of
    the other party at each instant of it)."""
    empty = np.empty(0, np.int64)
    count = _within(mine, lo, hi, order, keep, pos, radius, empty, empty, False)
    out_i, out_j = np.empty(count, np.int64), np.empty(count, np.int64)
    _within(mine, lo, hi, order, keep, pos, radius, out_i, out_j, True)
    return out_i, out_j


@nb.njit(cache=True)
def _within(mine, lo, hi, order, keep, pos, radius, out_i, out_j, fill):
    """Count the pairs of :func:`same_instant_within`, or with ``fill`` write them."""
    r2 = radius * radius * (1.0 + 1e-9)
    e = 0
    for k in range(len(mine)):
        i = mine[k]
        for q in range(lo[k], hi[k]):
            j = order[q]
            if keep[j]:
                dx, dy, dz = pos[j, 0] - pos[i, 0], pos[j, 1] - pos[i, 1], pos[j, 2] - pos[i, 2]
                if dx * dx + dy * dy + dz * dz <= r2:
                    if fill:
                        out_i[e], out_j[e] = i, j
                    e += 1
    return e
