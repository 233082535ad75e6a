"""How long cleaning waits before its answer for a report is final, held on real tracks with faults added: a
feed cut anywhere gives the whole track's cleaned rows for every report more than ``FINAL`` s before the cut
(what a live monitor, or a fold of the pipeline, relies on; docs/stream-detectors.md, "Cleaning as a fold")."""

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faulty_tracks import faults, spoil
from tests.faulty_tracks import real_tracks as pick_real_tracks
from skyfence.sources.tabular import ReadReport
from skyfence.tracks import plausibility
from skyfence.tracks.clean import clean_tracks

SPIKE_WINDOW = 60.0  # s: plausibility.altitude_spikes' default
CONSISTENCY = 30.0  # s: the reports around a value that the consistency checks read
FINAL = 2 * plausibility.JUMP_HORIZON + 2 * SPIKE_WINDOW + CONSISTENCY


@pytest.fixture(scope="module")
def real_tracks(samples) -> pl.DataFrame:
    return pick_real_tracks(samples)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_a_feed_cut_anywhere_gives_the_whole_tracks_cleaning_past_the_final_lag(real_tracks, data):
    spoils = data.draw(faults(real_tracks.height))
    df = spoil(real_tracks, spoils)
    if data.draw(st.integers(0, 3)):  # mostly a cut soon after a fault, where the answers wait
        kind, i, _ = data.draw(st.sampled_from(spoils))
        cut = real_tracks["time"][i] + pl.duration(seconds=data.draw(st.floats(0.0, FINAL + 60.0)))
    else:
        cut = df["time"].sort()[data.draw(st.integers(1, df.height - 1))]
    whole = clean_tracks(df, ReadReport())
    part = clean_tracks(df.filter(pl.col("time") <= cut), ReadReport())
    settled = pl.col("time") < cut - pl.duration(seconds=FINAL)
    assert part.filter(settled).equals(whole.filter(settled))
