"""The rows of many ranges as one index, against building each range by hand."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skyfence.detect.ranges import range_rows


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 8)), max_size=30))
def test_range_rows_are_each_range_in_turn(ranges):
    starts = np.array([s for s, _ in ranges], dtype=np.int64)
    lengths = np.array([n for _, n in ranges], dtype=np.int64)
    rows, offsets = range_rows(starts, lengths)
    assert rows.tolist() == [r for s, n in ranges for r in range(s, s + n)]
    assert offsets.tolist() == [sum(n for _, n in ranges[:k]) for k in range(len(ranges))]
