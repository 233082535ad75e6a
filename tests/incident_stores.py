"""Incident stores for tests: a SQLite file in tmp_path, and PostgreSQL on the real server at
127.0.0.1:5432 in a database of this test session (one schema per test), dropped at the end.
PostgreSQL tests skip, saying why, where the server cannot be reached."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from skyfence.incidents import Aircraft, EventUpdate, TrackPoint, incident_id

PG_ADMIN = os.environ.get("SKYFENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2017, 11, 1, 9, 0, tzinfo=timezone.utc)


def _admin_dsn() -> str:
    return PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this session: its URL (without options)."""
    try:
        import psycopg

        admin = psycopg.connect(_admin_dsn(), autocommit=True, connect_timeout=3)
    except Exception as e:  # noqa: BLE001 - any failure to connect means: no server to test on
        pytest.skip(f"PostgreSQL at {PG_ADMIN} unreachable: {' '.join(str(e).split())[:200]}")
    name = f"skyfence_store_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = _admin_dsn().rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                      "pg_backend_pid()", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture
def pg_url(pg_database):
    """A PostgreSQL store URL of its own: a fresh schema in the session's database."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_database}?options=-csearch_path%3D{schema}"


@pytest.fixture
def own_pg_database(pg_database):
    """A database of this test only, so that it can be closed to connections without touching any other."""
    import psycopg

    name = f"skyfence_lost_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(_admin_dsn(), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    base = _admin_dsn().rsplit("/", 1)[0]
    try:
        yield admin, name, f"{base}/{name}"
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """Each store test runs on both backends."""
    if request.param == "sqlite":
        return str(tmp_path / "incidents.db")
    return request.getfixturevalue("pg_url")


def crossing(event: str, seconds: float, severity: str, *, track_id: str = "4b1805", area: str = "west",
             ended: bool = False, key_time: datetime = T0, depth_km: float | None = None,
             points: int = 2) -> EventUpdate:
    """An update of a crossing by ``track_id`` into ``area`` that began at ``key_time``."""
    time = T0 + timedelta(seconds=seconds)
    details = {"area": area}
    if depth_km is not None:
        details["depth_km"] = depth_km
    track = tuple(TrackPoint(track_id, time - timedelta(seconds=k), 35.0 + k * 0.01, 40.0, 30000.0 - k)
                  for k in range(points))
    return EventUpdate(
        incident_id=incident_id("crossing", track_id, area, key_time), kind="crossing", event=event, time=time,
        severity=severity, aircraft=(Aircraft(track_id, f"RF{track_id[:3].upper()}", "red"),), parties=("red",),
        lat=35.0, lon=40.1, start_time=key_time, end_time=time if ended else None, ended=ended,
        summary=f"{track_id} {event.replace('_', ' ')} ({area})", details=details, track=track)


def encounter(event: str, seconds: float, level: str, *, pair=("4b1805", "ae1234"), ended: bool = False,
              key_time: datetime = T0) -> EventUpdate:
    time = T0 + timedelta(seconds=seconds)
    return EventUpdate(
        incident_id=incident_id("encounter", sorted(pair), key_time), kind="encounter", event=event, time=time,
        severity=level, aircraft=(Aircraft(pair[0], "RFF01", "red"), Aircraft(pair[1], "RCH22", "blue")),
        parties=("red", "blue"), lat=35.2, lon=40.0, start_time=key_time, end_time=time if ended else None,
        ended=ended, summary=f"{pair[0]} and {pair[1]}: {level}", details={"level": level, "horizontal_nm": 3.2})
