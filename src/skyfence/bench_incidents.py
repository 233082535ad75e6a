"""Benchmark the incident store: the monitor's writes and the readers' queries, on SQLite and PostgreSQL.

A stream of ``incidents`` events (crossings: warning, entry, exit; encounters: three level changes and
the end), each update with 10 track points, applied in batches of ``batch`` updates as the monitor's
ticks would; then the same stream again (every update already applied: the idempotent skip), a list
of every incident, a filtered list, one incident's audit, and the changes read by a follower in pages.
PostgreSQL runs in a database of its own on 127.0.0.1:5432 (dropped after), skipped when unreachable.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

T0 = datetime(2017, 11, 1, tzinfo=timezone.utc)


def stream(incidents: int) -> list:
    from skyfence.incidents import Aircraft, EventUpdate, TrackPoint, incident_id

    updates = []
    for k in range(incidents):
        start = T0 + timedelta(seconds=37 * k)
        if k % 2:
            ac = (Aircraft(f"a{k:05x}", f"RFF{k}", "russia_syria"),)
            iid = incident_id("crossing", ac[0].track_id, "east", start)
            steps = [("crossing_warning", 0, "warning", False), ("crossing_started", 60, "crossing", False),
                     ("crossing_ended", 300, "deep_crossing", True)]
            kind, parties = "crossing", ("russia_syria",)
        else:
            ac = (Aircraft(f"b{k:05x}", f"RCH{k}", "coalition"), Aircraft(f"c{k:05x}", f"SYR{k}", "russia_syria"))
            iid = incident_id("encounter", [a.track_id for a in ac], start)
            steps = [("level_changed", 0, "caution", False), ("level_changed", 40, "warning", False),
                     ("level_changed", 80, "loss", False), ("encounter_ended", 200, "loss", True)]
            kind, parties = "encounter", ("coalition", "russia_syria")
        for event, dt, sev, ended in steps:
            t = start + timedelta(seconds=dt)
            track = tuple(TrackPoint(a.track_id, t - timedelta(seconds=j), 35.0 + j * 1e-3, 40.0, 25000.0)
                          for a in ac for j in range(10 // len(ac)))
            updates.append(EventUpdate(iid, kind, event, t, sev, ac, parties, 35.0, 40.0, start,
                                       t if ended else None, ended, f"{kind} {event} {sev}",
                                       {"area": "east", "level": sev}, track))
    updates.sort(key=lambda u: u.time)
    return updates


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_on(url: str, incidents: int, batch: int) -> dict:
    from skyfence.incidents import IncidentStore

    updates = stream(incidents)
    batches = [updates[i:i + batch] for i in range(0, len(updates), batch)]
    with IncidentStore.open(url) as store:
        lat = []
        t0 = time.perf_counter()
        changes = 0
        for b in batches:
            t = time.perf_counter()
            changes += len(store.apply(b))
            lat.append(time.perf_counter() - t)
        first = time.perf_counter() - t0
        again = _timed(lambda: [store.apply(b) for b in batches])
        listed = _timed(lambda: store.incidents())
        filtered = _timed(lambda: store.incidents(party="coalition", severity="loss", limit=100))
        one = store.incidents(limit=1)[0].id
        audit = _timed(lambda: store.audit(one))
        seq, pages = 0, 0

        def follow():
            nonlocal seq, pages
            while page := store.changes_since(seq, 1000):
                seq, pages = page[-1].seq, pages + 1
        follower = _timed(follow)
    lat.sort()
    return {"updates": len(updates), "batch": batch, "changes": changes,
            "apply_updates_per_s": round(len(updates) / first), "apply_s": round(first, 2),
            "batch_ms_p50": round(statistics.median(lat) * 1e3, 1),
            "batch_ms_p99": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e3, 1),
            "reapply_updates_per_s": round(len(updates) / again),
            "list_all_ms": round(listed * 1e3, 1), "list_filtered_ms": round(filtered * 1e3, 1),
            "audit_ms": round(audit * 1e3, 2), "follow_all_changes_s": round(follower, 2), "pages": pages}


def bench_incidents(workdir: Path, incidents: int = 4000, batch: int = 20,
                    pg_admin: str = "postgresql://postgres@127.0.0.1:5432/test") -> dict:
    out: dict = {"bench": "incidents", "incidents": incidents}
    db = workdir / f"incidents-{uuid.uuid4().hex[:8]}.db"
    try:
        out["sqlite"] = run_on(str(db), incidents, batch)
    finally:
        for f in workdir.glob(db.name + "*"):
            f.unlink()
    try:
        import psycopg

        admin = psycopg.connect(pg_admin, autocommit=True, connect_timeout=3)
    except Exception as e:  # noqa: BLE001
        out["postgresql"] = f"skipped: unreachable ({' '.join(str(e).split())[:120]})"
        return out
    name = f"skyfence_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        out["postgresql"] = run_on(f"{pg_admin.rsplit('/', 1)[0]}/{name}", incidents, batch)
    finally:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
    return out
