"""``skyfence analyze`` end to end: files written, columns, summary, errors."""

import json

import polars as pl
from typer.testing import CliRunner

from skyfence import synthetic
from skyfence.cli import app
from tests.tracks import crossing_tracks as demo_tracks

runner = CliRunner()


def test_analyze_writes_crossings_and_summary(tmp_path):
    tracks = tmp_path / "tracks.csv"
    demo_tracks().write_csv(tracks)
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(tracks), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "Crossings: 2" in result.output
    csv = pl.read_csv(out / "crossings.csv")
    for col in ["track_id", "callsign", "party", "zone", "entry_time", "exit_time", "duration_s", "max_depth_km",
                "entry_lat", "entry_lon", "exit_lat", "exit_lon", "warning_lead_s"]:
        assert col in csv.columns
    assert csv["entry_time"][0].endswith("Z") and "T" in csv["entry_time"][0]
    assert pl.read_parquet(out / "crossings.parquet").height == 2
    enc = pl.read_csv(out / "encounters.csv")
    for col in ["track_a", "track_b", "callsign_a", "callsign_b", "party_a", "party_b", "start_time", "end_time",
                "min_horizontal_nm", "min_vertical_ft", "time_of_min", "max_level", "warning_time_s"]:
        assert col in enc.columns
    assert (out / "encounters.parquet").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["records_read"] == demo_tracks().height
    assert summary["crossings"]["per_day"] == [{"date": "2017-11-01", "party": "coalition", "count": 1},
                                               {"date": "2017-11-01", "party": "russia_syria", "count": 1}]


def test_analyze_several_files_and_real_data(tmp_path, shared):
    extra = tmp_path / "extra.parquet"
    synthetic.straight_track(39.9, 35.0, 45, 220, 600, 4, track_id="778b01", callsign="SYR9").write_parquet(extra)
    result = runner.invoke(app, ["analyze", str(shared / "adsb_samples.parquet"), str(extra), "-o",
                                 str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["crossings"]["total"] == 1
    assert summary["input"]["values_removed_by_reason"]["impossible altitude"] > 0


def test_encounter_options_are_checked(tmp_path):
    tracks = tmp_path / "t.parquet"
    demo_tracks().write_parquet(tracks)
    for args in (["--pairs", "some"], ["--encounter-level", "red"], ["--step", "0"]):
        result = runner.invoke(app, ["analyze", str(tracks), "-o", str(tmp_path / "o"), *args])
        assert result.exit_code != 0 and isinstance(result.exception, Exception)


def test_bad_agreement_and_unrecognised_file(tmp_path):
    tracks = tmp_path / "t.csv"
    tracks.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["analyze", str(tracks), "-a", str(tmp_path / "missing.yaml")])
    assert result.exit_code != 0
    result = runner.invoke(app, ["analyze", str(tracks), "-o", str(tmp_path / "o")])
    assert result.exit_code != 0 and "no column for time" in str(result.exception)
    # a header and no rows: an error, as an empty file is (it read 'Read 0 records ... No crossings', exit 0)
    header = tmp_path / "header.csv"
    header.write_text("time,icao24,lat,lon,baroaltitude,velocity,heading,vertrate,callsign\n")
    result = runner.invoke(app, ["analyze", str(header), "-o", str(tmp_path / "h")])
    assert result.exit_code != 0 and str(result.exception) == f"{header}: no records (the file holds no data rows)"
