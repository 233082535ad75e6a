"""``skyfence incidents list|show|ack|resolve|comment|export`` as a user runs them (a real process),
on a SQLite store and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from skyfence.incidents import IncidentStore
from tests.incident_stores import T0, crossing, encounter, pg_database, pg_url, store_url  # noqa: F401


def skyfence(*args: str, ok: bool = True, cwd=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "skyfence", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd,
                          env={**{k: v for k, v in os.environ.items() if k != "SKYFENCE_STORE"},
                               "COLUMNS": "200", "USER": "tester", "LOGNAME": "tester"})
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def filled(store_url):
    """A store with a deep crossing (ended), an NMAC encounter and a second, resolved crossing."""
    with IncidentStore.open(store_url) as store:
        store.apply([crossing("crossing_warning", 0, "warning", points=3),
                     crossing("crossing_started", 60, "crossing", points=3),
                     crossing("crossing_ended", 400, "deep_crossing", ended=True, depth_km=14.0, points=3),
                     encounter("level_changed", 100, "caution"), encounter("level_changed", 130, "nmac"),
                     crossing("crossing_started", 9000, "crossing", track_id="151abc", area="zone-a",
                              key_time=T0 + timedelta(seconds=9000))], T0)
        other = store.incidents(aircraft="151abc")[0].id
        store.resolve(other, by="analyst", why="test flight")
        ids = {i.kind + ("-2" if i.id == other else ""): i.id for i in store.incidents()}
    return store_url, ids


def test_list_json_has_the_fields(filled):
    url, ids = filled
    rows = json.loads(skyfence("incidents", "list", "--store", url, "--format", "json").stdout)
    assert {r["id"] for r in rows} == set(ids.values())
    for r in rows:
        for key in ("id", "kind", "status", "severity", "parties", "aircraft", "start_time", "end_time", "lat", "lon",
                    "summary"):
            assert key in r
        assert all(set(a) >= {"track_id", "callsign", "party"} for a in r["aircraft"])
        assert r["start_time"].endswith("Z")
    enc = next(r for r in rows if r["kind"] == "encounter")
    assert enc["severity"] == "nmac" and enc["parties"] == ["red", "blue"]


@pytest.mark.parametrize("args, expect", [
    (["--kind", "encounter"], {"encounter"}),
    (["--severity", "deep_crossing"], {"crossing", "encounter"}),
    (["--status", "resolved"], {"crossing-2"}),
    (["--party", "blue"], {"encounter"}),
    (["--aircraft", "151ABC"], {"crossing-2"}),
    (["--since", "2017-11-01T09:30Z"], {"encounter", "crossing-2"}),  # the first crossing ended at 09:06:40
    (["--kind", "crossing", "--status", "open"], {"crossing"}),
])
def test_list_filters(filled, args, expect):
    url, ids = filled
    rows = json.loads(skyfence("incidents", "list", "--store", url, "-f", "json", *args).stdout)
    assert {r["id"] for r in rows} == {ids[k] for k in expect}


def test_limit_and_offset_page_through_the_list_in_its_order(filled):
    url, ids = filled
    whole = [r["id"] for r in json.loads(skyfence("incidents", "list", "--store", url, "-f", "json").stdout)]
    pages = [[r["id"] for r in json.loads(skyfence("incidents", "list", "--store", url, "-f", "json", "--limit", "2",
                                                   "--offset", str(k)).stdout)] for k in (0, 2, 4)]
    assert pages == [whole[:2], whole[2:4], []] and len(whole) == 3
    assert "--offset" in skyfence("incidents", "list", "--offset", "-1", "--store", url, ok=False).stderr


def test_a_party_no_incident_names_is_noted_not_taken_for_a_quiet_day(filled):
    url, _ = filled
    r = skyfence("incidents", "list", "--store", url, "-f", "json", "--party", "bleu")
    assert json.loads(r.stdout) == [] and r.returncode == 0
    assert "no incident in" in r.stderr and "names party 'bleu' (they name blue, red)" in r.stderr
    assert "note" not in skyfence("incidents", "list", "--store", url, "--party", "blue").stderr


def test_list_table_and_csv(filled):
    url, ids = filled
    table = skyfence("incidents", "list", "--store", url).stdout
    assert "3 incident(s)" in table and ids["encounter"] in table and "nmac" in table
    rows = list(csv.DictReader(io.StringIO(skyfence("incidents", "list", "--store", url, "-f", "csv").stdout)))
    assert {r["id"] for r in rows} == set(ids.values())
    assert {r["severity"] for r in rows} == {"deep_crossing", "nmac", "crossing"}


def test_ack_comment_resolve_show(filled):
    url, ids = filled
    enc = ids["encounter"]
    out = skyfence("incidents", "ack", enc, "--store", url, "--by", "Maj. Smith", "--party", "blue").stdout
    assert "acknowledged by Maj. Smith for blue" in out
    skyfence("incidents", "comment", enc, "hotline called, red confirms", "--store", url, "--by", "Maj. Smith")
    skyfence("incidents", "resolve", enc, "--store", url, "--why", "aircraft separated")  # --by: the user name
    shown = json.loads(skyfence("incidents", "show", enc, "--store", url, "-f", "json").stdout)
    assert shown["status"] == "resolved" and shown["resolved_by"] == "tester"
    assert [c["action"] for c in shown["audit"]] == ["opened", "severity_raised", "acknowledged", "commented",
                                                     "resolved"]
    assert shown["audit"][3]["why"] == "hotline called, red confirms" and shown["audit"][3]["who"] == "Maj. Smith"
    assert shown["acks"]["blue"]["by"] == "Maj. Smith"
    text = skyfence("incidents", "show", enc, "--store", url).stdout
    assert "audit trail" in text and "hotline called, red confirms" in text and "aircraft separated" in text
    # resolved by hand while the encounter went on: not "ongoing" (user trial)
    assert "not seen to end (resolved by hand)" in " ".join(text.split()) and "ongoing" not in text
    # times as people read them: to the second, Z, no 'T' (user trial: 2017-11-01T03:09:42.843966Z)
    assert re.search(r"start\s+2017-11-01 \d\d:\d\d:\d\dZ", text) and not re.search(r"\dT\d\d:", text)
    # a second acknowledgement for blue: the first is kept, and the line says so (it read "acknowledged by root")
    out = " ".join(skyfence("incidents", "ack", enc, "--store", url, "--party", "blue").stdout.split())
    assert "already acknowledged for blue by Maj. Smith at" in out and "yours is in the audit trail" in out


def test_export_csv_json_geojson(filled, tmp_path):
    url, ids = filled
    for fmt in ("csv", "json", "geojson"):
        skyfence("incidents", "export", "--store", url, "--format", fmt, "--out", str(tmp_path / f"i.{fmt}"))
    rows = list(csv.DictReader((tmp_path / "i.csv").open()))
    assert len(rows) == 3
    # every field of the JSON is in the CSV, with the same value (it lacked the lifecycle's: quiet_until, ...)
    by_id = {d["id"]: d for d in json.loads(skyfence("incidents", "list", "--store", url, "-f", "json").stdout)}
    for r in rows:
        d = by_id[r["id"]]
        for k in ("kind", "status", "severity", "summary", "start_time", "end_time", "opened_at", "updated_at",
                  "last_event", "last_update_time", "ended_at", "quiet_until", "resolved_at", "resolved_by",
                  "resolved_severity"):
            assert r[k] == (d[k] if d[k] is not None else ""), (k, r[k], d[k])
        assert int(r["comments"]) == d["comments"] and r["aliases"].split(";") == (d["aliases"] or [""])
        assert r["parties"].split(";") == d["parties"] and json.loads(r["details"]) == d["details"]
        assert r["acknowledged_at"] == ";".join(f"{p}={a['time']}" for p, a in sorted(d["acks"].items()))
    assert any(r["quiet_until"] for r in rows)
    assert all(len(r[k].split(".")[-1]) <= 6 for r in rows for k in ("lat", "lon") if r[k])
    from skyfence.incidents.export import csv_row

    with IncidentStore.open(url) as store:
        inc = store.get(ids["crossing"])
    inc.lat, inc.lon = 35.41481291619689, 40.12345678901234  # as the trial found them written
    assert (csv_row(inc)["lat"], csv_row(inc)["lon"]) == (35.414813, 40.123457)
    full = json.loads((tmp_path / "i.json").read_text())
    cr = next(r for r in full if r["id"] == ids["crossing"])
    assert len(cr["audit"]) == 3 and len(cr["track"]) == 9  # 3 updates x 3 points
    geo = json.loads((tmp_path / "i.geojson").read_text())
    assert geo["type"] == "FeatureCollection"
    # '-' is standard output, what was done goes to stderr (it wrote a file named '-'; user trial)
    piped = skyfence("incidents", "export", "--store", url, "--format", "geojson", "--out", "-", cwd=tmp_path)
    assert json.loads(piped.stdout) == geo and "Exported 3 incident(s)" in piped.stderr
    assert not (tmp_path / "-").exists()
    points = [f for f in geo["features"] if f["properties"]["feature"] == "incident"]
    tracks = [f for f in geo["features"] if f["properties"]["feature"] == "track"]
    assert {f["id"] for f in points} == set(ids.values())
    # a point names its aircraft by callsign too, as the CSV does (it gave "aircraft": "150e03" alone; user trial)
    assert all(f["properties"]["callsigns"] and len(f["properties"]["callsigns"].split(";")) ==
               len(f["properties"]["aircraft"].split(";")) for f in points)
    line = next(f for f in tracks if f["properties"]["incident_id"] == ids["crossing"])
    assert line["geometry"]["type"] == "LineString" and len(line["geometry"]["coordinates"]) == 9
    lon, lat, alt_m = line["geometry"]["coordinates"][0]
    assert 39 < lon < 41 and 34 < lat < 37 and 9000 < alt_m < 9200  # 30,000 ft


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    url = str(tmp_path / "s.db")
    IncidentStore.open(url).close()
    cases = [
        (["incidents", "list", "--store", "mysql://u@h/db"], "bad store URL"),
        (["incidents", "list", "--store", str(tmp_path / "none.db")], "no incident store there"),
        (["incidents", "show", "EN-0000", "--store", url], "no incident EN-0000"),
        (["incidents", "ack", "EN-0000", "--store", url], "no incident EN-0000"),
        (["incidents", "list", "--store", url, "--format", "xml"], "--format must be one of"),
        (["incidents", "list", "--store", url, "--severity", "huge"], "unknown severity 'huge'"),
        (["incidents", "list", "--store", url, "--since", "yesterday"], "--since 'yesterday'"),
        (["incidents", "list", "--store", "postgresql://nobody@127.0.0.1:1/x"], "unavailable"),
    ]
    for args, message in cases:
        proc = skyfence(*args, ok=False)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_help_explains():
    text = skyfence("incidents", "--help").stdout
    for cmd in ("list", "show", "ack", "resolve", "comment", "export"):
        assert cmd in text
    assert "This severity or higher" in skyfence("incidents", "list", "--help").stdout


def test_since_takes_a_time_or_a_duration_back():
    from datetime import datetime, timezone

    from skyfence.cli.incidents_cmd import _since
    from skyfence.errors import SkyfenceError

    now = datetime(2017, 11, 1, 12, 0, tzinfo=timezone.utc)
    assert _since("2017-11-01T09:00Z") == datetime(2017, 11, 1, 9, 0, tzinfo=timezone.utc)
    assert _since("2017-11-01") == datetime(2017, 11, 1, tzinfo=timezone.utc)
    assert _since("2h", now) == datetime(2017, 11, 1, 10, 0, tzinfo=timezone.utc)
    assert _since("30 min", now) == datetime(2017, 11, 1, 11, 30, tzinfo=timezone.utc)
    with pytest.raises(SkyfenceError, match="a time back from now is positive"):  # user trial: -5h was taken
        _since("-5h", now)


def test_a_piped_table_is_not_squeezed_to_80_columns(filled):
    """Piped or logged, the list table took rich's default 80 columns and wrapped every cell 5 characters wide."""
    url, _ = filled
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run([sys.executable, "-m", "skyfence", "incidents", "list", "--store", url],
                         capture_output=True, text=True, env=env, check=True).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) > 100 and any("deep_crossing" in line for line in lines)


def test_ids_stay_whole_in_a_narrow_table(filled):
    """At 132 columns or fewer an id was folded over two lines, and could not be copied into show or ack."""
    url, _ = filled
    ids = [r["id"] for r in json.loads(skyfence("incidents", "list", "--store", url, "-f", "json").stdout)]
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "skyfence", "incidents", "list", "--store", url],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert ids and all(i in out for i in ids), out


def test_an_empty_postgresql_schema_is_no_store_as_a_missing_sqlite_file_is(pg_url):
    """incidents list on an empty PostgreSQL schema made the tables and listed nothing, where a SQLite file that is
    not there is refused (user trial)."""
    import psycopg

    r = skyfence("incidents", "list", "--store", pg_url, ok=False)
    assert r.returncode == 2 and "no incident store there" in r.stderr and "Traceback" not in r.stderr
    schema = pg_url.rsplit("%3D", 1)[1]
    with psycopg.connect(pg_url.split("?")[0]) as c:
        assert c.execute("select count(*) from information_schema.tables where table_schema = %s",
                         (schema,)).fetchone()[0] == 0  # nothing made
