"""Cleaning: impossible values, duplicates, order, flights; on real data."""

import polars as pl

from skyfence.sources.tabular import from_frame
from skyfence.tracks.clean import clean
from skyfence.units import FOOT


def test_real_altitude_spike_is_removed_and_counted(samples):
    """FAF4011's recording has altitude outliers up to 107,700 ft."""
    raw = samples.filter(pl.col("scenario") == "military_tanker_racetrack")
    assert raw["altitude"].max() > 100_000
    df, report = from_frame(raw, "test")
    df, report = clean(df, report)
    assert df["altitude"].max() < 75_000 * FOOT
    removed = report.values_removed["impossible altitude"]
    assert removed == raw.filter(pl.col("altitude") > 75_000).height > 0
    assert df.height == raw.height  # the positions stay


def test_duplicates_order_and_flights():
    raw = pl.DataFrame({
        "time": [30, 10, 10, 20, 5000, 5010, 7],
        "icao24": ["aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "bbbbbb"],
        "lat": [35.0, 35.1, 35.1, 35.2, 35.3, 35.4, 0.0], "lon": [40.0] * 6 + [0.0],
    })
    df, report = from_frame(raw, "t")
    df, report = clean(df, report, flight_gap=600)
    assert report.dropped == {"duplicate": 1, "position out of range": 1}
    assert df["time"].dt.epoch("s").to_list() == [10, 20, 30, 5000, 5010]
    assert df["flight_id"].to_list() == [0, 0, 0, 1, 1]


def test_missing_position_and_out_of_range():
    raw = pl.DataFrame({"time": [1, 2, 3, 4], "icao24": ["a1", "a1", "a1", None],
                        "lat": [35.0, None, 95.0, 35.0], "lon": [40.0, 40.0, 40.0, 40.0]})
    df, report = clean(*from_frame(raw, "t"))
    assert df.height == 1
    assert report.dropped == {"missing position": 1, "position out of range": 1, "missing aircraft id": 1}
