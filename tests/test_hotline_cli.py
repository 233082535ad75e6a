"""The hotline on the command line: `monitor --alert` end to end on a recorded crossing, `hotline
outbox|dead|resend|status|secret`, and bad options as one line with exit status 2, secrets never shown."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from skyfence.hotline.receivers import WebhookReceiver
from skyfence.hotline.retry import Backoff
from skyfence.hotline.service import Hotline
from skyfence.hotline.signing import secret_key
from skyfence.incidents import IncidentStore
from tests.agreements import simple, write
from tests.hotline_helpers import SECRET
from tests.incident_stores import crossing


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "skyfence", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "250", **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def crossing_csv(tmp_path_factory):
    """A Russian jet (RFF12) flying east across the Euphrates near Deir ez-Zor, a report every 2 s."""
    t0 = datetime(2017, 11, 1, 6, 0, tzinfo=timezone.utc)
    rows = ["time,icao24,callsign,lat,lon,altitude,ground_speed,track"]
    for k in range(0, 600, 2):
        d = 220.0 * k
        lat = 35.30 + d * math.cos(math.radians(70)) / 111320
        lon = 39.95 + d * math.sin(math.radians(70)) / (111320 * math.cos(math.radians(35.35)))
        rows.append(f"{(t0 + timedelta(seconds=k)).isoformat().replace('+00:00', 'Z')},155a3f,RFF12,{lat:.5f},"
                    f"{lon:.5f},25000,428,70")
    path = tmp_path_factory.mktemp("rec") / "crossing.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_monitor_alert_tells_both_parties_over_a_signed_webhook_and_the_log(crossing_csv, tmp_path):
    rx = WebhookReceiver(SECRET)
    try:
        r = cli("monitor", "--source", str(crossing_csv), "--agreement", "euphrates-2017", "--store",
                str(tmp_path / "s.db"), "--speed", "0", "--tick", "5", "--quiet", "--alert", rx.url,
                "--alert", f"log:{tmp_path}/hot.jsonl", env={"SKYFENCE_WEBHOOK_SECRET": SECRET})
        assert r.returncode == 0, r.stderr
        assert SECRET not in r.stdout + r.stderr
        assert "hotline: " in r.stderr and " dead" in r.stderr
        # where the messages went (the demo said '1,798 messages sent' and not where; user trial)
        assert f" sent to {rx.url}, log:{tmp_path}/hot.jsonl, " in " ".join(r.stderr.split())
        bodies = [x["body"] for x in rx.unique]
        assert all(x["verified"] for x in rx.received)
        log = [json.loads(line) for line in (tmp_path / "hot.jsonl").read_text().splitlines()]
        assert [b["id"] for b in log] == [b["id"] for b in bodies]  # the same messages on both channels
        parties = {b["party"] for b in bodies}
        assert parties == {"russia_syria", "coalition"}
        own = [b for b in bodies if b["party"] == "russia_syria" and b["event"] == "crossing_started"]
        assert own and own[0]["message"].startswith("[CROSSING] Your aircraft RFF12 (FL250) crossed the Euphrates")
        other = [b for b in bodies if b["party"] == "coalition" and b["event"] == "crossing_started"]
        assert other[0]["message"].startswith("[CROSSING] A Russia and Syria aircraft, RFF12 (FL250), crossed")
        assert " NM " in own[0]["message"] and " UTC" in own[0]["message"]
        # the replay runs the hotline on the data's clock: 10 minutes of data are enough to chase russia_syria
        assert any(b["type"] in ("reminder", "escalation") and b["party"] == "russia_syria" for b in bodies)
    finally:
        rx.close()


def test_a_replay_tells_the_same_messages_however_fast_it_runs(crossing_csv, tmp_path):
    """The hotline's rounds run at the replay's ticks on the data's clock: grouping, reminders and the
    escalation come out the same at --speed 0 and at --speed 120."""
    runs = []
    for k, speed in enumerate(("0", "120")):
        log = tmp_path / f"hot{k}.jsonl"
        r = cli("monitor", "--source", str(crossing_csv), "--agreement", "euphrates-2017", "--store",
                str(tmp_path / f"s{k}.db"), "--speed", speed, "--tick", "5", "--quiet", "--alert", f"log:{log}")
        assert r.returncode == 0, r.stderr
        runs.append([(b["type"], b["party"], b["event"], b["message"].split(" Incident ")[0])
                     for b in map(json.loads, log.read_text().splitlines())])  # ids: random per store
    assert runs[0] == runs[1]
    types = [t for t, p, _, _ in runs[0] if p == "russia_syria"]
    assert types[0] == "notification" and "reminder" in types, types


@pytest.mark.parametrize("args, words", [
    (["--alert", "http://127.0.0.1:9/x"], "need --store"),
    (["--store", "{db}", "--alert", "ftp://x"], "--alert 'ftp://x': unknown channel"),
    (["--store", "{db}", "--alert", "http://127.0.0.1:9/x"], "set SKYFENCE_WEBHOOK_SECRET"),
    (["--store", "{db}", "--ack-listen", "nonsense"], "--ack-listen 'nonsense': give HOST:PORT"),
    (["--store", "{db}", "--alert", "log:{db}.log", "--ack-url", "https://hotline.example.org"],
     "--ack-url needs --ack-listen"),
    (["--store", "{db}", "--ack-listen", "127.0.0.1:0", "--ack-url", "hotline.example.org"],
     "--ack-url 'hotline.example.org': give the links' base address"),
])
def test_monitor_alert_problems_are_one_line(args, words, crossing_csv, tmp_path):
    args = [a.replace("{db}", str(tmp_path / "s.db")) for a in args]
    env = {k: v for k, v in os.environ.items() if k != "SKYFENCE_WEBHOOK_SECRET"}
    r = subprocess.run([sys.executable, "-m", "skyfence", "monitor", "--source", str(crossing_csv), "--agreement",
                        "euphrates-2017", "--speed", "0", "--quiet", *args], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_outbox_dead_resend_status(tmp_path):
    rx = WebhookReceiver(SECRET, answers=[500, 500])
    db = tmp_path / "s.db"
    doc = simple(hotline={"group_wait": "0 s"})
    doc["parties"][1]["contacts"] = [{"name": "red duty", "channels": [rx.url]}]
    store = IncidentStore.open(db)
    from skyfence.agreement import load_agreement

    hot = Hotline(store, load_agreement(write(tmp_path, doc)), env={"SKYFENCE_WEBHOOK_SECRET": SECRET},
                  backoff=Backoff(first=0.0, jitter=0, attempts=2))
    hot.open_channels()
    store.apply([crossing("crossing_started", 0, "crossing")])
    hot.step()
    w = hot.workers[rx.url]
    w.send_due()
    w.send_due()
    store.close()
    try:
        r = cli("hotline", "dead", "--store", str(db), "--format", "json")
        assert r.returncode == 0, r.stderr
        (dead,) = json.loads(r.stdout)
        assert dead["status"] == "dead" and dead["attempts"] == 2 and dead["last_error"] == "HTTP 500"
        assert dead["message"].startswith("[CROSSING] Your aircraft RF4B1 crossed the line")
        r = cli("hotline", "status", "--store", str(db))
        assert r.returncode == 0 and rx.url in r.stdout and "HTTP 500" in r.stdout
        assert "acknowledgements awaited" in r.stdout
        r = cli("hotline", "status", "--store", str(db), "--format", "json")
        st = json.loads(r.stdout)
        assert st["totals"] == {"pending": 0, "sent": 0, "dead": 1}
        assert st["channels"][0]["channel"] == rx.url and st["channels"][0]["last_error"] == "HTTP 500"
        r = cli("hotline", "resend", dead["id"], "--store", str(db))
        assert r.returncode == 0 and "1 message back in the outbox" in r.stdout
        r = cli("hotline", "outbox", "--store", str(db), "--format", "json")
        assert [m["id"] for m in json.loads(r.stdout)] == [dead["id"]]
        # a running hotline sends it, under the same id
        r = cli("hotline", "run", "--store", str(db), "--agreement", str(tmp_path / "agreement.yaml"),
                "--duration", "2", env={"SKYFENCE_WEBHOOK_SECRET": SECRET})
        assert r.returncode == 0, r.stderr
        assert [x["id"] for x in rx.unique] == [dead["id"]]
        assert SECRET not in r.stdout + r.stderr
        r = cli("hotline", "resend", "msg_nope", "--store", str(db))
        assert r.returncode == 2 and "no such dead or sent message: msg_nope" in r.stderr and not r.stdout
        r = cli("hotline", "outbox", "--status", "lost", "--store", str(db))
        assert r.returncode == 2 and "--status 'lost'" in r.stderr
    finally:
        rx.close()


def test_secret_is_a_fresh_valid_whsec():
    a, b = cli("hotline", "secret").stdout.strip(), cli("hotline", "secret").stdout.strip()
    assert a != b and a.startswith("whsec_") and len(secret_key(a)) == 24


def test_a_store_that_is_not_there_is_one_line(tmp_path):
    r = cli("hotline", "status", "--store", str(tmp_path / "none.db"))
    assert r.returncode == 2 and "no incident store there" in r.stderr


def test_incidents_ack_with_party_stops_the_chase(tmp_path):
    db = tmp_path / "s.db"
    store = IncidentStore.open(db)
    [change] = store.apply([crossing("crossing_started", 0, "crossing")])
    store.close()
    r = cli("incidents", "ack", change.incident_id, "--party", "red", "--by", "Maj Orlov", "--store", str(db))
    assert r.returncode == 0, r.stderr
    with IncidentStore.open(db) as s:
        assert s.get(change.incident_id).acks["red"][0] == "Maj Orlov"


def test_a_second_run_on_the_same_store_says_it_changed_nothing(crossing_csv, tmp_path):
    """Restarted on the same store, the monitor tells its updates again (same ids: the store keeps one of each),
    and its closing line said '507 written to the store' as if all were new (user trial)."""
    store = str(tmp_path / "s.db")
    lines = []
    for _ in range(2):
        r = cli("monitor", "--source", str(crossing_csv), "--agreement", "euphrates-2017", "--store", store,
                "--speed", "0", "--tick", "10", "--quiet")
        assert r.returncode == 0, r.stderr
        lines.append(" ".join(r.stderr.split()))
    first = re.search(r"(\d+) written to the store, (\d+) changes? to it", lines[0])
    again = re.search(r"(\d+) written to the store, (\d+) changes? to it", lines[1])
    assert first and again and int(first[1]) == int(again[1]) > 0
    assert int(first[2]) > 0 and int(again[2]) == 0
