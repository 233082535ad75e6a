"""Reading CSV and Parquet in the common column conventions, and clear errors."""

import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from skyfence.errors import InputError
from skyfence.sources.tabular import read_tracks
from skyfence.units import FOOT, KNOT


def test_traffic_convention_is_converted_to_si(shared, samples):
    df, report = read_tracks(shared / "adsb_samples.parquet")
    assert report.rows_read == samples.height == df.height
    row = samples.filter(pl.col("altitude").is_not_null() & pl.col("groundspeed").is_not_null()).row(0, named=True)
    got = df.filter((pl.col("track_id") == row["icao24"]) & (pl.col("time") == row["timestamp"])).row(0, named=True)
    assert got["altitude"] == pytest.approx(row["altitude"] * FOOT, rel=1e-6)
    assert got["ground_speed"] == pytest.approx(row["groundspeed"] * KNOT, rel=1e-6)
    assert got["vertical_rate"] == pytest.approx(row["vertical_rate"] * FOOT / 60, rel=1e-5, abs=1e-6)
    assert df.schema["time"] == pl.Datetime("us", "UTC")


def test_opensky_state_vectors_csv(tmp_path, samples):
    """OpenSky's state_vectors_data4 names: unix seconds, metres, m/s."""
    s = samples.head(500)
    osky = pl.DataFrame({
        "time": s["timestamp"].dt.epoch("s"), "icao24": s["icao24"], "lat": s["lat"], "lon": s["lon"],
        "velocity": s["groundspeed"] * KNOT, "heading": s["track"], "vertrate": s["vertical_rate"] * FOOT / 60,
        "callsign": s["callsign"], "onground": s["onground"], "baroaltitude": s["altitude"] * FOOT,
        "geoaltitude": s["altitude"] * FOOT + 30, "lastposupdate": s["timestamp"].dt.epoch("s"),
    })
    path = tmp_path / "states.csv"
    osky.write_csv(path)
    df, report = read_tracks(path)
    assert df.height == 500 and report.rows_dropped == 0
    assert np.allclose(df["altitude"].drop_nulls().to_numpy(), (s["altitude"].drop_nulls() * FOOT).to_numpy(), rtol=1e-6)
    assert df["time"].to_list() == s["timestamp"].dt.cast_time_unit("us").to_list()


def test_iso_and_millisecond_times(tmp_path):
    path = tmp_path / "iso.csv"
    path.write_text("timestamp,icao24,latitude,longitude\n2017-11-01T10:00:00Z,778001,35,40\n"
                    "2017-11-01T10:00:05+00:00,778001,35.01,40\n2017-11-01 10:00:10,778001,35.02,40\n")
    df, _ = read_tracks(path)
    assert [t.second for t in df["time"]] == [0, 5, 10]
    ms = tmp_path / "ms.csv"
    ms.write_text("time,icao24,lat,lon\n1509530400000,778001,35,40\n")
    df, _ = read_tracks(ms)
    assert df["time"][0].isoformat() == "2017-11-01T10:00:00+00:00"


def test_malformed_values_are_counted_not_fatal(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,icao24,lat,lon,altitude\n1509530400,778001,35,40,1000\n1509530405,778001,north,40,1000\n"
                    "1509530410,778001,35.1,40,high\n")
    df, report = read_tracks(path)
    assert df.height == 2 and report.dropped["malformed lat"] == 1
    assert df["altitude"].null_count() == 1


def test_unknown_columns_say_what_was_expected(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,who,y,x\n1,a,2,3\n")
    with pytest.raises(InputError) as err:
        read_tracks(path)
    msg = str(err.value)
    assert "no column for time, track_id, lat, lon" in msg and "timestamp" in msg and "icao24" in msg
    assert "the file has when, who, y, x" in msg


@pytest.mark.parametrize("name, content, words", [
    ("missing.csv", None, "no such file"),
    ("broken.parquet", b"not parquet at all", "cannot read"),
    ("tracks.xlsx", b"x", "unknown file type"),
])
def test_unreadable_files(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=words):
        read_tracks(path)


def test_cli_missing_file_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "from skyfence.cli import main; main()", "analyze",
                           str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.csv'}: no such file"
