"""Encounters: a pair's conflict over time, from aligned snapshots, merged into one event.

Each snapshot gives, for every pair at or above the encounter level (WARNING
by default), its separation now and its predicted closest approach. Rows of
the same pair of flights at consecutive instants, with gaps no longer than
``merge_gap``, make one encounter: its start and end, the minimum horizontal
separation (refined between instants with the closest point of approach, so a
coarse step does not miss the minimum) and when it happened, the vertical
separation there (absolute; which aircraft was above is the sign of
``vertical_at_min``) and the least over the encounter, the highest level, when
separation was first lost, and the warning time: from the first WARNING of the
encounter to that loss (whatever level the encounter started at).

Before merging, predicted levels go through M-of-N persistence
(:mod:`skyfence.detect.alerting`): an alert of a single instant is no alert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skyfence.detect.alerting import m_of_n
from skyfence.detect.conflicts import LOSS, NMAC, WARNING, ConflictRules, PairFigures


@dataclass(frozen=True)
class Encounters:
    """One entry per encounter; flights are indices given by the caller's ``flight`` array."""

    flight_a: np.ndarray
    flight_b: np.ndarray
    first: np.ndarray  # index of the first snapshot row of the encounter in the sorted pair rows
    start: np.ndarray
    end: np.ndarray
    min_horizontal: np.ndarray
    time_of_min: np.ndarray
    vertical_at_min: np.ndarray  # signed: b above a is positive
    min_vertical: np.ndarray
    max_level: np.ndarray
    loss_time: np.ndarray  # NaN when separation was never lost
    warning_time: np.ndarray  # from the first WARNING; NaN when no loss, or the pair was first seen already in loss
    state_a: np.ndarray  # snapshot state index of aircraft a at the minimum
    state_b: np.ndarray
    snapshots: np.ndarray
    last_level: np.ndarray  # the level at the encounter's last instant (below max_level once it eased)

    def __len__(self) -> int:
        return len(self.start)


def merge_encounters(figs: PairFigures, time: np.ndarray, group: np.ndarray, flight: np.ndarray, step: float,
                     merge_gap: float, rules: ConflictRules, present: np.ndarray | None = None,
                     min_level: int = 0, alerting: tuple[int, int] = (1, 1)) -> Encounters:
    """Merge per-instant pair rows into encounters.

    Between two instants the pair follows its predicted straight lines: a
    closest approach that falls before the next instant counts, for the
    minimum separation and for the level (a loss or a near collision that
    happens between two instants is not missed).

    ``time``, ``group`` and ``flight`` are per snapshot state (the indices in
    ``figs``). ``present`` (sorted keys ``flight * G + group`` of every state,
    from :func:`presence_keys`) tells whether a pair first seen in loss had
    been seen before without a warning (without it such pairs get no warning
    time), and keeps a hole in one aircraft's data from splitting an
    encounter: a gap longer than ``merge_gap`` splits only when both aircraft
    were seen during it.

    ``alerting`` is the M-of-N persistence ``(m, n)`` applied to the predicted levels first; rows left
    below ``min_level`` are dropped.
    """
    fa, fb = flight[figs.a], flight[figs.b]
    swap = fa > fb
    key_a, key_b = np.where(swap, fb, fa), np.where(swap, fa, fb)
    sa, sb = np.where(swap, figs.b, figs.a), np.where(swap, figs.a, figs.b)
    sign = np.where(swap, -1.0, 1.0)
    g = group[figs.a]
    order = np.lexsort((g, key_b, key_a))
    key_a, key_b, g, sa, sb, sign = key_a[order], key_b[order], g[order], sa[order], sb[order], sign[order]
    h0, dcpa, tcpa = figs.horizontal[order], figs.d_cpa[order], figs.t_cpa[order]
    v0, vcpa = figs.vertical[order] * sign, figs.v_cpa[order] * sign
    tlos = figs.t_los[order]
    level = m_of_n(figs.level[order], key_a, key_b, g, *alerting)
    raw_level = figs.level[order]
    if min_level > 0 and (level < min_level).any():
        keep = level >= min_level
        key_a, key_b, g, sa, sb, sign = key_a[keep], key_b[keep], g[keep], sa[keep], sb[keep], sign[keep]
        h0, dcpa, tcpa, v0, vcpa = h0[keep], dcpa[keep], tcpa[keep], v0[keep], vcpa[keep]
        level, tlos, raw_level = level[keep], tlos[keep], raw_level[keep]
    t = time[sa]
    m = len(level)
    if m == 0:
        e, i = np.empty(0), np.empty(0, np.int64)
        return Encounters(i, i, i, e, e, e, e, e, e, np.empty(0, np.int8), e, e, i, i, i, np.empty(0, np.int8))
    max_steps = max(int(round(merge_gap / step)), 1)
    new = np.ones(m, dtype=bool)
    same_pair = (key_a[1:] == key_a[:-1]) & (key_b[1:] == key_b[:-1])
    long_gap = g[1:] - g[:-1] > max_steps
    if present is not None and long_gap.any():
        # a long gap splits the encounter only if both aircraft were seen in it (not a hole in the data)
        k = np.flatnonzero(same_pair & long_gap)
        seen_a = _count_present(present, key_a[k], g[k] + 1, g[k + 1] - 1, group)
        seen_b = _count_present(present, key_b[k], g[k] + 1, g[k + 1] - 1, group)
        unobserved = np.minimum(seen_a, seen_b) < max_steps
        long_gap[k[unobserved]] = False
    new[1:] = ~same_pair | long_gap
    first = np.flatnonzero(new)
    seg = np.cumsum(new) - 1
    last = np.r_[first[1:] - 1, m - 1]

    # the closest approach of each row: now, or at its predicted CPA if that falls before the next instant
    within = tcpa <= step
    row_min = np.where(within, np.minimum(dcpa, h0), h0)
    row_t = np.where(within & (dcpa < h0), t + tcpa, t)
    row_v = np.where(within & (dcpa < h0), vcpa, v0)
    between = within & (dcpa < h0)
    with np.errstate(invalid="ignore"):
        vclose = np.where(np.isnan(vcpa), 0.0, np.abs(vcpa))
    level[between & (dcpa < rules.sep_h) & (vclose < rules.sep_v) & (level < LOSS)] = LOSS
    level[between & (dcpa < rules.nmac_h) & (vclose < rules.nmac_v)] = NMAC
    best = _argmin_by_segment(row_min, seg, len(first))

    absv = np.abs(v0)
    min_v = np.full(len(first), np.inf)
    np.minimum.at(min_v, seg, np.where(np.isnan(absv), np.inf, absv))
    max_level = np.zeros(len(first), np.int8)
    np.maximum.at(max_level, seg, level)

    # first loss: the first LOSS row, refined by the previous row's predicted time to loss
    idx = np.flatnonzero(level >= LOSS)
    loss_row = np.full(len(first), m, np.int64)
    np.minimum.at(loss_row, seg[idx], idx)
    loss_time = np.full(len(first), np.nan)
    has = loss_row < m
    lr = loss_row[has]
    # a row upgraded between instants lost separation at its own predicted time; a LOSS row at the
    # instant, at the previous row's predicted time if that fell before this instant
    lt = np.where(raw_level[lr] >= LOSS, t[lr], t[lr] + np.nan_to_num(tlos[lr]))
    prev_ok = (lr > first[has]) & (raw_level[lr] >= LOSS)
    refine = prev_ok & (tlos[np.maximum(lr - 1, 0)] <= step)
    lt[refine] = t[lr[refine] - 1] + tlos[lr[refine] - 1]
    loss_time[has] = lt
    # warning time runs from the first WARNING (an encounter may start at CAUTION)
    idx = np.flatnonzero(level >= WARNING)
    warn_row = np.full(len(first), m, np.int64)
    np.minimum.at(warn_row, seg[idx], idx)
    warning_time = loss_time - t[np.minimum(warn_row, m - 1)]
    starts_in_loss = has & (loss_row == warn_row)
    if present is not None and starts_in_loss.any():
        k = np.flatnonzero(starts_in_loss)
        seen = _present(present, key_a[loss_row[k]], g[loss_row[k]] - 1, group) & \
            _present(present, key_b[loss_row[k]], g[loss_row[k]] - 1, group)
        warning_time[k] = np.where(seen, 0.0, np.nan)  # seen before without warning: no warning at all
    else:
        warning_time[starts_in_loss] = np.nan
    return Encounters(key_a[first], key_b[first], first, t[first], t[last], row_min[best], row_t[best], row_v[best],
                      np.where(np.isfinite(min_v), min_v, np.nan), max_level, loss_time, warning_time, sa[best],
                      sb[best], last - first + 1, level[last].astype(np.int8))


def presence_keys(flight: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Sorted keys of (flight, instant) for every aligned state."""
    return np.sort(flight.astype(np.int64) * (int(group.max()) + 2 if len(group) else 1) + group)


def _count_present(keys: np.ndarray, flight: np.ndarray, g0: np.ndarray, g1: np.ndarray,
                   all_groups: np.ndarray) -> np.ndarray:
    """How many instants in g0..g1 each flight was seen at."""
    width = int(all_groups.max()) + 2
    base = flight.astype(np.int64) * width
    return np.searchsorted(keys, base + g1, side="right") - np.searchsorted(keys, base + g0, side="left")


def _present(keys: np.ndarray, flight: np.ndarray, group: np.ndarray, all_groups: np.ndarray) -> np.ndarray:
    width = int(all_groups.max()) + 2
    q = flight.astype(np.int64) * width + group
    pos = np.searchsorted(keys, q)
    return (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == q) & (group >= 0)


def _argmin_by_segment(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Index of the smallest value of each segment (the first one on ties)."""
    order = np.lexsort((np.arange(len(values)), values, seg))
    first_of_seg = np.r_[True, seg[order][1:] != seg[order][:-1]]
    out = np.empty(n, np.int64)
    out[seg[order][first_of_seg]] = order[first_of_seg]
    return out
