"""Loading and validating agreements; the built-in Euphrates 2017 agreement."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from skyfence.agreement import load_agreement
from skyfence.agreements import __file__ as agreements_init
from skyfence.cli import app
from skyfence.errors import AgreementError
from tests.agreements import SIMPLE, simple, write

runner = CliRunner()


def test_builtin_sides_follow_the_river(euphrates):
    east = euphrates.area("coalition-side")
    west = euphrates.area("russia_syria-side")
    assert east.closed_to == ("russia_syria",) and west.closed_to == ("coalition",)
    # Hasakah and Raqqa's north are east of the line; the desert toward Palmyra is west
    for lon, lat in [(40.75, 36.5), (39.0, 36.1), (40.8, 35.0)]:
        assert east.polygon.contains(shapely.Point(lon, lat))
    for lon, lat in [(39.5, 34.8), (40.0, 35.0), (38.8, 35.5)]:
        assert west.polygon.contains(shapely.Point(lon, lat))
    # Deir ez-Zor airport (OSDZ) is on the Syrian side of the river
    assert west.polygon.contains(shapely.Point(40.176, 35.2854))
    # the sides share the line and together make the region
    assert abs(east.polygon_xy.area + west.polygon_xy.area
               - euphrates.projection.geometry_forward(euphrates.region).area) < 1e6


def test_builtin_zone_and_thresholds(euphrates):
    tanf = euphrates.area("at-tanf")
    assert tanf.owner == "coalition" and tanf.closed_to == ("russia_syria",)
    assert 9000e6 < tanf.polygon_xy.area < 9600e6  # pi * 55 km^2 = 9,503 km^2
    assert euphrates.thresholds.separation.caution_horizontal == pytest.approx(20 * 1852)
    assert euphrates.thresholds.crossing.min_depth == 1000


def test_a_simple_file_loads(tmp_path):
    a = load_agreement(write(tmp_path, SIMPLE))
    assert [x.id for x in a.areas] == ["blue-side", "red-side"]
    assert a.area("red-side").polygon.contains(shapely.Point(40.5, 35.5))


def test_line_is_extended_to_the_region_edge(tmp_path):
    doc = simple(line={"geojson": {"type": "LineString", "coordinates": [[40.0, 35.0], [40.0, 36.0]]}})
    a = load_agreement(write(tmp_path, doc))
    west = a.area("blue-side").polygon
    assert west.contains(shapely.Point(39.5, 34.6)) and west.contains(shapely.Point(39.5, 36.4))


def test_sides_by_point(tmp_path):
    doc = simple(sides=[{"party": "blue", "point": [39.5, 35.5]}, {"party": "red", "point": [40.5, 35.5]}])
    a = load_agreement(write(tmp_path, doc))
    assert a.area("blue-side").polygon.contains(shapely.Point(39.2, 35.0))


def test_geojson_file_and_feature(tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "river"},
         "geometry": {"type": "LineString", "coordinates": [[40, 34], [40, 37]]}}]}
    (tmp_path / "shapes.geojson").write_text(json.dumps(fc))
    a = load_agreement(write(tmp_path, simple(line={"file": "shapes.geojson", "feature": "river"})))
    assert len(a.areas) == 2


@pytest.mark.parametrize("doc, field, words", [
    (simple(sides=[{"party": "green", "toward": "west"}]), "sides[0].party", "unknown party 'green'"),
    (simple(line={"geojson": {"type": "LineString", "coordinates": [[45, 34], [45, 37]]}}), "line", "does not cut"),
    (simple(line={"geojson": {"type": "LineString", "coordinates": [[39, 34.5], [41, 34.5]]}}), "line",
     "does not cut"),
    (simple(region={"geojson": {"type": "Polygon", "coordinates": [[[39, 34], [41, 37], [41, 34], [39, 37], [39, 34]]]}}),
     "region", "Self-intersection"),
    (simple(region={"bbox": [39, 34.5, 41, 96.5]}), "region", "out of range"),
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "floor": "FL300", "ceiling": "FL200"}]),
     "zones[0].floor", "not below the ceiling"),
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "owner": "blu"}]), "zones[0].owner",
     "did you mean 'blue'"),
    (simple(parties=[{"id": "blue", "name": "B", "identify": {"countries": ["Sirya"]}}]),
     "parties[0].identify.countries[0]", "did you mean 'Syria'"),
    (simple(parties=[{"id": "blue", "name": "B", "identify": {"countries": ["Syria"]}},
                     {"id": "red", "name": "R", "identify": {"hex_ranges": ["778000-778FFF"], "countries": ["Syria"]}}]),
     "parties[1].identify.countries", "both claim"),
    (simple(parties=[{"id": "blue", "name": "B", "identify": {"callsigns": ["RCH("]}}]),
     "parties[0].identify.callsigns[0]", "regular expression"),
    (simple(thresholds={"crossing": {"min_depth": "1 parsec"}}), "thresholds.crossing.min_depth", "unknown unit"),
    (simple(colour="blue"), "colour", "unknown field"),
    (simple(parties=[{"name": "no id"}]), "parties[0].id", "required"),
    (simple(sides=[{"party": "blue", "toward": "west"}, {"party": "red", "toward": "west"}]), "sides[1]",
     "already names this side"),
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]},
                    "valid_from": "2017-11-02T00:00:00Z", "valid_to": "2017-11-01T00:00:00Z"}]),
     "zones[0].valid_to", "ends before it starts"),
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "valid_from": "2017-11-02T00:00:00"}]),
     "zones[0].valid_from", "time zone"),
    # from a user trial: each of these was OK
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "floor": 3000}]), "zones[0].floor",
     "3000 has no unit: write it as 3000 ft"),
    (simple(thresholds={"separation": {"horizontal": 5}}), "thresholds.separation.horizontal", "5 has no unit"),
    (simple(zones=[{"id": "z", "shape": {"circle": {"center": [35.1, 39.6], "radius": "20 km"}}}]), "zones[0].shape",
     "wholly outside the region"),
    (simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "owner": "red", "closed_to": ["red"]}]),
     "zones[0].closed_to", "closed to its own owner 'red'"),
    (simple(parties=[{"id": "blue", "name": "B", "identify": {}}, {"id": "red", "name": "R",
                                                                 "identify": {"countries": ["Syria"]}}]),
     "parties[0].identify", "identifies no aircraft"),
])
def test_validation_names_the_field(tmp_path, doc, field, words):
    with pytest.raises(AgreementError) as err:
        load_agreement(write(tmp_path, doc))
    assert err.value.field == field, str(err.value)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_a_key_given_twice_is_refused(tmp_path):
    """YAML keeps the last of two keys: a second floor in a zone silently won (user trial)."""
    path = write(tmp_path, simple(zones=[{"id": "z", "shape": {"bbox": [39.5, 35, 39.8, 35.3]}, "floor": "FL100"}]))
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.strip() == "floor: FL100")
    text = "\n".join(lines[:k + 1] + [lines[k].replace("FL100", "FL200")] + lines[k + 1:]) + "\n"
    assert text.count("floor:") == 2
    path.write_text(text)
    with pytest.raises(AgreementError, match=r"not valid YAML: line \d+: 'floor' is given twice \(first on line \d+\)"):
        load_agreement(path)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(AgreementError, match="no such file, and not a built-in agreement"):
        load_agreement(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(AgreementError, match="not valid YAML"):
        load_agreement(bad)


def test_cli_validate_and_show(tmp_path):
    ok = runner.invoke(app, ["agreement", "validate", str(write(tmp_path, SIMPLE))])
    assert ok.exit_code == 0 and "OK: test-line: 2 parties, 2 sides, 0 zones" in ok.output
    shown = runner.invoke(app, ["agreement", "show", "euphrates-2017", "--geojson", str(tmp_path / "a.geojson")])
    assert shown.exit_code == 0, shown.output
    assert "At-Tanf" in shown.output and "russia_syria" in shown.output
    fc = json.loads((tmp_path / "a.geojson").read_text())
    assert {f["properties"]["id"] for f in fc["features"]} == {"line", "coalition-side", "russia_syria-side", "at-tanf"}
    # a zone with a floor and a ceiling (the built-in one runs from the surface up, unlimited)
    doc = yaml.safe_load((Path(agreements_init).parent / "euphrates-2017.yaml").read_text())
    doc["zones"][0].update(floor="FL50", ceiling="FL100")
    doc["line"]["file"] = doc["region"]["file"] = str(Path(agreements_init).parent / "euphrates-2017.geojson")
    banded = tmp_path / "banded.yaml"
    banded.write_text(yaml.safe_dump(doc))
    shown = runner.invoke(app, ["agreement", "show", str(banded)])
    assert shown.exit_code == 0, shown.output
    assert "5,000 ft" in shown.output and "10,000 ft" in shown.output


def test_cli_reports_a_bad_agreement_in_one_line(tmp_path):
    import subprocess, sys
    path = write(tmp_path, simple(sides=[{"party": "green", "toward": "west"}]))
    proc = subprocess.run([sys.executable, "-c", "from skyfence.cli import main; main()", "agreement", "validate",
                           str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "sides[0].party: unknown party 'green'" in proc.stderr
    assert "Traceback" not in proc.stderr


@given(lon=st.floats(0.05, 5.45), offset_m=st.floats(5.0, 500.0))
def test_a_line_along_a_parallel_is_straight_in_lon_lat(tmp_path_factory, lon, offset_m):
    """GeoJSON edges are straight in lon/lat: a line along 46.5 N from 0 to 5.5 E, two vertices, is that parallel,
    not the chord of its projection (which bowed 3.7 km north of it mid-way; user trial)."""
    doc = simple(line={"geojson": {"type": "LineString", "coordinates": [[0.0, 46.5], [5.5, 46.5]]}},
                 region={"bbox": [0.0, 45.0, 5.5, 48.0]},
                 sides=[{"party": "blue", "toward": "south"}, {"party": "red", "toward": "north"}])
    ag = load_agreement(write(tmp_path_factory.mktemp("parallel"), doc))
    north = ag.area("red-side")
    dlat = offset_m / 111_200.0
    x, y = ag.projection.forward(np.array([lon, lon]), np.array([46.5 + dlat, 46.5 - dlat]))
    assert north.area_index.contains(x, y).tolist() == [True, False]
    assert north.depth_index.distance(x, y) == pytest.approx([offset_m, offset_m], rel=0.02)


def test_zones_overlapping_in_space_altitude_and_time_are_noted(tmp_path):
    """Two zones, one square, windows 00-12 and 06-18, closed to red: validate said OK, and analyze counted
    every aircraft inside twice (user trial). The agreement stays valid (nested zones are legitimate); validate
    and show say so."""
    def zone(zid, start, end, box=(39.5, 35.0, 39.8, 35.3)):
        return {"id": zid, "shape": {"bbox": list(box)}, "closed_to": ["red"],
                "valid_from": f"2017-11-01T{start:02d}:00:00Z", "valid_to": f"2017-11-01T{end:02d}:00:00Z"}

    both = write(tmp_path, simple(zones=[zone("z1", 0, 12), zone("z1b", 6, 18)]), "both.yaml")
    result = CliRunner().invoke(app, ["agreement", "validate", str(both)])
    assert result.exit_code == 0 and result.output.startswith("OK: ")
    assert "note: zones z1 and z1b overlap (" in result.output and "counts as a crossing of each" in result.output
    shown = subprocess.run([sys.executable, "-m", "skyfence", "agreement", "show", str(both)], capture_output=True,
                           text=True, env={**os.environ, "COLUMNS": "200"}).stdout  # a table wide enough
    assert "note: zones z1 and z1b overlap" in shown
    assert "2017-11-01 00:00Z to 2017-11-01 12:00Z" in shown  # the validity whole, not cut to '...'
    apart = [zone("z1", 0, 6), zone("z1b", 6, 18), zone("z2", 0, 12, (39.9, 35.0, 40.0, 35.1))]
    result = CliRunner().invoke(app, ["agreement", "validate", str(write(tmp_path, simple(zones=apart), "apart.yaml"))])
    assert result.exit_code == 0 and "note:" not in result.output  # one after the other, or side by side
