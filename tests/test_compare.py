"""``skyfence compare``: the same traffic under two agreements; events that appear or vanish add up."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from skyfence.agreement import load_agreement
from skyfence.agreements import __file__ as agreements_init
from skyfence.cli import app
from skyfence.errors import SkyfenceError
from skyfence.report.compare import compare
from tests.report_data import runner, simulated_tracks

BUILTIN = Path(agreements_init).parent


@pytest.fixture(scope="module")
def tracks(tmp_path_factory) -> Path:
    return simulated_tracks(tmp_path_factory.mktemp("sim"))


def moved_agreement(folder: Path, east_km: float, horizontal: str = "5 NM") -> Path:
    """The built-in agreement with its line moved ``east_km`` east and a horizontal separation of ``horizontal``."""
    shapes = json.loads((BUILTIN / "euphrates-2017.geojson").read_text())
    for f in shapes["features"]:
        if f["properties"]["id"] == "line":
            f["geometry"]["coordinates"] = [[x + east_km / (111.32 * math.cos(math.radians(y))), y]
                                            for x, y in f["geometry"]["coordinates"]]
    (folder / "moved.geojson").write_text(json.dumps(shapes))
    doc = yaml.safe_load((BUILTIN / "euphrates-2017.yaml").read_text())
    doc["name"] = f"moved-{east_km:g}km"
    doc["line"]["file"] = doc["region"]["file"] = "moved.geojson"
    doc["thresholds"]["separation"]["horizontal"] = horizontal
    path = folder / f"moved-{east_km:g}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_same_agreement_twice_changes_nothing(tracks):
    ag = load_agreement("euphrates-2017")
    result = compare([tracks], (ag, ag), ("A", "B"))
    assert result.changes.height == 0
    assert all(a == b for _, a, b in result.rows)


def test_moved_line_events_add_up(tracks, tmp_path):
    a = load_agreement("euphrates-2017")
    b = load_agreement(moved_agreement(tmp_path, 10.0, "8 NM"))
    result = compare([tracks], (a, b), ("A", "B"), out=tmp_path / "out")
    ch = result.changes
    for kind, table_a, table_b in (("crossing", result.a.crossings, result.b.crossings),
                                   ("encounter", result.a.encounters, result.b.encounters)):
        mine = ch.filter(pl.col("event") == kind)
        vanished = mine.filter(pl.col("change") == "vanishes").height
        appeared = mine.filter(pl.col("change") == "appears").height
        assert table_a.height - vanished + appeared == table_b.height, kind
    # moved 10 km into the coalition's side, the shallow drifts across the river no longer cross
    gone = ch.filter((pl.col("event") == "crossing") & (pl.col("change") == "vanishes"))
    assert gone.height >= 1
    shallow = result.a.crossings.filter(pl.col("max_depth_km") < 10)["track_id"].to_list()
    assert set(gone["track_id"]) <= set(shallow)
    rows = {name: (va, vb) for name, va, vb in result.rows}
    assert rows["crossings"] == (result.a.crossings.height, result.b.crossings.height)
    for side in ("a", "b"):
        assert (tmp_path / "out" / side / "summary.json").is_file()


def test_compare_command(tracks, tmp_path):
    moved = moved_agreement(tmp_path, 10.0)
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(tracks), "-a", "euphrates-2017", "-a", str(moved), "-o", str(out),
                                 "-q"])
    assert result.exit_code == 0, result.output
    assert "A: euphrates-2017" in result.output and "B: moved-10km" in result.output
    doc = json.loads((out / "compare.json").read_text())
    changes = pl.read_csv(out / "changes.csv")
    assert len(doc["changes"]) == changes.height and "vanishes" in set(changes["change"])
    result = runner.invoke(app, ["compare", str(tracks), "-a", "euphrates-2017"])
    assert isinstance(result.exception, SkyfenceError) and "exactly twice" in str(result.exception)


def test_an_encounter_of_no_duration_matches_itself():
    """compare found a 0 s encounter (one instant) both vanishing from A and appearing under B."""
    from datetime import datetime, timezone

    from skyfence.evaluate.match import match

    at = datetime(2017, 11, 1, 3, 3, 8, tzinfo=timezone.utc)
    events = pl.DataFrame({"track_id": ["43c5d1"], "start_time": [at], "end_time": [at]})
    m = match(events, events, tolerance=0.0)
    assert m.truth_index.tolist() == [0] and m.detected_index.tolist() == [0]
    later = pl.DataFrame({"track_id": ["43c5d1"], "start_time": [datetime(2017, 11, 1, 3, 4, tzinfo=timezone.utc)],
                          "end_time": [datetime(2017, 11, 1, 3, 4, tzinfo=timezone.utc)]})
    assert len(match(events, later, tolerance=0.0).truth_index) == 0


def _events(spans, aircraft="43c5d1"):
    from datetime import datetime, timezone

    t0 = datetime(2017, 11, 1, tzinfo=timezone.utc).timestamp()
    at = [(datetime.fromtimestamp(t0 + a, timezone.utc), datetime.fromtimestamp(t0 + b, timezone.utc))
          for a, b in spans]
    return pl.DataFrame({"track_id": [aircraft] * len(at), "start_time": [a for a, _ in at],
                         "end_time": [b for _, b in at]}, schema={"track_id": pl.String,
                                                                  "start_time": pl.Datetime("us", "UTC"),
                                                                  "end_time": pl.Datetime("us", "UTC")})


def test_a_long_event_found_at_its_ends_is_found_but_little_covered():
    """A 5.7 h orbit detected only as 10 minutes at each end counted as found, recall 1.000 (user trial)."""
    from skyfence.evaluate.match import coverage, match

    truth, found = _events([(0, 20520)]), _events([(-60, 600), (19920, 20580)])
    assert match(truth, found, tolerance=20.0, one_to_one=False).recall == 1.0
    assert coverage(truth, found) == pytest.approx(1200 / 20520)
    assert coverage(truth, _events([])) == 0.0 and coverage(_events([(5, 5)]), found) is None
    assert coverage(truth, _events([(0, 20520)], aircraft="ae0001")) == 0.0  # another aircraft covers nothing


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 120)), min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(-50, 350), st.integers(0, 150)), max_size=6))
def test_coverage_is_the_share_of_true_seconds_a_detection_overlaps(truth_spans, found_spans):
    from skyfence.evaluate.match import coverage

    truth = [(a, a + n) for a, n in truth_spans]
    found = [(a, a + n) for a, n in found_spans]
    seconds = sum(b - a for a, b in truth)
    got = coverage(_events(truth), _events(found))
    if seconds == 0:
        assert got is None
        return
    # brute force, second by second (integers): each true event's seconds covered by any detection
    covered = sum(sum(1 for s in range(a, b) if any(c <= s and s + 1 <= d for c, d in found)) for a, b in truth)
    assert got == pytest.approx(covered / seconds)
