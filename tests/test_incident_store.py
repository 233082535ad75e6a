"""The incident store on SQLite and on the real PostgreSQL server: migrations, apply, the lifecycle as
stored, filters, followers, tracks, and one-line errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from skyfence.incidents import IncidentStore, NotAllowed, StoreError, UnknownIncident, incident_json
from skyfence.incidents import migrations
from tests.incident_stores import T0, crossing, encounter, pg_database, pg_url, store_url  # noqa: F401


def test_open_migrates_to_the_head_alembic_names(store_url):
    with IncidentStore.open(store_url) as store, store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        names = set(sa.inspect(conn).get_table_names())
    assert {"incidents", "changes", "applied_updates", "track_points", "incident_aliases"} <= names
    with IncidentStore.open(store_url) as again:  # opening a migrated store again changes nothing
        assert again.incidents() == []


def test_head_is_alembics_and_a_store_at_head_opens_without_alembic(store_url):
    """The store checks its revision with SQLAlchemy alone and imports Alembic only to migrate: a command
    that reads a store (``incidents list``) started in 1.2 s, 0.7 s without it."""
    import subprocess
    import sys

    assert migrations.HEAD == migrations.head()
    IncidentStore.open(store_url).close()  # made and migrated
    code = ("import sys; from skyfence.incidents import IncidentStore; s = IncidentStore.open(sys.argv[1]); "
            "s.incidents(); s.close(); print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'polars'}))")
    out = subprocess.run([sys.executable, "-c", code, store_url], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_tables_module_matches_the_migration(tmp_path):
    """tables.py (what the code uses) and the migration (what the database has) name the same columns."""
    from skyfence.incidents import tables

    with IncidentStore.open(tmp_path / "s.db") as store, store.engine.connect() as conn:
        insp = sa.inspect(conn)
        for table in tables.metadata.sorted_tables:
            assert [c["name"] for c in insp.get_columns(table.name)] == [c.name for c in table.columns], table.name


def test_a_crossing_becomes_one_incident_with_its_audit(store_url):
    with IncidentStore.open(store_url) as store:
        changes = store.apply([crossing("crossing_warning", 0, "warning"),
                               crossing("crossing_started", 60, "crossing"),
                               crossing("crossing_ended", 300, "deep_crossing", ended=True, depth_km=12.0)],
                              T0 + timedelta(seconds=300))
        assert [c.action for c in changes] == ["opened", "severity_raised", "severity_raised"]
        assert [c.seq for c in changes] == sorted(c.seq for c in changes) and len({c.seq for c in changes}) == 3
        (inc,) = store.incidents()
        assert inc.id == changes[0].incident_id and inc.id.startswith("CR-")
        assert (inc.status, inc.severity, inc.kind) == ("open", "deep_crossing", "crossing")
        assert inc.ended_at == T0 + timedelta(seconds=300)
        assert inc.quiet_until == inc.ended_at + timedelta(seconds=store.quiet_period)
        assert inc.details["depth_km"] == 12.0 and inc.end_time == T0 + timedelta(seconds=300)
        assert store.get(inc.id) == inc
        assert [c.action for c in store.audit(inc.id)] == ["opened", "severity_raised", "severity_raised"]
        assert all(c.who == "system" for c in store.audit(inc.id))
        assert store.get("CR-none") is None


def test_apply_twice_changes_nothing(store_url):
    batch = [crossing("crossing_warning", 0, "warning"), crossing("crossing_started", 60, "crossing"),
             encounter("level_changed", 30, "caution"), encounter("level_changed", 50, "loss")]
    with IncidentStore.open(store_url) as store:
        first = store.apply(batch, T0)
        assert len(first) == 4
        assert store.apply(batch, T0) == []
        assert store.apply(batch[1:2] + batch[:1], T0) == []
        assert store.last_seq() == first[-1].seq
    with IncidentStore.open(store_url) as reopened:  # after a restart too
        assert reopened.apply(batch, T0) == []
        assert len(reopened.incidents()) == 2


def test_acknowledge_per_party_resolve_comment(store_url):
    with IncidentStore.open(store_url) as store:
        (opened,) = store.apply([encounter("level_changed", 0, "warning")], T0)
        iid = opened.incident_id
        at = T0 + timedelta(minutes=1)
        ack = store.acknowledge(iid, by="Maj. Smith", party="blue", why="seen on radar", at=at)
        assert ack.action == "acknowledged" and ack.who == "Maj. Smith" and ack.incident.status == "acknowledged"
        assert ack.incident.acks == {"blue": ("Maj. Smith", at)}
        store.acknowledge(iid, by="Col. Ivanov", party="red", at=at + timedelta(seconds=30))
        assert set(store.get(iid).acks) == {"blue", "red"}
        # a second acknowledgement for blue keeps the first one's time; a party the incident does not involve is
        # refused (both were taken silently: user trial)
        store.acknowledge(iid, by="Capt. Jones", party="blue", at=at + timedelta(seconds=40))
        assert store.get(iid).acks["blue"] == ("Maj. Smith", at)
        with pytest.raises(NotAllowed, match="involves red, blue, not purple"):
            store.acknowledge(iid, by="x", party="purple")
        note = store.comment(iid, by="Maj. Smith", text="called the hotline", at=at + timedelta(minutes=2))
        assert (note.action, note.why, note.incident.comments) == ("commented", "called the hotline", 1)
        done = store.resolve(iid, by="Maj. Smith", why="pilots informed", at=at + timedelta(minutes=3))
        assert done.incident.status == "resolved" and done.incident.resolved_by == "Maj. Smith"
        with pytest.raises(NotAllowed):
            store.resolve(iid, by="someone")
        with pytest.raises(UnknownIncident, match="no incident EN-nope"):
            store.acknowledge("EN-nope", by="x")
        assert [c.action for c in store.audit(iid)] == ["opened", "acknowledged", "acknowledged", "acknowledged",
                                                         "commented", "resolved"]


def test_a_raised_severity_needs_a_new_acknowledgement(store_url):
    with IncidentStore.open(store_url) as store:
        (opened,) = store.apply([encounter("level_changed", 0, "caution")], T0)
        store.acknowledge(opened.incident_id, by="blue ops", party="blue")
        (raised,) = store.apply([encounter("level_changed", 20, "loss")], T0)
        assert raised.action == "severity_raised" and "needs a new acknowledgement" in raised.why
        assert raised.incident.status == "open" and raised.incident.acks == {}
        # falling back to a lower level keeps the highest severity and is an update
        (fell,) = store.apply([encounter("level_changed", 40, "caution")], T0)
        assert fell.action == "updated" and fell.incident.severity == "loss"


def test_auto_resolve_after_the_quiet_period_and_reopen_on_a_flare_up(store_url):
    with IncidentStore.open(store_url, quiet_period=600) as store:
        store.apply([crossing("crossing_started", 0, "crossing"),
                     crossing("crossing_ended", 120, "crossing", ended=True)], T0)
        assert store.tick(T0 + timedelta(seconds=120 + 599)) == []
        (resolved,) = store.tick(T0 + timedelta(seconds=120 + 600))
        assert (resolved.action, resolved.who, resolved.incident.status) == ("resolved", "system", "resolved")
        assert resolved.time == T0 + timedelta(seconds=720) and "quiet period (600 s)" in resolved.why
        assert store.tick(T0 + timedelta(hours=5)) == []
        first = resolved.incident_id
        # a new crossing of the same aircraft into the same area 5 min after the last ended: a flare-up
        # (late data, after the tick resolved it) reopens the same incident
        again = crossing("crossing_started", 420, "crossing", key_time=T0 + timedelta(seconds=420))
        assert again.incident_id != first
        (reopened,) = store.apply([again], T0)
        assert (reopened.incident_id, reopened.action, reopened.incident.status) == (first, "reopened", "open")
        assert store.get(again.incident_id).id == first
        assert len(store.incidents()) == 1
        # a crossing long after the quiet period is a new incident
        later = crossing("crossing_started", 7200, "crossing", key_time=T0 + timedelta(seconds=7200))
        (new,) = store.apply([later], T0)
        assert new.action == "opened" and new.incident_id == later.incident_id
        assert len(store.incidents()) == 2


def test_flare_up_before_resolution_continues_the_incident(store_url):
    with IncidentStore.open(store_url, quiet_period=600) as store:
        store.apply([encounter("level_changed", 0, "warning"), encounter("encounter_ended", 60, "warning", ended=True)],
                    T0)
        (flare,) = store.apply([encounter("level_changed", 200, "warning", key_time=T0 + timedelta(seconds=200))], T0)
        assert flare.action == "updated" and "flared up" in flare.why
        assert flare.incident.ended_at is None and flare.incident.quiet_until is None
        assert store.tick(T0 + timedelta(hours=1)) == []  # going on again: nothing to resolve


def test_filters(store_url):
    with IncidentStore.open(store_url) as store:
        store.apply([crossing("crossing_started", 0, "crossing", track_id="4b1805"),
                     crossing("crossing_started", 3600, "deep_crossing", track_id="151abc",
                              key_time=T0 + timedelta(hours=1)),
                     encounter("level_changed", 100, "nmac")], T0)
        assert {i.kind for i in store.incidents(kind="crossing")} == {"crossing"}
        assert len(store.incidents(party="blue")) == 1
        assert len(store.incidents(party=["blue", "red"])) == 3
        assert [i.severity for i in store.incidents(severity="deep_crossing")] in (["deep_crossing", "nmac"],
                                                                                  ["nmac", "deep_crossing"])
        assert len(store.incidents(aircraft="151ABC")) == 1
        assert len(store.incidents(aircraft="rch22")) == 1  # by callsign
        assert len(store.incidents(status="resolved")) == 0
        assert [i.start_time for i in store.incidents()] == sorted((i.start_time for i in store.incidents()),
                                                                   reverse=True)
        assert len(store.incidents(limit=2)) == 2
        assert len(store.incidents(since=T0 + timedelta(minutes=30))) == 3  # none has ended
        with pytest.raises(StoreError, match="unknown severity 'big'"):
            store.incidents(severity="big")


def test_followers_and_changes_since(store_url):
    with IncidentStore.open(store_url) as store:
        seen = []
        store.subscribe(seen.append)
        store.subscribe(lambda c: 1 / 0)  # a broken follower does not stop the others
        changes = store.apply([crossing("crossing_warning", 0, "warning"), encounter("level_changed", 0, "loss")], T0)
        ack = store.acknowledge(changes[1].incident_id, by="red ops", party="red")
        assert seen == [*changes, ack]
        assert store.changes_since(0) == seen
        assert store.changes_since(changes[0].seq) == seen[1:]
        assert store.changes_since(0, limit=1) == seen[:1]
        assert store.changes_since(ack.seq) == []


def test_track_points_kept_once(store_url):
    with IncidentStore.open(store_url) as store:
        u1 = crossing("crossing_started", 60, "crossing", points=5)
        u2 = crossing("crossing_ended", 62, "crossing", ended=True, points=5)  # overlaps u1 by 3 points
        store.apply([u1, u2], T0)
        track = store.track(u1.incident_id)
        assert len(track) == 7 and len({(p.track_id, p.time) for p in track}) == 7
        assert [p.time for p in track] == sorted(p.time for p in track)


def test_incident_json_fields(store_url):
    with IncidentStore.open(store_url) as store:
        store.apply([encounter("level_changed", 0, "loss")], T0)
        (inc,) = store.incidents()
    d = incident_json(inc)
    for key in ("id", "kind", "status", "severity", "parties", "aircraft", "start_time", "end_time", "lat", "lon",
                "summary", "details", "acks"):
        assert key in d
    assert d["start_time"] == "2017-11-01T09:00:00Z" and d["end_time"] is None
    assert d["aircraft"][0] == {"track_id": "4b1805", "callsign": "RFF01", "party": "red"}


@pytest.mark.parametrize("url, message", [
    ("mysql://x@y/z", "bad store URL mysql://x@y/z"),
    ("sqlite://", "write sqlite:///PATH"),
    ("/nonexistent/folder/incidents.db", "its folder /nonexistent/folder does not exist"),
    ("postgresql://nobody:secret@127.0.0.1:1/none", "unavailable"),
    ("postgresql://", "name the database"),  # it connected to libpq's default database and wrote there
    ("sqlite:///nonexistent-folder/x.db", "sqlite:////nonexistent-folder/x.db is /nonexistent-folder/x.db"),
])
def test_bad_urls_give_one_line(url, message):
    with pytest.raises(StoreError) as e:
        IncidentStore.open(url)
    assert message in str(e.value) and "\n" not in str(e.value) and "secret" not in str(e.value)


def test_a_file_that_is_no_database(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(StoreError, match="not a database"):
        IncidentStore.open(junk)
    with pytest.raises(StoreError, match="no incident store there"):
        IncidentStore.open(tmp_path / "missing.db", create=False)


def test_changes_are_recorded_at_the_wall_clock(store_url):
    from datetime import datetime, timezone

    before = datetime.now(timezone.utc)
    with IncidentStore.open(store_url) as store:
        (opened,) = store.apply([encounter("level_changed", 0, "loss")], T0)  # now: the data time of a replay
        ack = store.acknowledge(opened.incident_id, by="ops", at=T0 + timedelta(minutes=3))
        after = datetime.now(timezone.utc)
        assert opened.time == T0 and ack.time == T0 + timedelta(minutes=3)
        for c in store.audit(opened.incident_id):
            assert before - timedelta(seconds=1) <= c.recorded_at <= after + timedelta(seconds=1)


def test_numpy_and_nan_figures_are_stored_as_strict_json(store_url):
    """The monitor's figures come from numpy and may be NaN (a position not known): stored as null."""
    import json
    import math

    import numpy as np

    from skyfence.incidents import TrackPoint

    u = encounter("level_changed", 0, "loss")
    u = type(u)(**{**u.__dict__, "lat": math.nan, "lon": float("inf"),
                   "details": {"horizontal_nm": np.float64(2.5), "vertical_ft": np.float32("nan"), "n": np.int64(3),
                               "when": T0, "pair": ("a", "b")},
                   "track": (TrackPoint("4b1805", T0, math.nan, 40.0, 100.0),
                             TrackPoint("4b1805", T0 + timedelta(seconds=1), 35.0, 40.0, math.nan))})
    with IncidentStore.open(store_url) as store:
        (opened,) = store.apply([u], T0)
        inc = store.get(opened.incident_id)
        d = incident_json(inc)
        json.loads(json.dumps(d), parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
        assert d["lat"] is None and d["lon"] is None
        assert d["details"] == {"horizontal_nm": 2.5, "vertical_ft": None, "n": 3, "when": "2017-11-01T09:00:00Z",
                                "pair": ["a", "b"]}
        (point,) = store.track(inc.id)  # the point without a position is left out
        assert point.lat == 35.0 and point.alt_ft is None


def test_migration_goes_down_and_up_again(store_url):
    """The migration is reversible: down to nothing, up to the head, and the store works again."""
    from alembic import command

    from skyfence.incidents.database import writing

    with IncidentStore.open(store_url) as store:
        store.apply([encounter("level_changed", 0, "loss")], T0)
        with writing(store.engine) as conn:
            command.downgrade(migrations.config(conn), "base")
        with store.engine.connect() as conn:
            assert "incidents" not in sa.inspect(conn).get_table_names()
            assert migrations.current(conn) is None
    with IncidentStore.open(store_url) as store:
        assert store.incidents() == []
        assert store.apply([encounter("level_changed", 0, "loss")], T0)[0].action == "opened"


def test_a_bad_update_is_counted_and_skipped(store_url):
    good = encounter("level_changed", 0, "loss")
    bad_kind = type(good)(**{**good.__dict__, "incident_id": "XX-1", "kind": "collision"})
    bad_severity = type(good)(**{**good.__dict__, "incident_id": "XX-2", "severity": "severe"})
    bad_details = type(good)(**{**good.__dict__, "incident_id": "XX-3", "details": 42})
    naive = crossing("crossing_started", 10, "crossing")
    naive = type(naive)(**{**naive.__dict__, "time": naive.time.replace(tzinfo=None),
                           "start_time": naive.start_time.replace(tzinfo=None)})
    with IncidentStore.open(store_url) as store:
        changes = store.apply([bad_kind, good, bad_severity, naive, bad_details], T0)
        assert [c.incident_id for c in changes] == [good.incident_id, naive.incident_id]
        assert store.rejected == 3 and "'XX-3'" in store.last_rejection
        assert store.get(naive.incident_id).start_time == T0  # the naive time read as UTC
        assert store.apply([bad_kind], T0) == [] and store.rejected == 4


def test_a_store_of_a_newer_skyfence_gives_one_line(store_url):
    with IncidentStore.open(store_url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_future'")
    with pytest.raises(StoreError) as e:
        IncidentStore.open(store_url)
    assert "schema revision this skyfence does not know" in str(e.value) and "0099_future" in str(e.value)
    assert "\n" not in str(e.value)
