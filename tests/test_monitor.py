"""``skyfence monitor`` on recorded files: a replay gives analyze's events; a store that goes away; kill -9 and
restart; bad input (live sources and their faults: ``test_monitor_live.py``).

The replays run at ``--speed 0`` with a 60 s tick (entry and exit times come from the data, not from the
tick, so the tick only sets how soon an event is told, not what it says).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.live.monitor import Monitor
from skyfence.live.replay import ReplayServer, records_from_states
from skyfence.live.replay_check import analysis_events, differences, final_events
from skyfence.live.sources import open_source
from skyfence.sources.formats import read_any

from tests.incident_stores import pg_database, pg_url  # noqa: F401 - fixtures
from tests.monitor_helpers import TICK, cli, run_monitor, store_incidents

@pytest.fixture(scope="module")
def sim_store(tmp_path_factory) -> str:
    """The store of the replay of the simulated slice (an uninterrupted run, for the kill -9 tests)."""
    return str(tmp_path_factory.mktemp("calm") / "calm.db")


@pytest.fixture(scope="module")
def sim_run(sim_slice, euphrates, sim_store):
    from skyfence.incidents.store import IncidentStore

    with IncidentStore.open(sim_store) as store:
        ups, report, _ = run_monitor([sim_slice], euphrates, store)
    return ups, report


# ---- the property: a replay gives analyze's events -----------------------------------------------------


def test_replay_of_the_simulated_day_gives_analyze_events(sim_slice, sim_run, euphrates):
    ups, report = sim_run
    a = analyze([sim_slice], euphrates)
    mine, theirs = final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres, a.interactions)
    assert a.crossings.filter(pl.col("entry_kind") == "crossed").height == 2
    assert a.encounters.height >= 1 and a.manoeuvres.height >= 5
    assert differences(mine, theirs) == []
    assert report.bad == {} or sum(report.bad.values()) == 0


def test_each_crossing_is_one_incident_warned_started_and_ended(sim_run, euphrates):
    ups, _ = sim_run
    crossings = {}
    for u in ups:
        if u.kind == "crossing":
            crossings.setdefault(u.incident_id, []).append(u)
    crossed = {k: v for k, v in crossings.items() if any(u.event == "crossing_started" for u in v)}
    assert len(crossed) == 2
    for steps in crossed.values():
        events = [u.event for u in steps]
        assert events == ["crossing_warning", "crossing_started", "crossing_ended"], events
        warning, started, ended = steps
        assert warning.details["time_to_entry_s"] > 0 and "predicted_entry_lat" in warning.details
        assert warning.time < started.time < ended.time
        assert ended.ended and ended.end_time is not None and ended.details["depth_km"] > 1.0
        assert ended.details["duration_s"] > 20 and ended.details["intent"]
        assert ended.severity in ("crossing", "deep_crossing") and started.track
        # judged once over: a judgement of the crossing so far read "back out within 106 s" of one still inside
        assert started.details["open"] and started.details["intent"] is None, started.details
        # the party by its name, as the hotline says it ("RAPTOR83 (coalition)" read as an id; user trial)
        assert f"({euphrates.party_name(started.aircraft[0].party)})" in started.summary, started.summary
        # the incident stays where the aircraft crossed (the README's lat, lon), not at its deepest point
        assert (ended.lat, ended.lon) == (started.lat, started.lon)
        assert (started.lat, started.lon) == pytest.approx((started.details["entry_lat"], started.details["entry_lon"]),
                                                           abs=1e-5)
    # every update is told once: no (incident, event, time) twice
    keys = [(u.incident_id, u.event, u.time) for u in ups]
    assert len(keys) == len(set(keys))


def test_encounter_levels_rise_then_end_with_separation_now_and_closest(sim_run):
    ups, _ = sim_run
    enc = [u for u in ups if u.kind == "encounter"]
    assert enc
    first = enc[0]
    assert first.event == "level_changed" and first.details["level"] in ("caution", "warning", "loss", "nmac")
    for key in ("horizontal_nm", "vertical_ft", "closest_horizontal_nm", "closest_vertical_ft"):
        assert first.details[key] is not None
    assert any(u.event == "encounter_ended" and u.ended for u in enc)
    assert {a.party for a in first.aircraft} == set(first.parties)


def test_ids_do_not_depend_on_the_window_or_the_tick(sim_slice, sim_run, euphrates):
    ups, _ = sim_run
    again, _, _ = run_monitor([sim_slice], euphrates, tick=75.0)  # ticks falling elsewhere than 60 s
    assert {u.incident_id for u in ups} == {u.incident_id for u in again}


def test_detection_cost_per_tick_stays_with_the_window(sim_run):
    _, report = sim_run
    sizes = report.window_states
    assert report.detections > 60  # a run a minute of the 2 h slice: about 130
    # the window holds a window's states (and the open events' aircraft), not the day's
    assert max(sizes) < report.states / 2


# ---- the store: outages, kill -9 -------------------------------------------------------------------------






def _kill_and_restart(slice_path: Path, url: str, count) -> None:
    args = ["monitor", "--source", str(slice_path), "--agreement", "euphrates-2017", "--store", url, "--speed", "0",
            "--tick", str(TICK), "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "skyfence", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None and count() < 3:
            time.sleep(0.2)
        assert proc.poll() is None, "the monitor ended before it could be killed"
        assert count() >= 3
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = cli(*args, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_then_restart_ends_with_the_samestore_incidents(backend, sim_slice, sim_run, sim_store, tmp_path,
                                                                  request):
    if backend == "sqlite":
        killed = str(tmp_path / "killed.db")

        def count():
            try:
                with sqlite3.connect(killed) as c:
                    return c.execute("select count(*) from incidents").fetchone()[0]
            except sqlite3.Error:
                return 0
    else:
        killed = request.getfixturevalue("pg_url")
        import psycopg

        schema = killed.rsplit("%3D", 1)[1]

        def count():
            try:
                with psycopg.connect(killed.split("?")[0]) as c:
                    return c.execute(f'select count(*) from "{schema}".incidents').fetchone()[0]
            except psycopg.Error:
                return 0
    _kill_and_restart(sim_slice, killed, count)
    calm = store_incidents(sim_store)  # the same replay (the same tick), never killed
    assert store_incidents(killed) == calm
    assert len(calm) > 5


def test_updates_wait_in_memory_while_the_store_is_down(sim_slice, euphrates, pg_database):
    """A real outage of a PostgreSQL database of this test session: connections refused and cut, then allowed
    again; every update is written once it is back."""
    import psycopg

    from skyfence.incidents.store import IncidentStore

    admin = pg_database.rsplit("/", 1)[0] + "/test"
    name = pg_database.rsplit("/", 1)[1]
    store = IncidentStore.open(pg_database)
    m = Monitor([open_source(str(sim_slice))], euphrates, store, tick=TICK, speed=0)
    ups, outage = [], {"on": False, "seen": 0}

    def listener(batch):
        ups.extend(batch)
        if not outage["on"] and len(ups) >= 5 and outage["seen"] == 0:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            outage["on"] = True
        elif outage["on"]:
            outage["seen"] += 1
            if outage["seen"] == 30:
                assert m.outbox.waiting, "updates wait while the store is down"
                with psycopg.connect(admin, autocommit=True) as c:
                    c.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                outage["on"] = False

    m.subscribe(listener)
    try:
        report = m.run()
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert report.store_failures >= 1 and report.store_waiting == 0
    assert report.store_written == len(ups)
    stored = {i.id for i in store.incidents()}
    store.close()
    for u in ups:
        assert u.incident_id in stored or IncidentStore.open(pg_database).get(u.incident_id) is not None


# ---- bad input: one line, exit 2 -------------------------------------------------------------------------


@pytest.mark.parametrize("args,expect", [
    (["--source", "missing.parquet", "--agreement", "euphrates-2017"], "missing.parquet"),
    (["--source", "sbs://", "--agreement", "euphrates-2017"], "not a feed address"),
    (["--source", "{slice}", "--agreement", "no-such-agreement"], "no-such-agreement"),
    (["--source", "{slice}", "--agreement", "euphrates-2017", "--store", "mysql://x/y"], "store"),
    (["--source", "{slice}", "--agreement", "euphrates-2017", "--tick", "0"], "--tick"),
    (["--source", "{slice}", "--agreement", "euphrates-2017", "--tick", "nan"], "--tick"),  # a traceback (user trial)
    (["--source", "{slice}", "--agreement", "euphrates-2017", "--tick", "1e-9"], "--tick"),  # no progress, ever
    (["--source", "{slice}", "--agreement", "euphrates-2017", "--speed", "inf"], "--speed"),  # hung
])
def test_bad_source_agreement_or_store_is_one_line_and_exit_2(args, expect, sim_slice, tmp_path):
    args = [a.replace("{slice}", str(sim_slice)) for a in args]
    r = cli("monitor", *args, "--quiet", cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and expect in r.stderr and "Traceback" not in r.stderr


def test_an_encounter_level_falling_while_it_goes_on_is_told(tmp_path):
    """Blue and red head-on at the same level: warning, loss, near collision as they close; once past each
    other, still within 5 NM, the level at the latest instant falls back to loss: told as ``level_fell``
    with the separation now, while the incident keeps its highest level and the summary of the worst."""
    from skyfence import synthetic
    from skyfence.incidents import IncidentStore
    from tests.agreements import simple, write

    ag = load_agreement(write(tmp_path, simple()))
    lon_b, lat_b = synthetic.position_at(39.5, 35.5, 90.0, 60_000.0, 1.0)
    back = synthetic.WGS84.inv(lon_b, lat_b, 39.5, 35.5)[0]
    blue = synthetic.straight_track(39.5, 35.5, 90.0, 200.0, 700.0, 1.0, track_id="a00001", callsign="BLUE1")
    red = synthetic.straight_track(lon_b, lat_b, back, 200.0, 700.0, 1.0, track_id="778001", callsign="RED1")
    path = tmp_path / "head-on.parquet"  # long enough after they part for the encounter to be told over
    pl.concat([blue, red]).write_parquet(path)
    with IncidentStore.open(tmp_path / "s.db") as store:
        ups, _, _ = run_monitor([path], ag, store, tick=5.0)
        (inc,) = store.incidents(kind="encounter")
        audit = [c.action for c in store.audit(inc.id)]
    enc = [u for u in ups if u.kind == "encounter"]
    events = [(u.event, u.details.get("level_now") or u.details["level"]) for u in enc]
    assert events[:3] == [("level_changed", "warning"), ("level_changed", "loss"), ("level_changed", "nmac")], events
    fell = [u for u in enc if u.event == "level_fell"]
    assert [u.details["level_now"] for u in fell] == ["loss"], events
    f = fell[0]
    assert f.severity == "nmac" and f.details["level"] == "nmac"  # the incident's highest stays
    assert 0 < f.details["horizontal_now_nm"] < 5.0 and f.details["vertical_now_ft"] == 0
    assert "now loss (highest nmac)" in f.summary
    assert enc[-1].event == "encounter_ended", [(u.event, u.time.isoformat(), u.details.get("level_now")) for u in enc]
    assert fell[0].time < enc[-1].time
    assert inc.severity == "nmac" and inc.last_event == "encounter_ended"
    assert audit.count("severity_raised") == 2 and "updated" in audit


def test_duration_ends_a_live_monitor_mid_tick(euphrates):
    """--duration 2 with a 60 s tick on a feed that is not there stopped after the tick, a minute on (user trial)."""
    from skyfence.bench_ingest import free_port

    m = Monitor([open_source(f"sbs://127.0.0.1:{free_port()}")], euphrates, tick=60.0, duration=2.0)
    t0 = time.monotonic()
    m.run()
    assert time.monotonic() - t0 < 10.0


def test_duration_ends_a_live_monitor_with_its_page_and_the_updates_file_grows_line_by_line(sim_slice, tmp_path):
    """--web with --duration on a live feed said the data had ended and stayed up until Ctrl-C (user trial): the
    page stays up only after recorded data ends by itself. --updates is appended as updates come (it was opened
    anew at each start, and block-buffered: a kill -9 left it behind the store)."""
    from skyfence.bench_ingest import free_port

    states, _ = read_any(sim_slice)
    updates = tmp_path / "updates.jsonl"
    updates.write_text('{"before": true}\n')
    server = ReplayServer(records_from_states(states.sort("time"), "sbs"))
    server.start()
    try:
        t0 = time.monotonic()
        r = cli("monitor", "--source", f"sbs://127.0.0.1:{server.port}", "--agreement", "euphrates-2017", "--store",
                 str(tmp_path / "s.db"), "--web", f"127.0.0.1:{free_port()}", "--duration", "8", "--tick", "1",
                 "--updates", str(updates), "--quiet", timeout=120)
        took = time.monotonic() - t0
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    assert took < 60 and "stays up" not in r.stderr
    lines = updates.read_text().splitlines()
    assert lines[0] == '{"before": true}' and len(lines) > 3


def test_a_replay_behind_its_speed_says_so_and_counts_what_it_replayed(sim_slice, euphrates):
    """--speed 120 ran at 36x without a word, and a replay stopped by --duration counted the whole file's records
    as received (user trial)."""
    said: list[str] = []
    m = Monitor([open_source(str(sim_slice))], euphrates, tick=1.0, speed=1e6, duration=4.0, log=said.append)
    m.behind_told = 1.0
    report = m.run()
    assert any("behind --speed 1e+06" in line and "real time" in line for line in said), said
    assert 0 < report.states < read_any(sim_slice)[0].height and report.records == report.states


def test_a_crossing_whose_exit_stays_open_to_a_return_for_longer_than_a_context_is_told_once(tmp_path):
    """A fighter 3 km in, then 500 m out along the line for 25 minutes (a shallow return: analyze keeps it one
    crossing), then 15 km in and out for good. The monitor forgot the crossing while its exit waited to be final:
    it never told its end, and told the second entry as a new crossing (review)."""
    from skyfence import synthetic
    from tests.agreements import simple, write

    ag = load_agreement(write(tmp_path, simple()))
    at = [(0, -5000), (40, 3000), (100, 3000), (110, -500), (1610, -500), (1640, 15000), (1940, 15000),
          (1970, -5000), (3200, -5000)]
    t = np.arange(0.0, at[-1][0] + 1.0, 2.0)
    east = np.interp(t, [a for a, _ in at], [d for _, d in at])
    df = synthetic.table(synthetic.EPOCH_2017 + t, "a01234", "B", 40.0 + east / (111320 * np.cos(np.radians(35.5))),
                         35.0 + t * 30.0 / 111000, 6000.0, 200.0, 0.0, 0.0)
    path = tmp_path / "loiter.parquet"
    df.write_parquet(path)
    a = analyze([path], ag)
    assert a.crossings.height == 1 and a.crossings["exit_final"].to_list() == [True]
    ups, _, _ = run_monitor([path], ag, tick=30.0)
    assert differences(final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres,
                                                          a.interactions)) == []
    told = [(u.incident_id, u.event) for u in ups if u.kind == "crossing" and u.event != "crossing_warning"]
    assert len({i for i, _ in told}) == 1 and [e for _, e in told].count("crossing_ended") == 1, told
