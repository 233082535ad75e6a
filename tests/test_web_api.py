"""The web API over a real store and a real HTTP server: roles and tokens, validation, limits, CORS,
the websocket's frames and incident changes, and the users command."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets

from skyfence.agreement import load_agreement
from skyfence.incidents import IncidentStore
from skyfence.incidents.model import iso
from skyfence.web import WebContext
from skyfence.web.recording import Recording
from skyfence.web.users import Users
from tests.incident_stores import pg_database, pg_url  # noqa: F401
from tests.web_helpers import decode, Server, crossing_updates, make_recording, wait_for

AGREEMENT = load_agreement("euphrates-2017")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return Recording.load([make_recording(tmp_path_factory.mktemp("rec") / "small.parquet")], AGREEMENT)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, recording):
    url = str(tmp_path / "incidents.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    st = IncidentStore.open(url)
    st.apply(crossing_updates(recording))
    yield st
    st.close()


@pytest.fixture
def tokens(store):
    users = Users(store.engine)
    return {"viewer": users.add("vera", "viewer"), "officer": users.add("oleg", "officer", "russia_syria"),
            "other": users.add("cora", "officer", "coalition"), "admin": users.add("ada", "admin")}


@pytest.fixture
def server(store, recording, tokens):
    srv = Server(WebContext(store=store, agreement=AGREEMENT, recording=recording))
    yield srv
    srv.stop()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_reads_need_a_token_and_health_does_not(server, tokens):
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/api/health").json()["mode"] == "replay"
        for path in ("/api/incidents", "/api/agreement", "/api/aircraft", "/api/tracks", "/api/figures", "/api/me"):
            r = c.get(path)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"] == "Bearer"
        assert c.get("/api/incidents", headers=auth("sf_not-a-token")).status_code == 401
        me = c.get("/api/me", headers=auth(tokens["officer"])).json()
        assert me == {"name": "oleg", "role": "officer", "party": "russia_syria"}


def test_agreement_incidents_figures_and_picture(server, tokens, recording, store):
    with httpx.Client(base_url=server.url, headers=auth(tokens["viewer"])) as c:
        ag = c.get("/api/agreement").json()
        kinds = {f["properties"]["kind"] for f in ag["features"]}
        assert kinds == {"line", "side", "zone"}
        assert {p["id"] for p in ag["parties"]} == {"coalition", "russia_syria"}
        assert len({p["colour"] for p in ag["parties"]}) == 2
        incs = c.get("/api/incidents").json()
        assert len(incs) == 3 and all(i["kind"] == "crossing" and i["status"] == "open" for i in incs)
        assert {i["aircraft"][0]["callsign"] for i in incs} == {"RFF1021", "RFF1022", "SYR4410"}
        assert len(c.get("/api/incidents", params={"aircraft": "RFF1022"}).json()) == 1
        assert c.get("/api/incidents", params={"party": "coalition"}).json() == []
        assert len(c.get("/api/incidents", params={"severity": "deep_crossing"}).json()) == 1  # or higher
        assert c.get("/api/incidents", params={"kind": "nonsense"}).status_code == 422
        pages = [c.get("/api/incidents", params={"limit": 1, "offset": k}).json() for k in range(4)]
        assert [i["id"] for page in pages for i in page] == [i["id"] for i in incs] and pages[3] == []
        assert c.get("/api/incidents", params={"offset": -1}).status_code == 422
        # since: a time, a day, or a duration back from now, as the CLI takes it
        # (all three are open, so going on at any time since)
        assert len(c.get("/api/incidents", params={"since": "2017-11-01"}).json()) == 3
        assert len(c.get("/api/incidents", params={"since": "2h"}).json()) == 3
        bad = c.get("/api/incidents", params={"since": "last tuesday"})
        assert bad.status_code == 422 and "2017-11-01T09:00Z" in bad.json()["detail"]
        # the figures take the list's filters; a party the agreement lacks is refused (it read as a quiet day)
        assert c.get("/api/figures", params={"since": "2h"}).status_code == 200
        assert c.get("/api/figures", params={"since": "2017-11-01", "party": "coalition"}).json()["total"] == 0
        for path in ("/api/incidents", "/api/figures"):
            bad = c.get(path, params={"party": "russia-syria"})
            assert bad.status_code == 422 and "(coalition, russia_syria)" in bad.json()["detail"], path
        one = c.get(f"/api/incidents/{incs[0]['id']}").json()
        assert one["incident"]["id"] == incs[0]["id"] and one["audit"][0]["action"] == "opened"
        track = c.get(f"/api/incidents/{incs[0]['id']}/track").json()
        assert track["features"][0]["properties"]["track_id"] == incs[0]["aircraft"][0]["track_id"]
        assert len(track["features"][0]["geometry"]["coordinates"]) > 10
        # RFC 7946: altitude in metres (the store keeps feet), as the export has it; times ISO 8601
        (stored,) = [p for p in store.track(incs[0]["id"]) if p.track_id == incs[0]["aircraft"][0]["track_id"]][:1]
        first = track["features"][0]["geometry"]["coordinates"][0]
        assert first[:2] == pytest.approx([stored.lon, stored.lat], abs=1e-6)
        assert first[2] == pytest.approx(stored.alt_ft * 0.3048, abs=0.1) and stored.alt_ft > 1000
        assert track["features"][0]["properties"]["times"][0] == iso(stored.time)
        assert c.get("/api/incidents/CR-0000000000000000").status_code == 404
        figs = c.get("/api/figures").json()
        assert figs["total"] == 3 and figs["days"][0]["day"] == "2017-11-01"
        assert figs["days"][0]["by_kind"] == {"crossing": 3}
        at = "2017-11-01T09:10:00Z"
        planes = c.get("/api/aircraft", params={"at": at}).json()
        assert len(planes) == 8
        rff = next(p for p in planes if p["callsign"] == "RFF1021")
        assert rff["party"] == "russia_syria" and rff["country"] == "Russia"
        assert rff["alt_ft"] == pytest.approx(7000 / 0.3048, abs=1) and rff["gs_kt"] == pytest.approx(427.6, abs=0.5)
        trails = c.get("/api/tracks", params={"since": "2017-11-01T09:05:00Z", "until": at}).json()
        assert len(trails) == 8 and len(trails["1512a1"]) == 61
        assert c.get("/api/basemap/rivers").json()["type"] == "FeatureCollection"
        assert c.get("/api/basemap/nothing").status_code == 422


def test_roles(server, tokens, store):
    inc = store.incidents(aircraft="RFF1021")[0]
    path = f"/api/incidents/{inc.id}"
    with httpx.Client(base_url=server.url) as c:
        assert c.post(f"{path}/ack", json={}).status_code == 401
        assert c.post(f"{path}/ack", json={}, headers=auth(tokens["viewer"])).status_code == 403
        assert c.post(f"{path}/comment", json={"text": "hi"}, headers=auth(tokens["viewer"])).status_code == 403
        assert c.post(f"{path}/ack", json={}, headers=auth(tokens["other"])).status_code == 403  # coalition's officer
        r = c.post(f"{path}/ack", json={"why": "called the hotline"}, headers=auth(tokens["officer"]))
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "acknowledged" and r.json()["who"] == "oleg"
        assert r.json()["incident"]["acks"]["russia_syria"]["by"] == "oleg"
        assert c.post(f"{path}/comment", json={"text": "pilot briefed"}, headers=auth(tokens["officer"])).status_code == 200
        r = c.post(f"{path}/resolve", headers=auth(tokens["officer"]))  # its party's alone; no body: no reason

        assert r.status_code == 200 and r.json()["incident"]["status"] == "resolved"
        assert c.post(f"{path}/resolve", json={}, headers=auth(tokens["admin"])).status_code == 409  # resolved already
        audit = c.get(path, headers=auth(tokens["viewer"])).json()["audit"]
        assert [(a["action"], a["who"]) for a in audit][-3:] == [("acknowledged", "oleg"), ("commented", "oleg"),
                                                                  ("resolved", "oleg")]


def test_validation_and_body_limit(server, tokens, store):
    inc = store.incidents()[0]
    h = auth(tokens["admin"])
    with httpx.Client(base_url=server.url, headers=h) as c:
        url = f"/api/incidents/{inc.id}/comment"
        assert c.post(url, json={"text": ""}).status_code == 422
        assert c.post(url, json={"text": "x", "extra": 1}).status_code == 422
        assert c.post(url, json={"text": "nul\x00"}).status_code == 422
        assert c.post(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
        assert c.post(url, json={"text": "x" * 20_000}).status_code == 413
        assert c.post(url, json={"text": "x" * 2_001}).status_code == 422
        assert c.get("/api/incidents/bad%20id").status_code == 422
        assert c.get("/api/incidents", params={"limit": 0}).status_code == 422
        # a body streamed without Content-Length is cut off too
        r = c.post(url, content=iter([b'{"text": "', b"y" * 17_000, b'"}']), headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_cors_closed_by_default_and_opened_by_option(store, recording, tokens):
    origin = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    for cors, allowed in (((), False), (("https://elsewhere.example",), True)):
        srv = Server(WebContext(store=store, agreement=AGREEMENT, recording=recording, cors_origins=cors))
        try:
            r = httpx.get(f"{srv.url}/api/incidents", headers={**origin, **auth(tokens["viewer"])})
            assert ("access-control-allow-origin" in r.headers) is allowed
            pre = httpx.options(f"{srv.url}/api/incidents", headers=origin)
            assert ("access-control-allow-origin" in pre.headers) is allowed
        finally:
            srv.stop()


async def _ws(url: str, token: str | None):
    ws = await websockets.connect(url.replace("http", "ws") + "/ws", max_size=2**24)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return ws


async def _next(ws, kind: str, timeout: float = 10.0) -> dict:
    async def loop():
        while True:
            msg = decode(await ws.recv())
            if msg["type"] == kind:
                return msg
    return await asyncio.wait_for(loop(), timeout)


def test_websocket_refuses_without_token(server):
    async def go():
        ws = await _ws(server.url, "sf_wrong")
        with pytest.raises(websockets.ConnectionClosed) as err:
            await asyncio.wait_for(ws.recv(), 5)
        return err.value.rcvd.code
    assert asyncio.run(go()) == 4401


def test_websocket_pictures_move_and_incident_changes_arrive(server, tokens, store, recording):
    inc = store.incidents(aircraft="RFF1022")[0]

    async def go():
        ws = await _ws(server.url, tokens["viewer"])
        hello = await _next(ws, "hello")
        assert hello["mode"] == "replay" and hello["user"]["role"] == "viewer"
        t = recording.start + 600
        await ws.send(json.dumps({"type": "clock", "time": t, "speed": 60, "playing": True}))
        first = await _next(ws, "picture")
        while not first.get("reset"):  # the frame made for our seek
            first = await _next(ws, "picture")
        assert first["full"] and len(first["rows"]) == 8 and first["rate"] == 60
        meta = {int(k): v for k, v in first["meta"].items()}
        assert {m[1] for m in meta.values()} >= {"RFF1021", "RCH301", "QTR8"}
        later = await _next(ws, "picture")
        assert not later["full"] and later["time"] > first["time"] + 30  # 60x: a minute a second
        assert later["meta"] == {} and 0 < len(later["rows"]) <= 8  # only what changed, no identities again
        before = {r[0]: (r[1], r[2]) for r in first["rows"]}
        moved = [r for r in later["rows"] if (r[1], r[2]) != before[r[0]]]
        assert len(moved) >= 7
        # an incident change reaches the websocket as it happens
        await asyncio.to_thread(store.comment, inc.id, "someone", "seen on radar")
        change = await _next(ws, "incident")
        assert change["change"]["action"] == "commented" and change["change"]["incident"]["id"] == inc.id
        await ws.close()
    asyncio.run(go())


def test_a_removed_user_is_cut_off_an_open_websocket(server, tokens, store):
    """The API refused a removed user's token at once, but an open websocket went on receiving (user trial)."""
    async def go():
        ws = await _ws(server.url, tokens["viewer"])
        await _next(ws, "hello")
        await asyncio.to_thread(Users(store.engine).remove, "vera")
        with pytest.raises(websockets.ConnectionClosed) as err:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        return err.value.rcvd.code, err.value.rcvd.reason
    assert asyncio.run(go()) == (4401, "the token no longer works")


def test_users_command_prints_a_token_once_and_keeps_only_its_hash(tmp_path):
    db = tmp_path / "users.db"
    run = lambda *a: subprocess.run([sys.executable, "-m", "skyfence", "users", *a, "--store", str(db)],
                                    capture_output=True, text=True)
    r = run("add", "olga", "--role", "officer", "--party", "russia_syria")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("sf_") and len(token) > 40
    raw = db.read_bytes()
    assert token.encode() not in raw
    with sqlite3.connect(db) as conn:
        assert conn.execute("select name, role, party from web_users").fetchall() == [("olga", "officer", "russia_syria")]
    assert Users(IncidentStore.open(db).engine).by_token(token).name == "olga"
    bad = run("add", "olga", "--role", "viewer")
    assert bad.returncode == 2 and "exists already" in bad.stderr and "Traceback" not in bad.stderr
    assert run("add", "x", "--role", "pilot").returncode == 2
    assert "give --party" in run("add", "y", "--role", "officer").stderr
    assert run("list").stdout.split() == ["olga", "officer", "russia_syria"]
    # a party the agreement lacks is refused (an officer for 'russia-syria' would see nothing)
    r = run("add", "ivan", "--role", "officer", "--party", "russia-syria", "--agreement", "euphrates-2017")
    assert r.returncode == 2 and "not a party of agreement euphrates-2017 (coalition, russia_syria)" in r.stderr
    assert run("add", "ivan", "--role", "officer", "--party", "coalition", "--agreement", "euphrates-2017"
               ).returncode == 0
    # a misspelt store is refused, not made anew and empty (user trial)
    typo = [sys.executable, "-m", "skyfence", "users", "list", "--store", str(tmp_path / "userz.db")]
    r = subprocess.run(typo, capture_output=True, text=True)
    assert r.returncode == 2 and "no incident store there" in r.stderr and not (tmp_path / "userz.db").exists()
    serve = [sys.executable, "-m", "skyfence", "serve", "--store", str(tmp_path / "userz.db"), "--port"]
    r = subprocess.run(serve + ["18080"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no incident store there" in r.stderr and not (tmp_path / "userz.db").exists()
    r = subprocess.run(serve + ["99999"], capture_output=True, text=True, timeout=120)  # a traceback (user trial)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "'--port'" in r.stderr and "65535" in r.stderr


def test_users_table_comes_from_the_store_migrations(tmp_path):
    from alembic.script import ScriptDirectory

    from skyfence.incidents import migrations

    heads = migrations.head() if callable(getattr(migrations, "head", None)) else None
    script = ScriptDirectory(str(Path(migrations.__file__).parent))
    assert "0003_users" in {r.revision for r in script.walk_revisions()}
    st = IncidentStore.open(tmp_path / "m.db")
    with st.engine.connect() as conn:
        assert migrations.current(conn) == heads
    import sqlalchemy as sa

    assert "web_users" in sa.inspect(st.engine).get_table_names()


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_serve_ends_cleanly_when_stopped(tmp_path, stop):
    """Ctrl-C (or SIGTERM) is how a server is stopped: it shuts down, says so, and exits 0, so `make demo`
    ended by Ctrl-C reports no error (it printed 'interrupted' and make said 'Error 130')."""
    import signal

    from tests.web_helpers import free_port

    IncidentStore.open(tmp_path / "s.db")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "skyfence", "serve", "--store", str(tmp_path / "s.db"),
                             "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(up, timeout=60)
        proc.send_signal(getattr(signal, stop))
        assert proc.wait(timeout=10) == 0
        err = proc.stderr.read()
        assert "stopped serving" in err and "interrupted" not in err and "Traceback" not in err
    finally:
        proc.kill()
