"""``analyze --cluster`` on a real LocalCluster gives one machine's results, row for row.

Hour boundaries fall inside a crossing, an encounter and a manoeuvre (synthetic flights); real traffic
goes through as an OpenSky dataset partitioned by hour; a corrupt hour file and a file that breaks
between the passes are reported and the rest finishes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

from skyfence import synthetic
from skyfence.analysis.inputs import Selection
from skyfence.analysis.run import analyze
from skyfence.cluster import run as cluster_run
from skyfence.cluster.archive import Period, archive_files, plan_periods, task_hours
from skyfence.cluster.run import analyze_on_cluster, connect, parse_cluster
from skyfence.cluster.scan import merged_report, scan_file
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.errors import SkyfenceError
from skyfence.sources.tabular import from_frame
from tests.cluster_data import TABLES, assert_same, boundary_tracks, write_hourly, write_opensky_dataset

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def client():
    with connect("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def boundary_archive(tmp_path_factory):
    return write_hourly(boundary_tracks(), tmp_path_factory.mktemp("boundary") / "archive")


def _at(h: int, m: int = 0) -> datetime:
    return datetime(2017, 11, 1, h, m, tzinfo=timezone.utc)


def test_events_across_hour_boundaries_are_identical(client, boundary_archive, euphrates):
    files = archive_files([boundary_archive])
    single = analyze(files, euphrates)
    cluster, run = analyze_on_cluster(files, euphrates, client, hours_per_task=1)
    assert_same(single, cluster)
    assert run.tasks == 4 and run.workers == 2 and not run.failed_files and not run.failed_periods
    # the boundaries do fall inside the events
    cross = cluster.crossings.filter(pl.col("track_id") == "778b01")
    assert ((cross["entry_time"] < _at(1)) & (cross["exit_time"] > _at(1))).any()
    enc = cluster.encounters
    assert ((enc["start_time"] < _at(2)) & (enc["end_time"] > _at(2))).any()
    man = cluster.manoeuvres.filter(pl.col("track_id") == "ae3c01")
    assert set(man["manoeuvre"]) == {"hard_turn", "orbit"}
    assert ((man["start_time"] < _at(3)) & (man["end_time"] > _at(3))).all()
    # the second sortie's crossing knows the first, which another task saw
    assert "1 time(s) before" in cross.sort("entry_time")["intent_reasons"][1]
    # flights numbered as one machine numbers them, across tasks
    assert cluster.summary["tracks"]["flights"] == single.summary["tracks"]["flights"] == 7
    assert run.extended >= 1  # the 80-minute orbit reaches past its task's halo: read further


@pytest.mark.parametrize("hours, halo", [(2, 1200.0), (3, None)])
def test_other_task_sizes_and_halos_give_the_same(client, boundary_archive, euphrates, hours, halo):
    files = archive_files([boundary_archive])
    single = analyze(files, euphrates)
    cluster, run = analyze_on_cluster(files, euphrates, client, hours_per_task=hours, halo=halo)
    assert run.tasks == 2  # blocks aligned to midnight: 00-02, 02-04 and 00-03, 03-06
    assert_same(single, cluster)


def test_a_window_and_box_asked_for_give_the_same(client, boundary_archive, euphrates):
    """--from/--to/--bbox: the states left out are left out (and counted) the same way."""
    select = Selection(start=_at(0, 55).timestamp(), end=_at(3, 20).timestamp(), bbox=(39.0, 34.0, 42.0, 36.4))
    files = archive_files([boundary_archive])
    single = analyze(files, euphrates, select=select)
    cluster, run = analyze_on_cluster(files, euphrates, client, select=select)
    assert_same(single, cluster)
    assert cluster.summary["input"]["dropped_by_reason"]["outside the time window (--from/--to)"] > 0


def test_real_traffic_as_an_opensky_hourly_dataset(client, samples, euphrates, tmp_path):
    """Real en-route traffic (842 aircraft), a spoofed flight and a close formation, as state_vectors_data4
    partitioned by hour, with positions a few seconds older than their snapshot's hour: every pair checked."""
    keep = samples.filter(pl.col("scenario").is_in(["gnss_spoofing", "formation_photo_shoot"])
                          | ((pl.col("scenario") == "enroute_rvsm_traffic")
                             & (pl.col("timestamp").dt.hour() < 9)))
    states, _ = from_frame(keep.drop("scenario", "source_sample"), "samples")
    folder = write_opensky_dataset(states, tmp_path / "state_vectors_data4")
    files = archive_files([folder])
    assert all(f.parent.name.startswith("hour=") for f in files)
    settings = EncounterSettings(pairs="all")
    single = analyze(files, euphrates, encounters=settings)
    cluster, run = analyze_on_cluster(files, euphrates, client, encounters=settings)
    assert_same(single, cluster)
    assert cluster.encounters.height > 10 and cluster.interactions.height > 0
    assert cluster.summary["input"]["dropped_by_reason"]  # the spoofed positions were cleaned the same way


def test_a_corrupt_hour_file_is_reported_and_the_rest_is_one_machines(client, boundary_archive, euphrates,
                                                                      tmp_path):
    archive = shutil.copytree(boundary_archive, tmp_path / "archive")
    bad = sorted(archive.iterdir())[1]
    bad.write_bytes(bad.read_bytes()[:200])  # truncated, as by a full disk
    files = archive_files([archive])
    cluster, run = analyze_on_cluster(files, euphrates, client)
    assert [f["file"] for f in run.failed_files] == [str(bad)]
    assert cluster.summary["missing"]["files"][0]["file"] == str(bad)
    single = analyze([f for f in files if f != bad], euphrates)
    for name in TABLES:
        assert getattr(single, name).equals(getattr(cluster, name))
    assert cluster.summary["tracks"] == single.summary["tracks"]


def test_a_task_that_fails_leaves_out_its_hours_only(client, boundary_archive, euphrates, tmp_path, monkeypatch):
    """A file that breaks after the first pass read it: the tasks that need it fail, with their files named."""
    archive = shutil.copytree(boundary_archive, tmp_path / "archive")
    last = sorted(archive.iterdir())[-1]

    def break_then_plan(spans, hours):
        last.write_bytes(b"PAR1 not parquet any more")
        return plan_periods(spans, hours)

    monkeypatch.setattr(cluster_run, "plan_periods", break_then_plan)
    cluster, run = analyze_on_cluster(archive_files([archive]), euphrates, client)
    missing = {p["period"] for p in run.failed_periods}
    assert {"2017-11-01T02:00Z/2017-11-01T03:00Z", "2017-11-01T03:00Z/2017-11-01T04:00Z"} <= missing
    assert len(missing) < run.tasks
    assert all(str(last) in p["files"] and "cannot read" in p["error"] for p in run.failed_periods)
    assert {p["period"] for p in cluster.summary["missing"]["periods"]} == missing
    # the hours that were analysed hold what one machine finds in them
    single = analyze(archive_files([boundary_archive]), euphrates)
    done = pl.lit(False)
    for p in periods_of(run.tasks, missing):
        done = done | pl.col("entry_time").is_between(_at(p), _at(p + 1), closed="left")
    assert single.crossings.filter(done).equals(cluster.crossings)
    assert cluster.crossings.height >= 2


def periods_of(tasks: int, missing: set[str]) -> list[int]:
    """The hours (of 2017-11-01) of the boundary archive's tasks that did not fail."""
    return [h for h in range(tasks) if f"2017-11-01T{h:02d}:00Z/2017-11-01T{h + 1:02d}:00Z" not in missing]


def test_cli_cluster_writes_the_same_files(boundary_archive, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-c", "from skyfence.cli import main; main()", "analyze",
                               str(boundary_archive), "-q", *args], capture_output=True, text=True, timeout=300)

    one = cli("--out", str(tmp_path / "one"))
    many = cli("--out", str(tmp_path / "many"), "--cluster", "local:2")
    assert one.returncode == 0 and many.returncode == 0, many.stderr
    assert "Cluster: 2 worker(s), 4 files, 4 tasks" in " ".join(many.stdout.split())
    for name in (*TABLES, "summary"):
        ext = "json" if name == "summary" else "csv"
        assert (tmp_path / "one" / f"{name}.{ext}").read_text() == (tmp_path / "many" / f"{name}.{ext}").read_text()


def test_cli_reports_a_corrupt_file_and_exits_1(boundary_archive, tmp_path):
    archive = shutil.copytree(boundary_archive, tmp_path / "archive")
    bad = sorted(archive.iterdir())[0]
    bad.write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-c", "from skyfence.cli import main; main()", "analyze", str(archive),
                           "-q", "--out", str(tmp_path / "o"), "--cluster", "local:1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert f"missing: {bad}" in " ".join(proc.stderr.split())
    doc = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert doc["missing"]["files"][0]["file"] == str(bad)


def test_out_of_order_rows_across_files_count_as_on_one_machine(tmp_path, euphrates):
    df = boundary_tracks()
    folder = write_hourly(df, tmp_path / "a")
    files = archive_files([folder])
    late = pl.read_parquet(files[2])
    # an aircraft's report filed an hour late: earlier than that aircraft's last report in the file before
    moved = pl.read_parquet(files[1]).filter(pl.col("track_id") == "ae4d01").head(1)
    pl.concat([moved, late]).write_parquet(files[2])
    scans = [scan_file(str(f)) for f in files]
    single = analyze(files, euphrates)
    report = merged_report(scans)
    assert report.corrected["out of order (reordered)"] >= 1
    assert report.corrected == single.report.corrected


def test_cluster_option_and_workers_checked(client):
    assert parse_cluster("local") == ("local", None)
    assert parse_cluster("local:3") == ("local", 3)
    assert parse_cluster("tcp://10.0.0.5:8786") == ("tcp://10.0.0.5:8786", None)
    for bad in ("local:0", "local:x", "nonsense"):
        with pytest.raises(SkyfenceError):
            parse_cluster(bad)
    assert cluster_run.check_workers(client) == 2
    with pytest.raises(SkyfenceError, match="different skyfence"):
        cluster_run.check_workers(client, mine="0123456789abcdef")


def test_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(SkyfenceError, match="cannot reach the scheduler"):
        with connect("tcp://127.0.0.1:1", timeout=2):
            pass


def test_archive_layouts(tmp_path):
    (tmp_path / "a" / "hour=7200").mkdir(parents=True)
    (tmp_path / "a" / "hour=3600").mkdir()
    (tmp_path / "a" / ".parts" / "x").mkdir(parents=True)
    for p in ("hour=7200/part-0.parquet", "hour=3600/part-0.parquet", ".parts/x/p.parquet", "_SUCCESS",
              "hour=3600/_metadata.parquet"):
        (tmp_path / "a" / p).write_bytes(b"")
    assert [f.relative_to(tmp_path / "a").as_posix() for f in archive_files([tmp_path / "a"])] == \
        ["hour=3600/part-0.parquet", "hour=7200/part-0.parquet"]
    assert len(archive_files([str(tmp_path / "a" / "hour=*" / "*.parquet")])) == 2
    with pytest.raises(SkyfenceError, match="no files match"):
        archive_files([str(tmp_path / "nothing-*.parquet")])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("x")
    with pytest.raises(SkyfenceError, match="no track files"):
        archive_files([tmp_path / "empty"])
    hour = 3600.0
    assert plan_periods([(hour + 0.5, hour + 100), (3 * hour, 4 * hour)], 1) == \
        [Period(hour, 2 * hour), Period(3 * hour, 4 * hour), Period(4 * hour, 5 * hour)]
    assert plan_periods([(hour + 0.5, 3 * hour)], 2) == [Period(0.0, 2 * hour), Period(2 * hour, 4 * hour)]


def test_task_size_chosen_from_the_archive():
    """Long tasks (few states read twice for halos) while a task holds at most a million states and every worker
    gets four tasks."""
    hour = 3600.0
    week = [(k * hour, (k + 1) * hour - 1.0) for k in range(168)]
    assert task_hours(week, 168 * 180_000, 2, 1800.0) == 4  # 5 h with halos: 900,000 states; 6 h would be 1.26 M
    assert task_hours(week, 168 * 10_000, 2, 1800.0) == 12  # a day a task would give 2 workers 7 tasks
    assert task_hours(week, 168 * 10_000, 1, 1800.0) == 24
    assert task_hours(week, 168 * 1_000_000, 2, 1800.0) == 1  # denser than a task holds: still an hour a task
    assert task_hours(week[:4], 4 * 10_000, 2, 1800.0) == 1  # too short to give each worker 4 tasks
    assert task_hours([], 0, 2, 1800.0) == 1


@pytest.mark.slow
def test_simulated_two_days_are_identical(client, euphrates, tmp_path):
    """The built-in scenario over two UTC days (orbits of hours, intercepts, crossings, manoeuvres)."""
    from skyfence.cli.simulate_cmd import run_simulation

    sim = run_simulation("euphrates-2017", 30.0, 11, None, True)
    files = archive_files([write_hourly(sim.tracks, tmp_path / "sim")])
    single = analyze(files, euphrates)
    cluster, run = analyze_on_cluster(files, euphrates, client)
    assert_same(single, cluster)
    assert len(single.summary["crossings"]["per_day"]) >= 2 and single.manoeuvres.height > 50
    assert single.interactions.height > 0 and single.encounters.height > 0


def test_a_stay_confirmed_more_than_a_halo_after_it_began_is_the_cluster_s_too(client, tmp_path):
    """An aircraft parked for over an hour at an airport a few hundred metres across the line (Orly, on the Paris
    meridian), then taking off deeper in: one machine has it inside from its first report, as the stay reached
    min_depth after take-off; the task of its first hour saw a stay too shallow to count within its halo, and
    dropped it (user trial). A stay still going on at the end of the data at hand is settled as an event is."""
    from tests.agreements import simple, write
    from skyfence.agreement import load_agreement

    ag = load_agreement(write(tmp_path, simple()))
    t0 = datetime(2017, 11, 1, 10, 20, tzinfo=timezone.utc).timestamp()
    parked = synthetic.table(t0 + np.arange(0.0, 100 * 60, 10.0), "a00001", "BLU1", 40.004, 35.5, 0.0, 0.0, 90.0,
                             0.0).with_columns(pl.lit(True).alias("on_ground"))
    out = synthetic.straight_track(40.004, 35.5, 90, 150, 240, 5, t0 + 100 * 60 + 10, "a00001", "BLU1",
                                   altitude=2000.0)
    back = synthetic.straight_track(*synthetic.position_at(40.004, 35.5, 90, 150, 240), 270, 150, 400, 5,
                                    t0 + 100 * 60 + 255, "a00001", "BLU1", altitude=3000.0)
    tracks = pl.concat([parked, out, back], how="vertical_relaxed")
    files = archive_files([write_hourly(tracks, tmp_path / "parked")])
    single = analyze(files, ag)
    crossing = single.crossings.row(0, named=True)
    assert single.crossings.height == 1 and crossing["entry_kind"] == "first_seen_inside"
    assert crossing["entry_time"].timestamp() == pytest.approx(t0) and crossing["max_depth_km"] > 30
    cluster, run = analyze_on_cluster(files, ag, client, hours_per_task=1)
    assert_same(single, cluster)


def test_report_cluster_analyses_the_archive_first(boundary_archive, tmp_path):
    from typer.testing import CliRunner

    from skyfence.cli import app

    out = tmp_path / "brief.html"
    res = CliRunner().invoke(app, ["report", str(boundary_archive), "--cluster", "local:1", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert out.exists() and (tmp_path / "brief-results" / "crossings.csv").exists()
    assert "crossings" in " ".join(res.output.split())
