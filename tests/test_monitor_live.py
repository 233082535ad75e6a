"""``skyfence monitor`` on live sources: receivers merged into one picture, polled endpoints, the recording, and
the faults of a live run (a locked store, a record dated years ahead, slow or failing detection, kill -9 and a
restart on the recording, a backlog, a feed that is not there)."""

from __future__ import annotations

import http.server
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from skyfence.analysis.run import analyze
from skyfence.live.monitor import Monitor
from skyfence.live.replay import ReplayServer, records_from_states
from skyfence.live.replay_check import analysis_events, differences, final_events
from skyfence.live.sources import open_source
from skyfence.sources.formats import read_any
from skyfence.sources.opensky import to_states_answer
from skyfence.sources.readsb import to_snapshots

from tests.monitor_helpers import cli, run_monitor, run_until_sent, store_incidents


# ---- sources ---------------------------------------------------------------------------------------------


def test_a_receiver_whose_copy_comes_late_is_still_one_aircraft():
    """The second receiver's copy of the feed came a batch later than the first's (a busy machine in CI): its
    states, at exactly the times the first gave, were kept as new ones; they are copies."""
    from skyfence.live.merge import Deduplicator

    t0 = datetime(2017, 11, 1, 6, 0, tzinfo=timezone.utc)
    def feed(source):
        return pl.DataFrame({"track_id": ["155a3f"] * 10, "time": [t0 + timedelta(seconds=k) for k in range(10)],
                             "source": [source] * 10})
    d = Deduplicator()
    assert d(feed("a")).height == 10
    assert d(feed("b")).height == 0 and d.duplicates == 10
    later = feed("b").with_columns(pl.col("time") + timedelta(seconds=10))
    assert d(later).height == 10  # new times are new states


def test_two_receivers_make_one_picture_and_bad_lines_are_counted(sim_slice, euphrates):
    states, _ = read_any(sim_slice)
    states = states.sort("time").head(20_000)
    lines = records_from_states(states, "sbs")
    bad = [b"MSG,3,this is not,a record\n", b"\xff\xfe garbage\n"]
    a = ReplayServer(lines[:5000] + bad + lines[5000:])
    b = ReplayServer(lines)
    a.start(), b.start()
    try:
        sources = [open_source(f"sbs://127.0.0.1:{a.port}"), open_source(f"sbs://127.0.0.1:{b.port}")]
        m = Monitor(sources, euphrates, tick=0.5, speed=1.0, duration=8.0)
        report = m.run()
    finally:
        a.close(), b.close()
    assert report.records >= 2 * len(lines)
    assert sum(report.bad.values()) >= 2
    assert report.records == 2 * len(lines) + len(bad)
    assert report.duplicates == states.height  # the second receiver's copy of every state
    assert report.states == states.height
    recent = states.filter(pl.col("time") >= states["time"].max() - timedelta(seconds=m.picture.stale))
    assert {a["track_id"] for a in m.picture.aircraft()} == set(recent["track_id"].unique().to_list())
    ac = m.picture.aircraft()[0]
    assert set(ac) >= {"track_id", "callsign", "party", "country", "lat", "lon", "alt_ft", "gs_kt", "track_deg",
                       "vrate_fpm", "time", "on_ground"}


class _Endpoint(http.server.BaseHTTPRequestHandler):
    answers: list[bytes] = []
    served = 0

    def do_GET(self):  # noqa: N802
        cls = type(self)
        body = cls.answers[min(cls.served, len(cls.answers) - 1)]
        cls.served += 1
        _reply(self, body)

    def log_message(self, *args):
        pass


def _reply(handler: http.server.BaseHTTPRequestHandler, body: bytes, status: int = 200, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for k, v in headers.items():
        handler.send_header(k.replace("_", "-"), v)
    handler.end_headers()
    handler.wfile.write(body)


def _serve(answers: list[bytes]):
    handler = type("Handler", (_Endpoint,), {"answers": answers, "served": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


@pytest.mark.parametrize("kind", ["readsb", "opensky"])
def test_polled_endpoints_readsb_and_opensky(kind, sim_slice, euphrates):
    states, _ = read_any(sim_slice)
    states = states.sort("time")
    t0 = states["time"].min()
    first = states.filter(pl.col("time") < t0 + timedelta(seconds=60))
    if kind == "readsb":
        docs = to_snapshots(first, period=10.0)
        path = "/data/aircraft.json"
    else:
        docs = [to_states_answer(g, float(k)) for (k,), g in first.with_columns(
            (pl.col("time").dt.epoch("s") // 10 * 10).alias("k")).group_by("k", maintain_order=True)]
        path = "/api/states/all"
    answers = [json.dumps(d).encode() for d in docs] + [b'{"now": 1, "aircraft": [{"hex": 5}]', b"not json"]
    server, handler = _serve(answers)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        m = Monitor([open_source(url, interval=0.1)], euphrates, tick=0.2, duration=3.0)
        report = m.run()
    finally:
        server.shutdown()
    assert handler.served >= len(docs)
    assert report.states >= first["track_id"].n_unique()
    assert sum(report.bad.values()) >= 1
    assert {a["track_id"] for a in m.picture.aircraft()} <= set(first["track_id"].unique().to_list())


class _Busy(http.server.BaseHTTPRequestHandler):
    """429 with Retry-After: 1 for the first three polls, then OpenSky's answer for an empty sky."""

    times: list[float] = []

    def do_GET(self):  # noqa: N802
        cls = type(self)
        cls.times.append(time.monotonic())
        if len(cls.times) <= 3:
            _reply(self, b"", 429, Retry_After="1")
            return
        _reply(self, b'{"time": 1509512400, "states": null}')

    def log_message(self, *args):
        pass


def test_a_polled_endpoint_that_asks_to_wait_is_waited_for_and_an_empty_sky_is_not_bad(euphrates):
    """A server answering 429 with Retry-After: 60 got ten requests in ten seconds, with two log lines each; OpenSky's
    answer for a box with no aircraft ("states": null) was counted as a bad record (user trial)."""
    handler = type("Handler", (_Busy,), {"times": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    said: list[str] = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/states/all"
        m = Monitor([open_source(url, interval=0.1)], euphrates, tick=0.2, duration=6.0, log=said.append)
        report = m.run()
    finally:
        server.shutdown()
    gaps = np.diff(handler.times)
    assert len(handler.times) >= 5 and (gaps[:3] >= 0.95).all(), gaps  # at least the second asked for, each time
    assert sum(report.bad.values()) == 0, report.bad
    failing = [line for line in said if "429" in line]
    assert len(failing) == 1 and "\n" not in failing[0] and any("answering again" in line for line in said), said


def test_a_polled_answer_too_large_is_refused_not_read(euphrates, monkeypatch):
    """A 148 MB answer took the monitor to 1.6 GB (user trial): answers are read up to a size (64 MB)."""
    monkeypatch.setattr("skyfence.live.sources.MAX_ANSWER", 1000)
    big = json.dumps({"now": 1509512400, "aircraft": [{"hex": f"{i:06x}", "lat": 35.0, "lon": 40.0}
                                                      for i in range(200)]}).encode()
    server, handler = _serve([big])
    said: list[str] = []
    try:
        m = Monitor([open_source(f"http://127.0.0.1:{server.server_address[1]}/data/aircraft.json", interval=0.1)],
                    euphrates, tick=0.2, duration=1.5, log=said.append)
        report = m.run()
    finally:
        server.shutdown()
    assert handler.served >= 1 and report.states == 0
    assert any("an answer over" in line and "not read" in line for line in said), said


def test_record_keeps_every_state_in_hourly_parquet(sim_slice, euphrates, tmp_path):
    states, _ = read_any(sim_slice)
    part = tmp_path / "part.parquet"
    states.sort("time").head(5000).write_parquet(part)
    _, report, _ = run_monitor([part], euphrates, record=tmp_path / "rec")
    files = sorted((tmp_path / "rec").glob("tracks-*.parquet"))
    assert files and sum(pl.read_parquet(f).height for f in files) == 5000 == report.records



def test_a_locked_store_holds_up_the_writes_not_detection(sim_slice, euphrates, tmp_path):
    """Another process holding the SQLite store locked (its busy timeout is 30 s) held up a live monitor's
    detection by as long (user trial): the store is written beside detection, and what waits is written once
    the lock goes."""
    import sqlite3

    from skyfence.incidents.store import IncidentStore
    from skyfence.live.replay import record_times

    states, _ = read_any(sim_slice)
    records = records_from_states(states.sort("time"), "sbs")
    server = ReplayServer(records, times=record_times(records, "sbs"), speed=1000.0)  # 2 h of data in 8 s
    server.start()
    path = tmp_path / "s.db"
    store = IncidentStore.open(f"sqlite:///{path}")
    lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    ups: list = []
    try:
        m = Monitor([open_source(f"sbs://127.0.0.1:{server.port}")], euphrates, store, tick=0.5, speed=1.0)
        state = {"locked": False}

        def listener(batch):
            ups.extend(batch)
            if not state["locked"] and ups:
                lock.execute("BEGIN EXCLUSIVE")  # held for 5 s, from the first updates on
                state["locked"] = True
                threading.Timer(5.0, lambda: lock.execute("COMMIT")).start()

        m.subscribe(listener)
        report = run_until_sent(m, server, 1.5)
    finally:
        server.close()
    assert state["locked"] and len(ups) > 5
    assert max(report.behind) < 3.0 and max(report.detect_seconds) < 3.0, (max(report.behind), report.detect_seconds)
    assert report.store_waiting == 0 and report.store_written == len(ups)
    assert {u.incident_id for u in ups} <= {i.id for i in store.incidents()} | {
        a for i in store.incidents() for a in i.aliases}
    store.close()


def test_one_record_dated_years_ahead_is_a_bad_record_not_the_feeds_clock(sim_slice, euphrates):
    """One SBS line dated 2030 in a live feed moved the data's clock to 2030: at the stop every open crossing ended
    with "no reports since" and was resolved (user trial). It is counted as a bad record, and the rest is as if it
    had not come."""
    states, _ = read_any(sim_slice)
    lines = records_from_states(states.sort("time"), "sbs")
    k = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith(b"MSG,3"))
    lines = lines[:k] + [lines[k].replace(b"2017/11/01", b"2030/11/01")] + lines[k:]
    report, ups = _feed_to_monitor(ReplayServer(lines), euphrates)
    assert report.bad["time far ahead of the feed"] == 1, report.bad
    assert report.last_time.year == 2017 and report.states == states.height
    _same_events_as_analyze(ups, sim_slice, euphrates)





def test_a_record_that_comes_minutes_late_is_counted_not_cleaned_into_its_track(sim_slice, euphrates):
    """Cleaning is a fold (each report final once, as the whole feed gives it): a report that comes after its
    aircraft's later ones were final cannot be cleaned with its track. A copy of an early line sent again near the
    feed's end (half a second on, so not a duplicate) is counted as late, and the rest is as if it had not come."""
    from skyfence.live.monitor import LATE

    states, _ = read_any(sim_slice)
    lines = records_from_states(states.sort("time"), "sbs")
    k0 = next(i for i in range(len(lines)) if lines[i].startswith(b"MSG,3"))
    fields = lines[k0].decode().rstrip("\n").split(",")
    stamp = datetime.strptime(f"{fields[6]} {fields[7]}", "%Y/%m/%d %H:%M:%S.%f") + timedelta(milliseconds=500)
    fields[6] = fields[8] = stamp.strftime("%Y/%m/%d")
    fields[7] = fields[9] = stamp.strftime("%H:%M:%S.%f")[:-3]
    k = len(lines) - 200
    lines = lines[:k] + [(",".join(fields) + "\n").encode()] + lines[k:]
    # over 5 s: detection runs, and cleans, as it comes
    report, ups = _feed_to_monitor(ReplayServer(lines, rate=len(lines) / 5.0), euphrates)
    assert report.bad[LATE] == 1, report.bad
    assert report.states == states.height + 1  # received and accepted, then left out of cleaning
    _same_events_as_analyze(ups, sim_slice, euphrates)


def _feed_to_monitor(server: ReplayServer, euphrates):
    """A live monitor on ``server``'s SBS feed until it has sent everything: its report and updates."""
    server.start()
    try:
        m = Monitor([open_source(f"sbs://127.0.0.1:{server.port}")], euphrates, tick=0.5, speed=1.0)
        ups: list = []
        m.subscribe(ups.extend)
        report = run_until_sent(m, server, 1.5)
    finally:
        server.close()
    return report, ups


def _same_events_as_analyze(ups: list, path, euphrates) -> None:
    a = analyze([path], euphrates)
    diff = differences(final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres, a.interactions))
    assert diff == [], diff


def test_a_slow_detection_holds_up_neither_the_picture_nor_the_events(sim_slice, euphrates, tmp_path, monkeypatch):
    """Live, detection runs beside the feed: while each run takes 1.5 s (a window too big for a tick) the air
    picture still ticks every 0.5 s, detection takes the latest data at each run and the report says how far it
    trailed; the events are still those ``analyze`` finds in what was received (kept with ``--record``)."""
    import skyfence.live.monitor as monitor_module

    real = monitor_module.detect_events

    def slow(*args, **kw):
        time.sleep(1.5)
        return real(*args, **kw)

    monkeypatch.setattr(monitor_module, "detect_events", slow)
    states, _ = read_any(sim_slice)
    first = analyze([sim_slice], euphrates).crossings.filter(pl.col("entry_kind") == "crossed")["entry_time"].min()
    part = states.filter((pl.col("time") >= first - timedelta(minutes=8)) & (pl.col("time") < first + timedelta(minutes=6)))
    records = records_from_states(part.sort("time"), "sbs")
    from skyfence.live.replay import record_times

    server = ReplayServer(records, times=record_times(records, "sbs"), speed=120.0)
    server.start()
    try:
        logged: list[str] = []
        m = Monitor([open_source(f"sbs://127.0.0.1:{server.port}")], euphrates, tick=0.5, speed=1.0,
                    duration=60.0, record=tmp_path / "rec", log=logged.append)
        m.behind_told = 1.0  # s: a run takes 1.5 s here
        ups: list = []
        m.subscribe(ups.extend)
        ticks: list[float] = []
        m.picture.subscribe(lambda now: ticks.append(time.monotonic()))
        report = run_until_sent(m, server, 1.0)  # stopped while a run is under way
    finally:
        server.close()
    assert report.states == part.height
    assert report.ticks >= 10 and report.detections <= report.ticks / 2, (report.ticks, report.detections)
    gaps = [b - a for a, b in zip(ticks, ticks[1:-1])]  # the last tick is the end's own, after the last run
    assert max(gaps) < 1.2, gaps
    assert 1.0 <= max(report.behind) < 5.0, report.behind  # wall s: about the run under way
    told = [line for line in logged if "behind the feed" in line]
    assert len(told) == 1, logged  # once, not at every tick
    recorded = sorted((tmp_path / "rec").glob("tracks-*.parquet"))
    a = analyze(recorded, euphrates)
    mine, theirs = final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres, a.interactions)
    assert a.crossings.filter(pl.col("entry_kind") == "crossed").height >= 1
    diff = differences(mine, theirs)
    assert diff == [], diff


def test_a_detection_run_that_fails_stops_the_live_monitor_with_its_error(sim_slice, euphrates, monkeypatch):
    import skyfence.live.monitor as monitor_module

    def broken(*args, **kw):
        raise RuntimeError("detector broke")

    monkeypatch.setattr(monitor_module, "detect_events", broken)
    states, _ = read_any(sim_slice)
    server = ReplayServer(records_from_states(states.sort("time").head(2000), "sbs"))
    server.start()
    try:
        m = Monitor([open_source(f"sbs://127.0.0.1:{server.port}")], euphrates, tick=0.3, speed=1.0, duration=20.0)
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="detector broke"):
            m.run()
        assert time.monotonic() - t0 < 10.0
    finally:
        server.close()


def _monitor_live(port: int, store: str, record: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skyfence", "monitor", "--source", f"sbs://127.0.0.1:{port}",
                             "--agreement", "euphrates-2017", "--store", store, "--record", str(record), "--tick",
                             "0.5", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _serve_then_stop(proc: subprocess.Popen, server: ReplayServer, after: float) -> str:
    """Wait until ``server`` has sent everything, ``after`` s more, then stop ``proc`` as Ctrl-C does."""
    assert server.done.wait(180), "the feed was not taken"
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return err


def _settled(store: str, quiet: float = 4.0, limit: float = 90.0) -> list:
    """The store's incidents once they have not changed for ``quiet`` seconds (a loaded machine detects later)."""
    seen, since, end = None, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < end:
        now = store_incidents(store)
        if now != seen:
            seen, since = now, time.monotonic()
        elif now and time.monotonic() - since >= quiet:
            return now
        time.sleep(0.5)
    return seen or []


def test_kill_9_on_a_live_feed_then_restart_resumes_from_the_recording(sim_slice, tmp_path):
    """A live monitor killed with kill -9 and started again on the same store and recording: it opened again, as
    first seen inside at the restart, the crossings going on at the kill, and left the ones in the store open for
    ever (user trial). It now takes back the last window of its recording, and the events still going on in the
    store from their start, and ends with the incidents of a run never killed (the feed's data was all recorded
    before the kill: what a kill loses in flight is not the point here)."""
    states, _ = read_any(sim_slice)
    records = records_from_states(states.sort("time"), "sbs")
    k = len(records) * 3 // 5
    calm = ReplayServer(records).start()
    proc = _monitor_live(calm.port, str(tmp_path / "calm.db"), tmp_path / "calm-rec")
    try:
        _serve_then_stop(proc, calm, 3.0)
    finally:
        calm.close()
    first = ReplayServer(records[:k]).start()
    killed = str(tmp_path / "killed.db")
    proc = _monitor_live(first.port, killed, tmp_path / "rec")
    try:
        assert first.done.wait(180)
        assert _settled(killed), "incidents before the kill"  # all of it detected and recorded
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first.close()
    rest = ReplayServer(records[k:], port=first.port).start()
    proc = _monitor_live(rest.port, killed, tmp_path / "rec")
    try:
        err = _serve_then_stop(proc, rest, 3.0)
    finally:
        rest.close()
    assert "resumed from the recording" in err  # said, even with -q
    assert store_incidents(killed) == store_incidents(str(tmp_path / "calm.db"))
    assert len(store_incidents(killed)) > 5


def test_a_feed_that_starts_with_a_backlog_loses_nothing(sim_slice, euphrates, tmp_path):
    """A receiver that sends two hours it had buffered, as fast as it can, when the monitor connects: the
    first runs reach back to the first state, so the events are analyze's on what was received, the early
    crossings too (the window is 22 minutes)."""
    states, _ = read_any(sim_slice)
    server = ReplayServer(records_from_states(states.sort("time"), "sbs"))
    server.start()
    try:
        m = Monitor([open_source(f"sbs://127.0.0.1:{server.port}")], euphrates, tick=0.5, speed=1.0,
                    duration=120.0, record=tmp_path / "rec")
        ups: list = []
        m.subscribe(ups.extend)
        report = run_until_sent(m, server, 1.5)
    finally:
        server.close()
    assert report.states == states.height
    a = analyze(sorted((tmp_path / "rec").glob("tracks-*.parquet")), euphrates)
    assert a.crossings.filter(pl.col("entry_kind") == "crossed").height == 2 and a.encounters.height >= 1
    diff = differences(final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres, a.interactions))
    assert diff == [], diff
    # a live feed's data does not end: what is still inside is told so "when the monitor stopped" (user trial)
    assert not any("at the end of the data" in u.summary for u in ups)


def test_quiet_still_says_when_a_feed_cannot_be_reached(euphrates):
    """-q leaves out progress, not faults: a feed that is not there printed only '0 records' (user trial)."""
    from skyfence.bench_ingest import free_port

    r = cli("monitor", "--source", f"sbs://127.0.0.1:{free_port()}", "--agreement", "euphrates-2017", "--duration", "3", "-q")
    assert r.returncode == 1 and "cannot connect to sbs://127.0.0.1:" in r.stderr, r.stderr  # watched nothing
    assert "stopping" not in r.stderr


def test_a_run_whose_sources_were_never_reached_fails(tmp_path):
    """A feed nobody answers for the whole run, and an endpoint that refuses: the monitor retries as it should,
    then says it watched nothing and exits 1 (it ended '0 records ... 0 events' with status 0; user trial)."""
    from skyfence.bench_ingest import free_port

    port = free_port()  # nothing listens there
    proc = cli("monitor", "--source", f"sbs://127.0.0.1:{port}", "--source", f"http://127.0.0.1:{port}/data/aircraft.json",
               "--agreement", "euphrates-2017", "--duration", "3", "--quiet", timeout=120)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (f"error: no source could be reached in the run: sbs://127.0.0.1:{port}, "
                    f"http://127.0.0.1:{port}/data/aircraft.json")
    assert "Traceback" not in proc.stderr
