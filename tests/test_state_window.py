"""The monitor's rolling window: what a detection run takes is the states a brute-force list of them gives.

The window keeps its states as one table ordered by aircraft and time and merges each chunk that comes into it
(sorting the whole again each run cost more than cleaning); the reference here keeps every state in a list and
filters and sorts it from scratch."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.live.window import OPEN_CAP, StateWindow, detection_view
from skyfence.tracks.clean import assign_flights
from skyfence.tracks.schema import TRACK_SCHEMA, conform

IDS = ["778a01", "ae01c5", "A0", "a", "zz9", "ae01c", "43c6f1"]  # prefixes and case, as strings sort
ORDER = ["track_id", "time"]
T0 = 1_509_500_000.0
GAP = 30.0  # s: flight_gap


def _states(rows: list[tuple[str, float]]) -> pl.DataFrame:
    """States of these (aircraft, Unix s), ordered by aircraft and time, with a column telling each apart."""
    df = pl.DataFrame({"track_id": [r[0] for r in rows], "time": [r[1] for r in rows]},
                      schema={"track_id": pl.String, "time": pl.Float64})
    df = df.with_columns((pl.col("time") * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC")).alias("time"),
                         pl.col("time").alias("lon"), pl.lit(35.0).alias("lat"))
    return conform(df).select(list(TRACK_SCHEMA)).sort(ORDER)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_each_run_takes_the_states_a_list_of_them_gives(data):
    length, context, tick = 60.0, 20.0, 1.0
    # every (aircraft, second) once, a random fraction of a second on, each final at a drawn step
    universe = [(a, T0 + s + data.draw(st.floats(0.0, 0.99), label="µs")) for a in IDS for s in range(0, 240, 3)]
    universe = data.draw(st.permutations(universe))
    window = StateWindow(length, context, tick)
    held: list[tuple[str, float]] = []  # the reference: every final state not pruned
    given_ = 0
    now = T0
    for _ in range(data.draw(st.integers(5, 25))):
        now += data.draw(st.sampled_from([1.0, 1.0, 3.0, 17.0, 45.0]))
        # final: some of the states not given yet, up to now (a fold hands over reports once final, at any age)
        k = data.draw(st.integers(0, 40))
        came = [r for r in universe[given_:given_ + k] if r[1] <= now]
        given_ += k
        window.append(_states(came))
        held.extend(came)
        # provisional: states not final, up to now, none of them given as final
        provisional = _states([r for r in universe[given_:given_ + data.draw(st.integers(0, 30))] if r[1] <= now])
        keep = {a: now - data.draw(st.floats(0.0, 200.0)) for a in data.draw(st.sets(st.sampled_from(IDS)))}

        lo, hi = window.reach(now) - length, now
        want = [r for r in held if (lo <= r[1] <= hi)
                or (r[0] in keep and max(keep[r[0]], now - OPEN_CAP) <= r[1] <= hi)]
        want = assign_flights(pl.concat([_states(want), provisional]).sort(ORDER), GAP)
        got = detection_view(window, provisional, now, keep, GAP)
        assert got.equals(want)

        window.prune(now, keep)
        lo = now - length
        oldest = min(lo, max(min(keep.values()), now - OPEN_CAP)) if keep else lo
        if held and min(r[1] for r in held) < oldest:  # else nothing is due to go: left as it is, uncopied
            held = [r for r in held if r[1] >= lo or (r[0] in keep and r[1] >= max(keep[r[0]], now - OPEN_CAP))]
        assert window.rows == len(held)
