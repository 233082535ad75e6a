"""``skyfence export`` and the event tracks analyze keeps: GeoJSON, KML and CSV with the right geometry."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
import shapely
import shapely.wkt
from defusedxml import ElementTree

from skyfence.agreement import load_agreement
from skyfence.analysis.event_tracks import MARGIN_S
from skyfence.analysis.load import load_tracks
from skyfence.cli import app
from skyfence.errors import SkyfenceError
from tests.report_data import analysed, runner, simulated_tracks

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sim")
    tracks = simulated_tracks(folder)
    return tracks, analysed(tracks, folder / "results")


def export(results: Path, fmt: str, out: Path, *extra: str) -> Path:
    result = runner.invoke(app, ["export", str(results), "--to", fmt, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def test_event_tracks_hold_the_states_around_each_event(sim):
    tracks, results = sim
    kept = pl.read_parquet(results / "event_tracks.parquet")
    crossings = pl.read_parquet(results / "crossings.parquet")
    encounters = pl.read_parquet(results / "encounters.parquet")
    windows = pl.concat([
        crossings.select("track_id", pl.col("entry_time").alias("s"), pl.coalesce(
            "exit_time", pl.col("entry_time") + pl.duration(seconds=pl.col("duration_s"))).alias("e")),
        encounters.select(pl.col("track_a").alias("track_id"), pl.col("start_time").alias("s"),
                          pl.col("end_time").alias("e")),
        encounters.select(pl.col("track_b").alias("track_id"), pl.col("start_time").alias("s"),
                          pl.col("end_time").alias("e")),
        pl.read_parquet(results / "interactions.parquet").select(
            pl.col("other_track_id").alias("track_id"), pl.col("start_time").alias("s"), pl.col("end_time").alias("e")),
    ])
    margin = timedelta(seconds=MARGIN_S)
    everything, _ = load_tracks([tracks], load_agreement("euphrates-2017"))
    expected = (everything.join(windows, on="track_id")
                .filter((pl.col("time") >= pl.col("s") - margin) & (pl.col("time") <= pl.col("e") + margin))
                .select("track_id", "time").unique())
    assert kept.height == expected.height > 0
    assert kept.select("track_id", "time").join(expected, on=["track_id", "time"], how="anti").height == 0
    assert set(crossings["track_id"]) <= set(kept["track_id"])


def test_geojson_crossings_run_from_the_entry_point_inside_the_closed_side(sim, tmp_path):
    _, results = sim
    doc = json.loads(export(results, "geojson", tmp_path / "e.geojson").read_text())
    assert doc["type"] == "FeatureCollection"
    crossings = pl.read_parquet(results / "crossings.parquet").sort("entry_time")
    closed = load_agreement("euphrates-2017").area("coalition-side").polygon
    by_kind: dict[str, list] = {}
    for f in doc["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        assert geom.is_valid and geom.has_z
        by_kind.setdefault(f["properties"]["feature"], []).append(f)
    assert len(by_kind["entry"]) == len(by_kind["track_inside"]) == crossings.height
    for row, entry, line in zip(crossings.iter_rows(named=True), by_kind["entry"], by_kind["track_inside"]):
        lon, lat, alt = entry["geometry"]["coordinates"]
        assert (lon, lat) == pytest.approx((row["entry_lon"], row["entry_lat"]), abs=1e-6)
        assert alt / 0.3048 == pytest.approx(row["alt_min_ft"], abs=150)
        coords = line["geometry"]["coordinates"]
        assert coords[0][:2] == pytest.approx([lon, lat]) and coords[-1][:2] == pytest.approx(
            [row["exit_lon"], row["exit_lat"]], abs=1e-6)
        inside = shapely.points([c[:2] for c in coords[1:-1]])
        assert shapely.contains(closed, inside).mean() > 0.9  # the states between entry and exit are beyond the line
    encounters = pl.read_parquet(results / "encounters.parquet")
    assert len(by_kind["closest_point"]) == encounters.height
    assert len(by_kind["track_a"]) == len(by_kind["track_b"]) == encounters.height


def test_kml_has_altitude_styles_by_party_and_time_spans(sim, tmp_path):
    _, results = sim
    geo = json.loads(export(results, "geojson", tmp_path / "e.geojson").read_text())
    root = ElementTree.parse(export(results, "kml", tmp_path / "e.kml")).getroot()
    marks = root.findall(f".//{KML}Placemark")
    assert len(marks) == len(geo["features"])
    lines = root.findall(f".//{KML}LineString")
    assert lines and all(ls.find(f"{KML}altitudeMode").text == "absolute" for ls in lines)
    for ls in lines:
        first = ls.find(f"{KML}coordinates").text.split()[0].split(",")
        assert len(first) == 3 and float(first[2]) > 100  # metres above the sea, not clamped
        # to 1e-6 degree and 0.1 m (full floats made a 7.4 MB file)
        assert all(len(v.split(".")[-1]) <= d for v, d in zip(first, (6, 6, 1))), first
    colours = {s.find(f"{KML}LineStyle/{KML}color").text for s in root.iter(f"{KML}Style")}
    assert len(colours) >= 2  # coalition and russia_syria differ
    assert all(m.find(f"{KML}TimeSpan/{KML}begin") is not None for m in marks)
    folders = {f.find(f"{KML}name").text for f in root.iter(f"{KML}Folder")}
    assert {"crossing", "encounter"} <= folders
    # ids are XML IDs (a letter first), and every style a placemark names is there
    ids = {e.get("id") for e in root.iter() if e.get("id") is not None}
    assert ids and all(i[0].isalpha() for i in ids)
    styles = {s.get("id") for s in root.iter(f"{KML}Style")}
    assert {m.find(f"{KML}styleUrl").text.lstrip("#") for m in marks} <= styles


def test_csv_rows_carry_wkt_geometry(sim, tmp_path):
    _, results = sim
    with export(results, "csv", tmp_path / "e.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"event_id", "feature", "wkt"} <= set(rows[0])
    floats = [v for r in rows for k, v in r.items() if k != "wkt" and "." in v and v.replace(".", "", 1)
              .lstrip("-").isdigit()]
    assert floats and max(len(v.split(".")[1]) for v in floats) <= 6  # not 12.345678901234
    # feet to the foot (30999.998047 was written), NM to 0.01
    for r in rows:
        for k, v in r.items():
            if v and k.endswith("_ft"):
                assert v.lstrip("-").isdigit(), (k, v)
            if v and k.endswith("_nm"):
                assert len(v.split(".")[-1]) <= 2 or "." not in v, (k, v)
    # a quoted glob names the folder
    pattern = str(results.parent / "res*")
    assert export(Path(pattern), "csv", tmp_path / "g.csv").read_text() == (tmp_path / "e.csv").read_text()
    for r in rows:
        geom = shapely.wkt.loads(r["wkt"])
        assert geom.has_z and geom.geom_type == ("Point" if r["feature"] in ("entry", "closest_point", "position")
                                                 else "LineString")


def test_one_aircraft_whole_track_or_around_events(sim, tmp_path):
    tracks, results = sim
    aircraft = pl.read_parquet(results / "crossings.parquet")["track_id"][0]
    everything, _ = load_tracks([tracks], load_agreement("euphrates-2017"))
    whole = everything.filter(pl.col("track_id") == aircraft)
    rows = pl.read_csv(export(results, "csv", tmp_path / "a.csv", "--aircraft", aircraft.upper(), "--tracks",
                              str(tracks)))
    assert rows.height == whole.height and set(rows["track_id"]) == {aircraft}
    assert rows["altitude_ft"].max() == pytest.approx(whole["altitude"].max() / 0.3048, abs=1)
    doc = json.loads(export(results, "geojson", tmp_path / "a.geojson", "--aircraft", aircraft).read_text())
    around = pl.read_parquet(results / "event_tracks.parquet").filter(pl.col("track_id") == aircraft)
    assert sum(len(f["geometry"]["coordinates"]) for f in doc["features"]) == around.height < whole.height
    result = runner.invoke(app, ["export", str(results), "--to", "kml", "--out", str(tmp_path / "x.kml"),
                                 "--aircraft", "abcdef"])
    assert result.exit_code != 0 and isinstance(result.exception, SkyfenceError)
    assert "--tracks" in str(result.exception)
    result = runner.invoke(app, ["export", str(results), "--to", "shp", "--out", str(tmp_path / "x.shp")])
    assert isinstance(result.exception, SkyfenceError) and "geojson, kml, csv" in str(result.exception)


def test_a_crossing_open_at_the_end_of_its_track_has_its_track_inside(tmp_path):
    from skyfence import synthetic

    tracks = tmp_path / "t.parquet"
    # a Syrian jet flies north-east across the river and its track ends 10 minutes later, still beyond it
    syr = synthetic.straight_track(39.90, 35.00, 45, 220, 600, 4, track_id="778b01", callsign="SYR9")
    syr.write_parquet(tracks)
    results = analysed(tracks, tmp_path / "results")
    crossing = pl.read_parquet(results / "crossings.parquet").row(0, named=True)
    assert crossing["open"] and crossing["exit_time"] is None
    doc = json.loads(export(results, "geojson", tmp_path / "e.geojson").read_text())
    line = next(f for f in doc["features"] if f["properties"]["feature"] == "track_inside")
    last = syr.row(-1, named=True)
    assert line["geometry"]["coordinates"][-1][:2] == pytest.approx([last["lon"], last["lat"]], abs=1e-6)
    inside = syr.filter(pl.col("time") >= crossing["entry_time"])
    assert len(line["geometry"]["coordinates"]) == inside.height + 1  # the entry point, then every state inside


def test_an_aircrafts_states_around_separate_events_are_separate_lines(sim, tmp_path):
    """Without --tracks an aircraft's states are those kept around its events: two events an hour apart were
    joined by a straight line it never flew (user trial)."""
    _, results = sim
    kept = pl.read_parquet(results / "event_tracks.parquet").sort("track_id", "time")
    gap = pl.col("time").diff().dt.total_seconds(fractional=True)
    far = kept.with_columns(gap.over("track_id").alias("gap")).filter(pl.col("gap") > 300)
    assert far.height > 0
    aircraft = far["track_id"][0]
    mine = kept.filter(pl.col("track_id") == aircraft)
    pieces = mine.group_by("flight_id").agg((gap > 300).sum() + 1)["time"].sum()
    doc = json.loads(export(results, "geojson", tmp_path / "p.geojson", "--aircraft", aircraft).read_text())
    assert len(doc["features"]) == pieces > 1
    assert sum(len(f["geometry"]["coordinates"]) for f in doc["features"]) == mine.height
    for f in doc["features"]:  # each piece covers its own stretch, none spans a gap
        t0, t1 = f["properties"]["start_time"], f["properties"]["end_time"]
        inside = mine.filter((pl.col("time").dt.to_string("%Y-%m-%dT%H:%M:%S") >= t0[:19])
                             & (pl.col("time").dt.to_string("%Y-%m-%dT%H:%M:%S") <= t1[:19]))
        assert inside.select(gap.max()).item() is None or inside.select(gap.max()).item() <= 300


def test_missing_altitudes_never_put_an_aircraft_at_0_m_nor_mix_2d_and_3d(tmp_path):
    """Paris traffic with altitudes missing: CSV and KML put those positions at 0 m, and GeoJSON dropped them, so
    that 79 lines mixed 2-D and 3-D positions and shapely refused them (user trial). Within a geometry a missing
    altitude is interpolated between known ones; a geometry with none at all is 2-D."""
    import numpy as np

    from skyfence.report.export import geojson_document, with_altitudes, write_csv
    from skyfence.report.features import Feature

    coords = np.array([[2.0, 48.0, np.nan], [2.1, 48.0, 1000.0], [2.2, 48.0, np.nan], [2.3, 48.0, 3000.0],
                       [2.4, 48.0, np.nan]])
    filled, has_alt = with_altitudes(coords)
    assert has_alt and filled[:, 2].tolist() == [1000.0, 1000.0, 2000.0, 3000.0, 3000.0]
    none = coords.copy()
    none[:, 2] = np.nan
    assert not with_altitudes(none)[1]
    feats = [Feature("E-1", "track", "LineString", coords, "blue", {"track_id": "a"}),
             Feature("E-2", "track", "LineString", none, "blue", {"track_id": "b"}),
             Feature("E-3", "entry", "Point", none[:1], "blue", {"track_id": "b"})]
    doc = geojson_document(feats, "t")
    shapes = [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]  # refused a mixed line
    assert [s.has_z for s in shapes] == [True, False, False]
    write_csv(feats, tmp_path / "f.csv")
    rows = list(csv.DictReader((tmp_path / "f.csv").open()))
    wkt = [shapely.wkt.loads(r["wkt"] if "wkt" in r else r["geometry"]) for r in rows]
    assert [w.has_z for w in wkt] == [True, False, False]
    assert min(c[2] for c in wkt[0].coords) == 1000.0  # nobody at 0 m
