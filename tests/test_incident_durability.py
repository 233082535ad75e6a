"""Committed means durable, on the real databases:

- a writer killed with SIGKILL at random moments loses nothing it reported committed, and run again
  on the same store ends with exactly the incidents and audit of a run never killed (none lost, none
  twice);
- a PostgreSQL connection lost mid-transaction, or the database refusing connections for a while,
  raises StoreUnavailable, commits nothing of that call, and the store works again once it is back.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

from skyfence.incidents import IncidentStore, StoreUnavailable, incident_json
from tests.incident_stores import (T0, crossing, encounter, own_pg_database, pg_database, pg_url,  # noqa: F401
                                   store_url)
from tests.incident_writer import stream

ROOT = Path(__file__).resolve().parents[1]


def _writer(url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.incident_writer", url], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _content(store: IncidentStore):
    """Incidents and audit, without the change numbers (a killed PostgreSQL transaction burns sequence values)."""
    incidents = sorted((incident_json(i) for i in store.incidents()), key=lambda d: d["id"])
    audit = [(c.incident_id, c.time, c.who, c.action, c.why, incident_json(c.incident))
             for c in store.changes_since(0, limit=10**6)]
    return incidents, audit


def test_kill_9_loses_nothing_committed_and_doubles_nothing(store_url, tmp_path):
    rng = random.Random(7)
    reported: list[tuple] = []
    kills = 0
    for _round in range(3):
        proc = _writer(store_url)
        target = rng.randint(3, 25)
        lines = 0
        for line in proc.stdout:
            if line.startswith("done"):
                break
            reported += [tuple(c) for c in json.loads(line)]
            lines += 1
            if lines == target:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
                # the child may have written more lines before it died: they were committed too
                reported += [tuple(c) for rest in proc.stdout if not rest.startswith("done") for c in json.loads(rest)]
                break
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        with IncidentStore.open(store_url) as store:  # every change reported committed is there, once
            stored = {(c.seq, c.incident_id, c.action) for c in store.changes_since(0, limit=10**6)}
            assert set(reported) <= stored
            assert len(stored) == len({c for c in stored})
    assert kills == 3
    proc = _writer(store_url)  # run again to the end on the same store
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and out.rstrip().endswith("done"), err
    clean = str(tmp_path / "clean.db")  # a run never killed
    with IncidentStore.open(clean) as fresh:
        for batch in stream():
            fresh.apply(batch, T0)
        expected = _content(fresh)
    with IncidentStore.open(store_url) as store:
        got = _content(store)
        assert set(reported) <= {(c.seq, c.incident_id, c.action) for c in store.changes_since(0, limit=10**6)}
    assert got == expected
    assert len(got[0]) == 40 and len({i["id"] for i in got[0]}) == 40


def _terminate(admin, name: str) -> int:
    return admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND "
                         "pid <> pg_backend_pid()", (name,)).fetchone()[0]


def test_postgresql_lost_mid_transaction_then_back(own_pg_database):
    admin, name, url = own_pg_database
    with IncidentStore.open(url) as store:
        store.apply([encounter("level_changed", 0, "caution")], T0)
        statements = []

        def kill_on_third(conn, cursor, statement, params, context, executemany):
            statements.append(statement)
            if len(statements) == 3:  # inside apply's transaction: the server ends our backend
                assert _terminate(admin, name) >= 1

        event.listen(store.engine, "before_cursor_execute", kill_on_third)
        batch = [crossing("crossing_started", 10, "crossing"), encounter("level_changed", 20, "loss")]
        with pytest.raises(StoreUnavailable, match="cannot apply updates: the store is unavailable") as e:
            store.apply(batch, T0)
        assert "\n" not in str(e.value)
        event.remove(store.engine, "before_cursor_execute", kill_on_third)
        assert len(store.incidents()) == 1  # nothing of the failed call was committed; the store is back
        assert store.get(batch[0].incident_id) is None
        changes = store.apply(batch, T0)  # the retry (what the monitor's buffer does) goes through
        assert [c.action for c in changes] == ["opened", "severity_raised"]
        assert store.apply(batch, T0) == []


def test_postgresql_refusing_connections_for_a_while(own_pg_database):
    admin, name, url = own_pg_database
    followers = []
    with IncidentStore.open(url) as store:
        store.subscribe(followers.append)
        store.apply([encounter("level_changed", 0, "caution")], T0)
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        _terminate(admin, name)
        pending = [encounter("level_changed", 30, "loss")]
        for call in (lambda: store.apply(pending, T0), store.incidents, lambda: store.changes_since(0),
                     lambda: store.acknowledge("EN-x", by="me")):
            with pytest.raises(StoreUnavailable):
                call()
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        (raised,) = store.apply(pending, T0)
        assert raised.action == "severity_raised" and raised.incident.severity == "loss"
        assert [c.action for c in followers] == ["opened", "severity_raised"]
    with pytest.raises(StoreUnavailable):
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        _terminate(admin, name)
        IncidentStore.open(url)


def test_sqlite_commit_is_on_disk(tmp_path):
    """The SQLite store runs in WAL mode with synchronous=FULL (a commit is fsynced before it returns)."""
    with IncidentStore.open(tmp_path / "s.db") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
