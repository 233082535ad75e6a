"""What a detection run keeps for the next (the live monitor's memo) changes nothing: on real traffic, a window
moved on, with reports gone and values changed in between, gives with the memo of the run before exactly the
events, kinematics and projections of a run without it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.agreement import load_agreement
from skyfence.analysis.pipeline import DetectionMemo, detect_events
from skyfence.sources.formats import read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.arrays import to_arrays
from skyfence.tracks.clean import clean_rows, clean_tracks
from skyfence.tracks.kinematics import kinematics
from skyfence.tracks.row_memo import RowMemo

ROOT = Path(__file__).resolve().parents[1]
SWISS = ROOT / "tests" / "data" / "swiss-line.yaml"
WINDOW = timedelta(minutes=8)


@pytest.fixture(scope="module")
def traffic(samples, tmp_path_factory):
    """Real traffic, identified under a user's line: the Swiss en-route day (10 s reports, crossings and
    encounters) and the Paris terminal area (1 s reports, turns)."""
    ag = load_agreement(SWISS)
    out = {}
    for name in ("enroute_rvsm_traffic", "dense_tma_traffic"):
        path = tmp_path_factory.mktemp(name) / "tracks.parquet"
        samples.filter(pl.col("scenario") == name).write_parquet(path)
        df = clean_rows(read_any(path)[0], ReadReport())
        out[name] = df.with_columns(ag.identifier.assign(df["track_id"], df["callsign"]))
    return ag, out


def _window(df: pl.DataFrame, start, length=WINDOW) -> pl.DataFrame:
    return df.filter((pl.col("time") >= start) & (pl.col("time") < start + length))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=st.sampled_from(["enroute_rvsm_traffic", "dense_tma_traffic"]), at=st.floats(0.1, 0.8),
       shift=st.sampled_from([1.0, 2.0, 7.0, 60.0]), drop=st.floats(0.0, 0.01), seed=st.integers(0, 1000))
def test_a_run_with_the_memo_of_the_run_before_gives_the_same_events(traffic, scenario, at, shift, drop, seed):
    ag, tables = traffic
    states = tables[scenario]
    t0, t1 = states["time"].min(), states["time"].max()
    start = t0 + (t1 - t0) * at
    rng = np.random.default_rng(seed)
    before = clean_tracks(_window(states, start), ReadReport())
    now = _window(states, start + timedelta(seconds=shift))
    # between the runs, some reports gone (cleaned away) and some velocities no longer trusted
    now = now.filter(pl.Series(rng.random(now.height) >= drop))
    lost = pl.Series(rng.random(now.height) < drop)
    now = now.with_columns(pl.when(lost).then(None).otherwise(pl.col("track")).alias("track"))
    now = clean_tracks(now, ReadReport())
    memo = DetectionMemo()
    detect_events(before, ag, memo=memo)
    reused = memo.rows.reused
    got, want = detect_events(now, ag, memo=memo), detect_events(now, ag)
    for table in ("crossings", "encounters", "manoeuvres", "interactions"):
        assert getattr(got, table).equals(getattr(want, table)), table
    assert {k: (w.episodes, w.followed_by_crossing) for k, w in got.warnings.items()} == \
        {k: (w.episodes, w.followed_by_crossing) for k, w in want.warnings.items()}
    # (the instants' searches are reused only where every state of an instant is the same: a report dropped
    # or a party leaving the window changes them all, so their reuse is held by tests/test_conflicts.py)
    assert memo.rows.reused - reused > memo.rows.computed // 4, "most states came from the memo"


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.floats(0.1, 0.8), shift=st.floats(0.5, 30.0), drop=st.floats(0.0, 0.02), seed=st.integers(0, 1000))
def test_kinematics_and_projections_with_the_memo_are_those_of_a_fresh_run(traffic, at, shift, drop, seed):
    """Bit for bit, state by state, on 1 s terminal traffic: the fits near a report gone, near the window's
    edges and near a heading no longer trusted (held from further back) are worked out again."""
    ag, tables = traffic
    states = tables["dense_tma_traffic"]
    t0, t1 = states["time"].min(), states["time"].max()
    start = t0 + (t1 - t0) * at
    rng = np.random.default_rng(seed)
    memo = RowMemo()
    before = clean_tracks(_window(states, start, timedelta(minutes=4)), ReadReport())
    memo.start(before)
    kinematics(to_arrays(before, ag.projection, memo), memo=memo)
    now = _window(states, start + timedelta(seconds=shift), timedelta(minutes=4))
    now = now.filter(pl.Series(rng.random(now.height) >= drop))
    lost = pl.Series(rng.random(now.height) < 5 * drop)
    now = clean_tracks(now.with_columns(pl.when(lost).then(None).otherwise(pl.col("track")).alias("track"),
                                        pl.when(lost).then(None).otherwise(pl.col("ground_speed"))
                                        .alias("ground_speed")), ReadReport())
    memo.start(now)
    tr_memo = to_arrays(now, ag.projection, memo)
    k_memo = kinematics(tr_memo, memo=memo)
    tr = to_arrays(now, ag.projection)
    k = kinematics(tr)
    for f in ("x", "y", "vx", "vy"):
        assert _same(getattr(tr_memo, f), getattr(tr, f)), f
    for f in k.__dataclass_fields__:
        assert _same(getattr(k_memo, f), getattr(k, f)), f
    assert memo.reused > 0


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 40), moved=st.sets(st.integers(0, 39)), gone=st.sets(st.integers(0, 39)),
       seed=st.integers(0, 1000))
def test_results_sharing_inputs_compare_them_once_and_stay_exact(n, moved, gone, seed):
    """Several results read the same arrays (each area's inside, depth and first hit read the projected
    positions): their states are compared with the last run's once a run, and each result is still the one
    its own inputs give, state by state."""
    rng = np.random.default_rng(seed)
    times = np.arange(n, dtype=np.int64)
    before = pl.DataFrame({"track_id": ["a"] * n, "time": times, "flight_id": np.zeros(n, np.int64)})
    x0, v0 = rng.normal(size=n), rng.normal(size=n)
    keep = np.array([i not in gone for i in range(n)])
    now = before.filter(pl.Series(keep))
    x1, v1 = x0[keep].copy(), v0[keep].copy()
    shifted = [i for i in range(len(x1)) if i in moved]
    x1[shifted] += 1.0
    v1[shifted[::2]] -= 1.0
    memo = RowMemo()
    for df, x, v in ((before, x0, v0), (now, x1, v1), (now, x1, v1)):  # the last: the same arrays again
        memo.start(df)
        got = [memo.apply("twice", (x,), lambda r: (2 * x[r],))[0],
               memo.apply("sum", (x, v), lambda r: (x[r] + v[r],))[0],
               memo.apply("speed", (v,), lambda r: (v[r] * 3,))[0],
               memo.apply("some", (x, v), lambda r: (x[r] - v[r],), rows=np.arange(0, len(x), 2))[0]]
        assert [g.tolist() for g in got] == [(2 * x).tolist(), (x + v).tolist(), (v * 3).tolist(),
                                             (x - v)[::2].tolist()]
    assert memo.reused >= 4 * len(x1)  # the third run takes every state of every result from the second


@st.composite
def _states(draw, names, times):
    """A table of distinct (aircraft, time) states, sorted by aircraft and time or not."""
    pairs = sorted(draw(st.sets(st.tuples(st.sampled_from(names), st.sampled_from(times)), max_size=30)))
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    return pl.DataFrame({"track_id": [p[0] for p in pairs], "time": [p[1] for p in pairs]},
                        schema={"track_id": pl.String, "time": pl.Datetime("us", "UTC")})


NAMES = ["4b1805", "4b1806", "ae01c5", "ÄÉ1", "a", "b"] + [f"{k:06x}" for k in range(20)]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), far=st.booleans())
def test_a_states_row_in_the_last_run_is_the_one_a_join_finds(data, far):
    """What the memo starts each run with, in numbers rather than a join of the two tables (a join of 13 million
    states took seconds): held to the join, sorted or not, and with times millennia apart among many aircraft,
    where the numbers would pass 64 bits and it joins instead."""
    from datetime import datetime, timezone

    from skyfence.tracks.row_memo import StateKeys, _rows_joined, rows_before

    base = datetime(2017, 11, 1, tzinfo=timezone.utc)
    times = [base + timedelta(seconds=s) for s in range(8)] + ([datetime(1, 1, 2, tzinfo=timezone.utc),
                                                                datetime(9999, 1, 1, tzinfo=timezone.utc)]
                                                               if far else [])
    now, before = data.draw(_states(NAMES, times)), data.draw(_states(NAMES, times))
    if now.height == 0 or before.height == 0:
        return
    want = now.with_row_index("_row").join(before.with_row_index("_prev"), on=["track_id", "time"], how="left")
    expect = np.full(now.height, -1)
    expect[want["_row"].to_numpy()] = want["_prev"].fill_null(-1).to_numpy()
    a, b = StateKeys.of(now), StateKeys.of(before)
    assert rows_before(a, b).tolist() == expect.tolist()
    assert _rows_joined(a, b).tolist() == expect.tolist()


def test_a_table_starting_with_a_state_of_no_aircraft_keeps_its_rows():
    """Review: a null first id compared equal to the null shifted in before it, and its rows were lost (cleaned
    tables have no such state; the keys still count every row)."""
    from skyfence.tracks.row_memo import StateKeys

    df = pl.DataFrame({"track_id": [None, "a", "a"], "time": [0, 1, 2]},
                      schema={"track_id": pl.String, "time": pl.Datetime("us", "UTC")})
    keys = StateKeys.of(df)
    assert keys.lengths.tolist() == [1, 2] and len(keys.times) == 3


def _local_ok_written_out(same, prev, flight_prev, starts, t, reach, back):
    """:meth:`RowMemo.apply_local`'s test of a state's support, as whole-table array operations (the form it had
    before it became one compiled pass)."""
    n = len(prev)
    link = np.zeros(n, bool)
    if n > 1 and len(flight_prev):
        a, b = prev[:-1], prev[1:]
        link[1:] = (a >= 0) & (b == a + 1)
        ok = link[1:]
        link[1:][ok] = flight_prev[b[ok]] == flight_prev[a[ok]]
    first = np.zeros(n, bool)
    first[starts[:-1]] = True
    last = np.zeros(n, bool)
    last[starts[1:] - 1] = True
    edge_ok = np.ones(n, bool)
    if len(flight_prev):
        m = len(flight_prev)
        f_ok = first & (prev >= 0)
        q = prev[f_ok]
        edge_ok[f_ok] = (q == 0) | (flight_prev[np.maximum(q - 1, 0)] != flight_prev[q])
        l_ok = last & (prev >= 0)
        q = prev[l_ok]
        edge_ok[l_ok] &= (q == m - 1) | (flight_prev[np.minimum(q + 1, m - 1)] != flight_prev[q])
    changed = ~same | ~edge_ok
    changed[1:] |= ~link[1:] & ~first[1:]
    changed[:-1] |= ~link[1:] & ~first[1:]
    out = np.zeros(n, bool)
    for i in range(n):
        f = np.searchsorted(starts, i, side="right") - 1
        s0, e0 = starts[f], starts[f + 1]
        support = [j for j in range(s0, e0) if abs(t[j] - t[i]) <= reach]
        lo, hi = max(min(support) - 1, s0), min(max(support) + 1, e0 - 1)
        if back is not None:
            lo = min(lo, back[lo])
        out[i] = not changed[lo:hi + 1].any()
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_states_support_is_unchanged_exactly_where_the_written_out_test_says(data):
    """The local results' test (every state a fit reads the same, with the same neighbours, in a flight that began
    and ended where it did) as one compiled pass: held to the array form it replaced, on drawn flights, matches
    with the last run (rows gone, come, moved to another flight) and values changed."""
    from skyfence.tracks.row_memo import _local_ok

    n = data.draw(st.integers(1, 40))
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=4))) if n > 1 else []
    starts = np.array([0, *cuts, n], np.int64)
    t = np.zeros(n)
    for s0, e0 in zip(starts[:-1].tolist(), starts[1:].tolist()):
        t[s0:e0] = np.cumsum(data.draw(st.lists(st.sampled_from([0.5, 1.0, 1.0, 2.0, 7.0, 20.0]), min_size=e0 - s0,
                                                max_size=e0 - s0)))
    m = data.draw(st.integers(0, 45))
    flight_prev = np.sort(np.array(data.draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), np.int64))
    prev = np.array(data.draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n)), np.int64)
    if m and data.draw(st.booleans()):  # mostly the same rows one on, as a window moved by a tick gives
        shift = data.draw(st.integers(0, 3))
        prev = np.where(np.arange(n) + shift < m, np.arange(n) + shift, -1)
        prev[np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=3)), np.int64)] = -1
    if not m:
        prev[:] = -1
    same = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    same &= prev >= 0
    back = None
    if data.draw(st.booleans()):
        back = np.arange(n)
        for s0, e0 in zip(starts[:-1].tolist(), starts[1:].tolist()):
            for i in range(s0 + 1, e0):
                back[i] = max(back[i - 1], data.draw(st.integers(s0, i)))
    reach = data.draw(st.sampled_from([0.0, 1.0, 6.006, 12.012]))
    got = _local_ok(same, prev, flight_prev, starts, t, reach, np.empty(0, np.int64) if back is None else back)
    assert got.tolist() == _local_ok_written_out(same, prev, flight_prev, starts, t, reach, back).tolist()
