"""A pair's closest approach, from their aligned states, and the report gaps under a point in time.

An encounter's figures hold while it was alerted; the two aircraft may pass
closest later (or earlier), once the alert has ended. The closest approach is
the least horizontal separation over the encounter widened by the look-ahead
either side: at every instant both aircraft have a state, and between two
consecutive such instants along the straight segment joining them (each
aircraft's aligned states are linear between reports, so nothing is missed
between instants). The vertical separation there is interpolated the same way.

Horizontal separation is the chord between the two surface positions (ECEF):
it differs from the geodesic distance by under a millimetre at 100 km.

Pure functions over arrays: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.kernels import as_kernel_array


@dataclass(frozen=True)
class Closest:
    """Per encounter: the time of the closest approach, the horizontal separation (m), the vertical one
    (m, b above a positive; NaN unknown), and where: the snapshot state of each aircraft at the instant
    before (``state_a``, ``state_b``) and the fraction of a step beyond it (``frac``). ``state_a`` is -1
    when the two were never seen at the same instant."""

    time: np.ndarray
    horizontal: np.ndarray
    vertical: np.ndarray
    state_a: np.ndarray
    state_b: np.ndarray
    frac: np.ndarray

    def __len__(self) -> int:
        return len(self.time)


def flight_starts(snap_flight: np.ndarray) -> np.ndarray:
    """Where each flight's states start in snapshot arrays grouped by flight (non-decreasing flight numbers):
    flight ``f`` is ``starts[f]:starts[f + 1]``."""
    if len(snap_flight) == 0:
        return np.zeros(2, np.int64)
    return np.searchsorted(snap_flight, np.arange(int(snap_flight.max()) + 2)).astype(np.int64)


def closest_approach(pos: np.ndarray, alt: np.ndarray, group: np.ndarray, starts: np.ndarray, t0: float,
                     step: float, flight_a: np.ndarray, flight_b: np.ndarray, g_from: np.ndarray,
                     g_to: np.ndarray) -> Closest:
    """The closest approach of each pair of flights between instants ``g_from`` and ``g_to`` (inclusive).

    ``pos`` (n, 3) ECEF surface positions and ``alt`` per snapshot state, ``group`` its instant, states of a
    flight contiguous and in time order (``starts``, :func:`flight_starts`); instant ``g`` is at
    ``t0 + g * step``.
    """
    t, h, v, sa, sb, fr = _closest(as_kernel_array(pos), as_kernel_array(alt),
                                   as_kernel_array(group, np.int64), as_kernel_array(starts, np.int64),
                                   float(t0), float(step), as_kernel_array(flight_a, np.int64),
                                   as_kernel_array(flight_b, np.int64), as_kernel_array(g_from, np.int64),
                                   as_kernel_array(g_to, np.int64))
    return Closest(t, h, v, sa, sb, fr)


def report_gaps(times: np.ndarray, starts: np.ndarray, flights: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each flight and time: the interval (s) between the flight's two reports around the time (0 when
    a report falls on it, NaN outside its reports). ``times`` sorted within each flight, flight ``f`` being
    ``starts[f]:starts[f + 1]``."""
    return _gaps(as_kernel_array(times), as_kernel_array(starts, np.int64),
                 as_kernel_array(flights, np.int64), as_kernel_array(at))


@nb.njit(cache=True)
def _dist(pos, i, j):
    dx, dy, dz = pos[j, 0] - pos[i, 0], pos[j, 1] - pos[i, 1], pos[j, 2] - pos[i, 2]
    return np.sqrt(dx * dx + dy * dy + dz * dz)


@nb.njit(cache=True)
def _closest(pos, alt, group, starts, t0, step, flight_a, flight_b, g_from, g_to):
    m = flight_a.shape[0]
    out_t = np.full(m, np.nan)
    out_h = np.full(m, np.nan)
    out_v = np.full(m, np.nan)
    out_a = np.full(m, -1, np.int64)
    out_b = np.full(m, -1, np.int64)
    out_f = np.zeros(m)
    nf = starts.shape[0] - 1
    for e in range(m):
        fa, fb = flight_a[e], flight_b[e]
        if fa < 0 or fb < 0 or fa >= nf or fb >= nf:
            continue
        a0, a1 = starts[fa], starts[fa + 1]
        b0, b1 = starts[fb], starts[fb + 1]
        i = a0 + np.searchsorted(group[a0:a1], g_from[e])
        j = b0 + np.searchsorted(group[b0:b1], g_from[e])
        best = np.inf
        prev_i, prev_j = -1, -1
        while i < a1 and j < b1:
            gi, gj = group[i], group[j]
            if gi > g_to[e] or gj > g_to[e]:
                break
            if gi < gj:
                i += 1
                continue
            if gj < gi:
                j += 1
                continue
            d = _dist(pos, i, j)
            if d < best:
                best, out_a[e], out_b[e], out_f[e] = d, i, j, 0.0
            if prev_i >= 0 and group[prev_i] == gi - 1:
                # the straight segment from the previous instant: the least |r0 + s (r1 - r0)| for s in [0, 1]
                r0x = pos[prev_j, 0] - pos[prev_i, 0]
                r0y = pos[prev_j, 1] - pos[prev_i, 1]
                r0z = pos[prev_j, 2] - pos[prev_i, 2]
                wx = pos[j, 0] - pos[i, 0] - r0x
                wy = pos[j, 1] - pos[i, 1] - r0y
                wz = pos[j, 2] - pos[i, 2] - r0z
                w2 = wx * wx + wy * wy + wz * wz
                if w2 > 0.0:
                    s = -(r0x * wx + r0y * wy + r0z * wz) / w2
                    if 0.0 < s < 1.0:
                        cx, cy, cz = r0x + s * wx, r0y + s * wy, r0z + s * wz
                        d = np.sqrt(cx * cx + cy * cy + cz * cz)
                        if d < best:
                            best, out_a[e], out_b[e], out_f[e] = d, prev_i, prev_j, s
            prev_i, prev_j = i, j
            i += 1
            j += 1
        if out_a[e] >= 0:
            ia, ib, s = out_a[e], out_b[e], out_f[e]
            out_h[e] = best
            out_t[e] = t0 + (group[ia] + s) * step
            dz0 = alt[ib] - alt[ia]
            if s > 0.0:
                dz1 = alt[ib + 1] - alt[ia + 1]
                out_v[e] = dz0 + s * (dz1 - dz0)
            else:
                out_v[e] = dz0
    return out_t, out_h, out_v, out_a, out_b, out_f


@nb.njit(cache=True)
def _gaps(times, starts, flights, at):
    out = np.full(flights.shape[0], np.nan)
    nf = starts.shape[0] - 1
    for k in range(flights.shape[0]):
        f = flights[k]
        if f < 0 or f >= nf or not np.isfinite(at[k]):
            continue
        a, b = starts[f], starts[f + 1]
        if b <= a or at[k] < times[a] or at[k] > times[b - 1]:
            continue
        lo = a + np.searchsorted(times[a:b], at[k], side="right") - 1
        if times[lo] == at[k] or lo + 1 >= b:
            out[k] = 0.0
        else:
            out[k] = times[lo + 1] - times[lo]
    return out
