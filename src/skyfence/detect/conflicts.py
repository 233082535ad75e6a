"""The conflict engine: separation now and under straight-line prediction, for every pair that matters.

For a pair of aircraft at one instant it gives the current horizontal and
vertical separation, the time and horizontal distance of the closest point of
approach within the look-ahead, the time at which separation would be lost,
and an alert level:

========  ===========================================================================
level     when
========  ===========================================================================
CAUTION   predicted horizontal miss distance below ``caution_horizontal`` within the
          look-ahead (and below ``caution_vertical``, when one is set)
WARNING   predicted loss of separation (horizontal *and* vertical minimum) within the
          look-ahead
LOSS      separation lost now
NMAC      near mid-air collision now: inside ``nmac_horizontal`` and ``nmac_vertical``
========  ===========================================================================

The one comparison rule: a separation is infringed when it is *strictly below*
the threshold (by more than a micrometre, so that rounding in unit
conversions cannot decide). The vertical separation minimum is first reduced by
``vertical_tolerance`` (default 100 ft): altitudes are reported in 25 ft steps
and aircraft level at flight levels 1000 ft apart read anywhere from about 900
to 1000 ft apart (seen in real en-route data), so 1000 ft apart is not a loss.
The NMAC box is compared as reported. Vertical rates below ``level_rate``
(default 250 ft/min, about four 64 ft/min reporting steps) count as level flight
in the prediction, so rate noise does not forecast climbs that are not
happening. An aircraft whose altitude is unknown is treated as co-altitude.

Candidates come from :mod:`skyfence.detect.pairs`, never from all pairs, and
the result is exactly the set a brute-force all-pairs computation gives; tests
hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.agreement.model import SeparationThresholds
from skyfence.detect.pairs import cell_runs, decode
from skyfence.detect.search_memo import SearchMemo
from skyfence.geo.ecef import ground_velocity, surface_position, up_vector
from skyfence.parallel import serial_below

LEVELS = ("none", "caution", "warning", "loss", "nmac")
NONE, CAUTION, WARNING, LOSS, NMAC = range(5)
PAIR_MODES = ("parties", "unknown", "all")
_MIN_CELL = 3200.0  # metres; keeps grid keys in range anywhere on Earth
_ROUNDING = 1e-6  # metres


@dataclass(frozen=True)
class ConflictRules:
    """Thresholds in SI, as the engine applies them."""

    caution_h: float
    caution_v: float  # inf when no vertical limit
    sep_h: float
    sep_v: float  # the vertical minimum less the tolerance
    lookahead: float
    nmac_h: float
    nmac_v: float
    level_rate: float

    @classmethod
    def from_thresholds(cls, th: SeparationThresholds) -> "ConflictRules":
        """Every distance threshold less a micrometre, so that rounding in unit conversions
        (feet to metres) cannot turn "exactly at" into "below"."""
        e = _ROUNDING
        sep_v = th.vertical - th.vertical_tolerance - e
        caution_v = np.inf if th.caution_vertical is None else th.caution_vertical - th.vertical_tolerance - e
        return cls(th.caution_horizontal - e, caution_v, th.horizontal - e, sep_v, th.lookahead,
                   th.nmac_horizontal - e, th.nmac_vertical - e, th.level_rate)


@dataclass(frozen=True)
class StateVectors:
    """Aircraft states prepared for the engine (ECEF surface position and velocity)."""

    pos: np.ndarray  # (n, 3)
    vel: np.ndarray  # (n, 3)
    up: np.ndarray  # (n, 3)
    alt: np.ndarray  # m, NaN unknown
    vz: np.ndarray  # m/s, 0 where unknown
    speed: np.ndarray  # m/s

    @classmethod
    def from_arrays(cls, lon, lat, alt, ground_speed, track, vertical_rate) -> "StateVectors":
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        gs = np.nan_to_num(np.asarray(ground_speed, dtype=float))
        trk = np.nan_to_num(np.asarray(track, dtype=float))
        return cls(surface_position(lon, lat), ground_velocity(lon, lat, gs, trk), up_vector(lon, lat),
                   np.asarray(alt, dtype=float), np.nan_to_num(np.asarray(vertical_rate, dtype=float)), gs)

    def __len__(self) -> int:
        return len(self.alt)

    def take(self, rows: np.ndarray) -> "StateVectors":
        """The states of ``rows``."""
        return StateVectors(*(np.take(getattr(self, f), rows, axis=0) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class PairFigures:
    """Figures for each pair ``(a, b)`` (indices into the states), one entry per pair."""

    a: np.ndarray
    b: np.ndarray
    horizontal: np.ndarray  # m, now
    vertical: np.ndarray  # m, now (b above a is positive); NaN when unknown
    t_cpa: np.ndarray  # s, within [0, look-ahead]
    d_cpa: np.ndarray  # m, horizontal miss distance
    v_cpa: np.ndarray  # m, vertical separation at the closest point (signed)
    t_los: np.ndarray  # s until separation is lost (0 when lost now); NaN when not predicted
    level: np.ndarray  # int8, NONE..NMAC

    def __len__(self) -> int:
        return len(self.a)

    def take(self, keep: np.ndarray) -> "PairFigures":
        return PairFigures(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def allowed_pairs(n_parties: int, mode: str) -> np.ndarray:
    """Which party codes may pair: codes ``0..n-1`` are parties, ``n`` is unknown."""
    if mode not in PAIR_MODES:
        raise ValueError(f"pairs must be one of {', '.join(PAIR_MODES)}, not {mode!r}")
    k = n_parties + 1
    code = np.arange(k)
    known = code < n_parties
    allowed = (code[:, None] != code[None, :]) & known[:, None] & known[None, :]
    if mode in ("unknown", "all"):
        allowed |= (known[:, None] & ~known[None, :]) | (~known[:, None] & known[None, :])
    if mode == "all":
        allowed[:] = True
    return allowed


def find_conflicts(sv: StateVectors, rules: ConflictRules, group: np.ndarray | None = None,
                   code: np.ndarray | None = None, allowed: np.ndarray | None = None,
                   min_level: int = CAUTION, memo: SearchMemo | None = None) -> PairFigures:
    """Pairs at ``min_level`` or above, among states of the same ``group`` (an instant).

    ``code`` and ``allowed`` restrict which aircraft may pair (see
    :func:`allowed_pairs`); without them every pair is considered. With a ``memo`` (the live monitor's, kept
    between its detection runs) the instants searched before with the same states are not searched again
    (:mod:`skyfence.detect.search_memo`); the pairs are the same, instant by instant.
    """
    n = len(sv)
    group = np.zeros(n, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    if allowed is None:
        allowed = np.ones((1, 1), dtype=np.bool_)
        code = np.zeros(n, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    if n < 2:
        return evaluate_pairs(sv, np.empty(0, np.int64), np.empty(0, np.int64), rules)
    with serial_below(n):
        vz = _level_rate(sv.vz, rules.level_rate)
        if memo is None:
            a, b = _pairs(sv, vz, rules, group, code, allowed, min_level)
        else:
            def search(sub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                a, b = _pairs(sv.take(sub), vz[sub], rules, group[sub], code[sub], allowed, min_level)
                return sub[a], sub[b]

            kind = (rules, min_level, allowed.shape, allowed.tobytes())
            a, b = memo.pairs(kind, (sv.pos, sv.vel, sv.alt, vz, code.astype(np.float64)), group, search)
        return evaluate_pairs(sv, a, b, rules)


def _pairs(sv: StateVectors, vz: np.ndarray, rules: ConflictRules, group: np.ndarray, code: np.ndarray,
           allowed: np.ndarray, min_level: int) -> tuple[np.ndarray, np.ndarray]:
    """The qualifying pairs, searched in parts of whole instants."""
    lo, hi, cell = _swept_boxes(sv, rules, min_level)
    found = [_search(sv, vz, lo, hi, cell, rules, group, code, allowed, min_level, part)
             for part in _parts(group, SEARCH_STATES)]
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


SEARCH_STATES = 1 << 19
"""States searched at once, whole instants at a time. Each state's box is kept in up to 8 cells, with its vectors
beside it, so memory grows with the states searched together: several GB for a monitor window of 10,000 aircraft
in one search. Instants never pair, so searching them in parts finds the same pairs in the same order, and the
parts are faster too (2 million snapshot states within 60 km: 8.7 s at once, 3.9 s in parts of this size)."""


def _parts(group: np.ndarray, size: int) -> list[np.ndarray | None]:
    """The states in parts of whole groups, about ``size`` states each, in group order (``[None]``: all at once).
    Each part's indices are ascending, so that within a part the states keep their order."""
    if len(group) <= size:
        return [None]
    _, at, counts = np.unique(group, return_inverse=True, return_counts=True)
    part_of_group = (np.cumsum(counts) - counts) // size  # by where each group starts: non-decreasing
    part = part_of_group[at]
    order = np.argsort(part, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(part[order])) + 1)


def _search(sv: StateVectors, vz: np.ndarray, lo: np.ndarray, hi: np.ndarray, cell: float, rules: ConflictRules,
            group: np.ndarray, code: np.ndarray, allowed: np.ndarray, min_level: int,
            part: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The qualifying pairs among the states of ``part`` (all when None), as indices into ``sv``."""
    if part is not None:
        lo, hi, group = (np.take(a, part, axis=0) for a in (lo, hi, group))
    keys, ids, bounds, boxes, corner = cell_runs(lo, hi, group, cell)
    if part is not None:
        ids = part[ids]
    # room for every pair that shares a cell: linear in the traffic at a given density
    sizes = np.diff(bounds)
    room = np.r_[0, np.cumsum(sizes * (sizes - 1) // 2)]

    def take(a: np.ndarray) -> np.ndarray:
        """Each entry's state in run order, so that the scan reads memory in sequence (np.take gathers rows
        several times faster than indexing)."""
        return np.take(a, ids, axis=0)

    return _qualifying_pairs(keys, ids, bounds, boxes, corner, allowed, take(np.asarray(code, np.int64)), room,
                             min_level, take(sv.pos), take(sv.vel), take(sv.up), take(sv.alt), take(vz),
                             rules.caution_h, rules.caution_v, rules.sep_h, rules.sep_v, rules.lookahead,
                             rules.nmac_h, rules.nmac_v)


def evaluate_pairs(sv: StateVectors, i: np.ndarray, j: np.ndarray, rules: ConflictRules) -> PairFigures:
    """The figures and level of the given pairs (any pairs: this is also the brute-force path)."""
    with serial_below(len(i)):
        return PairFigures(i, j, *_evaluate(*_kernel_args(sv, i, j, rules)))


def pair_levels(sv: StateVectors, i: np.ndarray, j: np.ndarray, rules: ConflictRules) -> np.ndarray:
    """Only the level of each given pair."""
    with serial_below(len(i)):
        return _levels(*_kernel_args(sv, i, j, rules))


def _kernel_args(sv: StateVectors, i, j, rules: ConflictRules):
    return (sv.pos, sv.vel, sv.up, sv.alt, _level_rate(sv.vz, rules.level_rate), np.asarray(i, np.int64),
            np.asarray(j, np.int64), rules.caution_h, rules.caution_v, rules.sep_h, rules.sep_v, rules.lookahead,
            rules.nmac_h, rules.nmac_v)


def _level_rate(vz: np.ndarray, band: float) -> np.ndarray:
    return np.where(np.abs(vz) < band, 0.0, vz)


def _swept_boxes(sv: StateVectors, rules: ConflictRules, min_level: int):
    """Boxes around each aircraft's straight path over the look-ahead, widened for the distance of interest."""
    reach = rules.caution_h if min_level <= CAUTION else rules.sep_h
    if min_level >= LOSS:
        reach, horizon = rules.sep_h if min_level == LOSS else rules.nmac_h, 0.0
    else:
        horizon = rules.lookahead
    v_max = float(sv.speed.max()) if len(sv) else 0.0
    # the engine measures horizontally, the boxes in 3-D: allow for the pair's vertical offset (see module doc)
    offset = 0.01 * (reach + 2 * v_max * horizon) + 100.0
    r = 0.5 * np.hypot(reach, offset) + 10.0
    end = sv.pos + sv.vel * horizon
    lo = np.minimum(sv.pos, end) - r
    hi = np.maximum(sv.pos, end) + r
    extent = np.median(np.max(hi - lo, axis=1)) if len(sv) else 1.0
    return lo, hi, max(float(extent), _MIN_CELL)


@nb.njit(cache=True, inline="always")
def _window(dhx, dhy, dhz, whx, why, whz, h, dz0, wz, v, horizon, alt_known):
    """The time interval within [0, horizon] where horizontal < h and vertical < v; (inf, -inf) if none."""
    a2 = whx * whx + why * why + whz * whz
    b2 = dhx * whx + dhy * why + dhz * whz
    c = dhx * dhx + dhy * dhy + dhz * dhz - h * h
    if a2 <= 1e-18:
        if c < 0.0:
            h_in, h_out = -np.inf, np.inf
        else:
            return np.inf, -np.inf
    else:
        disc = b2 * b2 - a2 * c
        if disc <= 0.0:
            return np.inf, -np.inf
        sq = np.sqrt(disc)
        h_in, h_out = (-b2 - sq) / a2, (-b2 + sq) / a2
    if not alt_known or not np.isfinite(v):
        v_in, v_out = -np.inf, np.inf
    elif wz == 0.0:
        if abs(dz0) < v:
            v_in, v_out = -np.inf, np.inf
        else:
            return np.inf, -np.inf
    else:
        t1, t2 = (-v - dz0) / wz, (v - dz0) / wz
        v_in, v_out = min(t1, t2), max(t1, t2)
    lo = max(max(h_in, v_in), 0.0)
    hi = min(min(h_out, v_out), horizon)
    if lo < hi:
        return lo, hi
    return np.inf, -np.inf


@nb.njit(cache=True, inline="always")
def _pair(pos, vel, up, alt, vz, a, b, caution_h, caution_v, sep_h, sep_v, horizon, nmac_h, nmac_v):
    """Figures of one pair: horizontal, vertical, t_cpa, d_cpa, v_cpa, t_los, level."""
    ux, uy, uz = up[a, 0] + up[b, 0], up[a, 1] + up[b, 1], up[a, 2] + up[b, 2]
    un = np.sqrt(ux * ux + uy * uy + uz * uz)
    ux, uy, uz = ux / un, uy / un, uz / un
    dx, dy, dz = pos[b, 0] - pos[a, 0], pos[b, 1] - pos[a, 1], pos[b, 2] - pos[a, 2]
    wx, wy, wzz = vel[b, 0] - vel[a, 0], vel[b, 1] - vel[a, 1], vel[b, 2] - vel[a, 2]
    du = dx * ux + dy * uy + dz * uz
    wu = wx * ux + wy * uy + wzz * uz
    dhx, dhy, dhz = dx - du * ux, dy - du * uy, dz - du * uz
    whx, why, whz = wx - wu * ux, wy - wu * uy, wzz - wu * uz
    h0 = np.sqrt(dhx * dhx + dhy * dhy + dhz * dhz)
    a2 = whx * whx + why * why + whz * whz
    tc = 0.0
    if a2 > 1e-18:
        tc = -(dhx * whx + dhy * why + dhz * whz) / a2
        tc = min(max(tc, 0.0), horizon)
    cx, cy, cz = dhx + whx * tc, dhy + why * tc, dhz + whz * tc
    alt_known = np.isfinite(alt[a]) and np.isfinite(alt[b])
    dz0 = alt[b] - alt[a] if alt_known else np.nan
    wz = vz[b] - vz[a]
    adz = abs(dz0) if alt_known else 0.0
    lvl = NONE
    t_los = np.nan
    lo, hi = _window(dhx, dhy, dhz, whx, why, whz, caution_h, dz0, wz, caution_v, horizon, alt_known)
    if lo < hi:
        lvl = CAUTION
        lo, hi = _window(dhx, dhy, dhz, whx, why, whz, sep_h, dz0, wz, sep_v, horizon, alt_known)
        if lo < hi:
            lvl = WARNING
            t_los = lo
            if h0 < sep_h and adz < sep_v:
                lvl = LOSS
                t_los = 0.0
                if h0 < nmac_h and adz < nmac_v:
                    lvl = NMAC
    v_cpa = dz0 + wz * tc if alt_known else np.nan
    return h0, dz0, tc, np.sqrt(cx * cx + cy * cy + cz * cz), v_cpa, t_los, lvl


@nb.njit(cache=True, parallel=True)
def _qualifying_pairs(keys, ids, bounds, boxes, corner, allowed, code, room, min_level, pos, vel, up, alt, vz,
                      caution_h, caution_v, sep_h, sep_v, horizon, nmac_h, nmac_v):
    """Pairs whose boxes overlap (each reported by one cell) and whose level reaches ``min_level``.

    One pass: each cell writes into its own room, then the rooms are packed. ``code`` and the state
    arrays are per entry (in run order).
    """
    runs = bounds.shape[0] - 1
    buf_a = np.empty(room[-1], np.int32)
    buf_b = np.empty(room[-1], np.int32)
    found = np.zeros(runs, np.int64)
    for r in nb.prange(runs):
        s, e = bounds[r], bounds[r + 1]
        if e - s < 2:
            continue
        ix, iy, iz = decode(keys[s])
        w = room[r]
        for p in range(s, e):
            a = ids[p]
            allowed_a = allowed[code[p]]
            x0, y0, z0, x1, y1, z1 = boxes[p, 0], boxes[p, 1], boxes[p, 2], boxes[p, 3], boxes[p, 4], boxes[p, 5]
            cx, cy, cz = corner[p, 0], corner[p, 1], corner[p, 2]
            for q in range(p + 1, e):
                # overlap, then ownership: this cell holds the larger of the two low corners
                # (written out here: as a helper function the scan runs three times slower)
                if (boxes[q, 0] > x1 or x0 > boxes[q, 3] or boxes[q, 1] > y1 or y0 > boxes[q, 4]
                        or boxes[q, 2] > z1 or z0 > boxes[q, 5]):
                    continue
                if max(cx, corner[q, 0]) != ix or max(cy, corner[q, 1]) != iy or max(cz, corner[q, 2]) != iz:
                    continue
                if not allowed_a[code[q]]:
                    continue
                lvl = _pair(pos, vel, up, alt, vz, p, q, caution_h, caution_v, sep_h, sep_v, horizon,
                            nmac_h, nmac_v)[6]  # the level does not depend on the order of the two
                if lvl >= min_level:
                    b = ids[q]
                    buf_a[w] = min(a, b)
                    buf_b[w] = max(a, b)
                    w += 1
        found[r] = w - room[r]
    start = np.zeros(runs + 1, np.int64)
    for r in range(runs):
        start[r + 1] = start[r] + found[r]
    out_a = np.empty(start[-1], np.int64)
    out_b = np.empty(start[-1], np.int64)
    for r in nb.prange(runs):
        for k in range(found[r]):
            out_a[start[r] + k] = buf_a[room[r] + k]
            out_b[start[r] + k] = buf_b[room[r] + k]
    return out_a, out_b


@nb.njit(cache=True, parallel=True)
def _levels(pos, vel, up, alt, vz, ia, ib, caution_h, caution_v, sep_h, sep_v, horizon, nmac_h, nmac_v):
    level = np.empty(ia.shape[0], np.int8)
    for k in nb.prange(ia.shape[0]):
        level[k] = _pair(pos, vel, up, alt, vz, ia[k], ib[k], caution_h, caution_v, sep_h, sep_v, horizon,
                         nmac_h, nmac_v)[6]
    return level


@nb.njit(cache=True, parallel=True)
def _evaluate(pos, vel, up, alt, vz, ia, ib, caution_h, caution_v, sep_h, sep_v, horizon, nmac_h, nmac_v):
    m = ia.shape[0]
    horizontal, vertical, t_cpa, d_cpa, v_cpa, t_los = (np.empty(m), np.empty(m), np.empty(m), np.empty(m),
                                                        np.empty(m), np.empty(m))
    level = np.empty(m, np.int8)
    for k in nb.prange(m):
        (horizontal[k], vertical[k], t_cpa[k], d_cpa[k], v_cpa[k], t_los[k],
         level[k]) = _pair(pos, vel, up, alt, vz, ia[k], ib[k], caution_h, caution_v, sep_h, sep_v, horizon,
                           nmac_h, nmac_v)
    return horizontal, vertical, t_cpa, d_cpa, v_cpa, t_los, level
