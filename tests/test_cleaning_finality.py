"""How long cleaning waits before its answer for a report is final, held on real tracks with faults added: a
feed cut anywhere gives the whole track's cleaned rows for every report more than ``FINAL`` s before the cut
(what a live monitor, or a fold of the pipeline, relies on; docs/stream-detectors.md, "Cleaning as a fold")."""

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.sources.tabular import ReadReport, from_frame
from skyfence.tracks import plausibility
from skyfence.tracks.clean import clean_rows, clean_tracks

SPIKE_WINDOW = 60.0  # s: plausibility.altitude_spikes' default
CONSISTENCY = 30.0  # s: the reports around a value that the consistency checks read
FINAL = 2 * plausibility.JUMP_HORIZON + 2 * SPIKE_WINDOW + CONSISTENCY


@pytest.fixture(scope="module")
def real_tracks(samples) -> pl.DataFrame:
    """Three real aircraft, 20 minutes each: the GNSS-spoofed THY9BP, the tanker with altitude outliers, and
    another."""
    df, _ = from_frame(samples, "test")
    df = clean_rows(df, ReadReport())
    picks = []
    for callsign in ("THY9BP", "FAF4011"):
        ids = df.filter(pl.col("callsign") == callsign)["track_id"].unique().sort()
        picks.append(ids[0])
    busiest = df.group_by("track_id").len().sort(["len", "track_id"], descending=True)["track_id"]
    picks.append(next(i for i in busiest if i not in picks))
    out = []
    for track_id in picks:
        one = df.filter(pl.col("track_id") == track_id).sort("time")
        out.append(one.filter(pl.col("time") <= one["time"][0] + pl.duration(minutes=20)))
    return pl.concat(out)


@st.composite
def faults(draw, n: int):
    """Rows to spoil, each with a fault real feeds have: an altitude spike, a position elsewhere (alone or a
    stretch), a repeated position, a duplicate, a speed too slow for the altitude, a wild vertical rate."""
    return draw(st.lists(st.tuples(st.sampled_from(["spike", "stray", "excursion", "excursion", "stale",
                                                    "duplicate", "slow", "rate"]), st.integers(0, n - 1),
                                   st.integers(1, 120)), min_size=1, max_size=8))


def _spoil(df: pl.DataFrame, spoils) -> pl.DataFrame:
    rows = df.to_dicts()
    extra = []
    for kind, i, k in spoils:
        r = rows[i]
        if kind == "spike" and r["altitude"] is not None:
            r["altitude"] = r["altitude"] + (3000.0 if k % 2 else -3000.0)
        elif kind == "stray":
            r["lat"] = r["lat"] + 0.5
        elif kind == "excursion":
            for q in range(i, min(i + k, len(rows))):
                rows[q]["lon"] = rows[q]["lon"] + 0.8
        elif kind == "stale" and i > 0:
            r["lat"], r["lon"] = rows[i - 1]["lat"], rows[i - 1]["lon"]
        elif kind == "duplicate":
            extra.append(dict(r, lat=r["lat"] + 0.01))
        elif kind == "slow":
            r["ground_speed"] = 20.0
        elif kind == "rate":
            r["vertical_rate"] = 80.0
    return pl.DataFrame(rows + extra, schema=df.schema)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_a_feed_cut_anywhere_gives_the_whole_tracks_cleaning_past_the_final_lag(real_tracks, data):
    spoils = data.draw(faults(real_tracks.height))
    df = _spoil(real_tracks, spoils)
    if data.draw(st.integers(0, 3)):  # mostly a cut soon after a fault, where the answers wait
        kind, i, _ = data.draw(st.sampled_from(spoils))
        cut = real_tracks["time"][i] + pl.duration(seconds=data.draw(st.floats(0.0, FINAL + 60.0)))
    else:
        cut = df["time"].sort()[data.draw(st.integers(1, df.height - 1))]
    whole = clean_tracks(df, ReadReport())
    part = clean_tracks(df.filter(pl.col("time") <= cut), ReadReport())
    settled = pl.col("time") < cut - pl.duration(seconds=FINAL)
    assert part.filter(settled).equals(whole.filter(settled))
