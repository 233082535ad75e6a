"""The web API while its PostgreSQL store refuses connections: every call that needs the store answers
503 in JSON (the token check too), health says so, and all is well again once the store is back."""

from __future__ import annotations

import httpx

from skyfence.agreement import load_agreement
from skyfence.incidents import IncidentStore
from skyfence.web import WebContext
from skyfence.web.users import Users
from tests.incident_stores import own_pg_database, pg_database  # noqa: F401
from tests.web_helpers import Server, crossing_updates, make_recording

AGREEMENT = load_agreement("euphrates-2017")


def test_a_store_that_refuses_connections_is_a_503_in_json_and_health_says_degraded(own_pg_database, tmp_path):
    from skyfence.web.recording import Recording

    admin, name, url = own_pg_database
    recording = Recording.load([make_recording(tmp_path / "small.parquet")], AGREEMENT)
    store = IncidentStore.open(url)
    store.apply(crossing_updates(recording))
    token = Users(store.engine).add("oleg", "officer", "russia_syria")
    some = store.incidents()[0].id
    server = Server(WebContext(store=store, agreement=AGREEMENT, recording=recording))
    calls = [("GET", "/api/me"), ("GET", "/api/incidents"), ("GET", f"/api/incidents/{some}"),
             ("GET", "/api/figures"), ("GET", "/api/hotline"), ("GET", f"/api/incidents/{some}/hotline"),
             ("POST", f"/api/incidents/{some}/ack")]
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            assert c.get("/api/health").json()["store"] == "ok"
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            for method, path in calls:
                r = c.request(method, path, json={"why": "seen"} if method == "POST" else None)
                assert r.status_code == 503, (path, r.status_code, r.text[:200])
                assert r.headers["content-type"] == "application/json", path
                assert "the store is unavailable" in r.json()["detail"], path
                assert r.headers["retry-after"] == "5"
            health = c.get("/api/health")
            assert health.status_code == 200
            assert (health.json()["status"], health.json()["store"]) == ("degraded", "unavailable")
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert c.get("/api/me").json()["name"] == "oleg"
            assert c.get("/api/hotline").status_code == 200
            assert (c.get("/api/health").json()["status"]) == "ok"
    finally:
        server.stop()
        store.close()
