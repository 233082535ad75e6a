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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-600.0, 23000.0, width=32),
                          st.integers(-2000, 75000).map(lambda ft: (ft + 0.5) * 0.3048)), min_size=1, max_size=30))
def test_the_pictures_track_altitudes_are_each_states_in_whole_feet(altitudes):
    """The picture converts a batch's altitudes at once: each is its state's altitude in whole feet, as a
    conversion state by state gave, None where unknown."""
    from skyfence.live.picture import Picture
    from skyfence.units import m_to_ft

    n = len(altitudes)
    batch = pl.DataFrame({"track_id": ["a00001"] * n, "callsign": ["BLUE1"] * n, "party": ["coalition"] * n,
                          "lon": [40.0] * n, "lat": [35.0] * n, "altitude": pl.Series(altitudes, dtype=pl.Float32),
                          "ground_speed": [200.0] * n, "track": [90.0] * n, "vertical_rate": [0.0] * n,
                          "on_ground": [False] * n, "time": [T0 + timedelta(seconds=k) for k in range(n)]})
    p = Picture()
    p.update(batch)
    got = [alt for _, _, _, alt in p.tracks()["a00001"]]
    f32 = batch["altitude"].to_list()  # as the column holds them
    assert got == [None if a is None else round(float(m_to_ft(a))) for a in f32]
