"""Ranges of rows as one index: the idiom every detector uses to reduce over runs, events and spans."""

from __future__ import annotations

import numpy as np


def range_rows(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``starts[k] .. starts[k] + lengths[k] - 1`` of every range, concatenated, and where each range
    begins among them (the offsets ``np.ufunc.reduceat`` takes; for ranges that are not empty)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    rows = np.repeat(np.asarray(starts, dtype=np.int64) - offsets, lengths) + np.arange(int(lengths.sum()))
    return rows, offsets
