"""Alert persistence, in the manner of DAIDALUS's M-of-N alerting: no alert on one instant's say-so.

A predicted alert (CAUTION, WARNING) stands at an instant only when at least
``m`` of the pair's last ``n`` instants (this one included) were at that level
or above; then the level is the highest that passes. So a flicker of one
instant raises nothing, and an alert that has stood for a while rides out one
instant's dip (the hysteresis). LOSS and NMAC are measured, not predicted, and
pass through unchanged; they count toward the lower levels. Instants at which
the pair was not in conflict, or not seen, count as no alert.

The rows must be sorted by pair, then instant, one row per pair and instant.
Pure functions over arrays: no I/O, no clock; the result for a row depends only
on the ``n - 1`` instants before it, so a window with that much history before
it gives the same alerts as the whole day.
"""

from __future__ import annotations

import numpy as np

from skyfence.detect.conflicts import CAUTION, LOSS, WARNING


def m_of_n(level: np.ndarray, pair_a: np.ndarray, pair_b: np.ndarray, instant: np.ndarray, m: int,
           n: int) -> np.ndarray:
    """The level of each row after M-of-N persistence (int8, same order)."""
    if m <= 1 or len(level) == 0:
        return level.copy()
    level = np.asarray(level)
    counts = {lv: (level >= lv).astype(np.int32) for lv in (CAUTION, WARNING)}
    for k in range(1, n):
        same = np.zeros(len(level), dtype=bool)
        same[k:] = (pair_a[k:] == pair_a[:-k]) & (pair_b[k:] == pair_b[:-k]) & (instant[k:] - instant[:-k] < n)
        for lv, c in counts.items():
            c[k:] += same[k:] & (level[:-k] >= lv)
    passed = np.where(counts[WARNING] >= m, WARNING, np.where(counts[CAUTION] >= m, CAUTION, 0))
    return np.where(level >= LOSS, level, passed).astype(np.int8)
