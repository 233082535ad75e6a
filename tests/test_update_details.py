"""What an update says, worked out per run: an aircraft's latest state up to a time, against the plain filter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.live.details import LatestRows

T0 = datetime(2017, 11, 1, 6, 0, tzinfo=timezone.utc)


def plain_last_row(df: pl.DataFrame, track: str, time: datetime) -> dict:
    """The reference (the monitor's own before: on the cleaned window, in time order, the filter's last row): the
    latest row of ``track`` at or before ``time`` (of rows at that time, the last given), else its latest row."""
    mine = df.filter(pl.col("track_id") == track).sort("time", maintain_order=True)
    rows = mine.filter(pl.col("time") <= time).tail(1)
    if rows.height == 0:
        rows = mine.tail(1)
    return rows.row(0, named=True)


rows = st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 40)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(rows=rows, queries=st.lists(st.tuples(st.sampled_from("abc"), st.integers(-5, 45), st.booleans()), max_size=12))
def test_latest_rows_are_the_plain_filters(rows, queries):
    """Rows in any order, times repeated (the last given wins, as the filter's tail), queries before an
    aircraft's first row, between and after its rows, and a naive time taken as UTC."""
    df = pl.DataFrame({"track_id": [t for t, _ in rows],
                       "time": [T0 + timedelta(seconds=s, microseconds=k) for k, (_, s) in enumerate(rows)],
                       "n": list(range(len(rows)))})
    latest = LatestRows(df)
    for track, s, naive in queries:
        if track not in set(df["track_id"]):
            continue
        at = T0 + timedelta(seconds=s, microseconds=7)
        assert latest.last(track, at.replace(tzinfo=None) if naive else at) == plain_last_row(df, track, at)


def test_times_to_the_microsecond():
    df = pl.DataFrame({"track_id": ["a", "a", "a"], "time": [T0, T0 + timedelta(microseconds=1), T0],
                       "n": [0, 1, 2]})
    latest = LatestRows(df)
    assert latest.last("a", T0)["n"] == 2  # of two rows at T0, the last given
    assert latest.last("a", T0 + timedelta(microseconds=1))["n"] == 1
    assert latest.last("a", T0 - timedelta(microseconds=1))["n"] == 1  # none that early: its latest row
