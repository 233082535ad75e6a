"""The websocket hub's promises: a slow client only loses its own frames (latest-only), each frame says
only what changed, and the live picture of the monitor reaches the clients."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
import websockets

from skyfence.agreement import load_agreement
from skyfence.analysis.load import load_tracks
from skyfence.incidents import IncidentStore
from skyfence.live.picture import Picture
from skyfence.web import WebContext
from skyfence.web.frames import FrameBuilder
from skyfence.web.hub import Client
from skyfence.web.users import Users
from tests.web_helpers import decode, T0, Server, make_recording

AGREEMENT = load_agreement("euphrates-2017")


def plane(tid: str, lat: float, lon: float, t: float, **kw) -> dict:
    return {"track_id": tid, "callsign": kw.get("callsign", tid.upper()), "party": kw.get("party", "coalition"),
            "country": "United States", "lat": lat, "lon": lon, "alt_ft": 30000.0, "gs_kt": 450.0, "track_deg": 90.0,
            "vrate_fpm": 0.0, "time": t, "on_ground": False}


def test_frames_carry_only_what_changed():
    fb = FrameBuilder()
    f1 = fb.step(100.0, [plane("a", 35.0, 40.0, 100.0), plane("b", 35.5, 40.5, 99.0)])
    full = json.loads(f1.full)
    assert full["full"] and len(full["rows"]) == 2 and len(full["meta"]) == 2
    assert full["rows"][1][7] == 1  # b's state is a second old
    f2 = fb.step(101.0, [plane("a", 35.0, 40.01, 101.0), plane("b", 35.5, 40.5, 99.0), plane("c", 36.0, 41.0, 101.0)])
    delta = json.loads(f2.delta)
    keys = {r[0] for r in delta["rows"]}
    assert not delta["full"] and len(keys) == 2  # a moved, c is new; b unchanged is not sent
    assert list(delta["meta"].values()) == [["c", "C", "coalition", "United States"]]
    f3 = fb.step(102.0, [plane("a", 35.0, 40.02, 102.0, callsign="RCH9")])
    delta = json.loads(f3.delta)
    assert len(delta["gone"]) == 2 and list(delta["meta"].values())[0][1] == "RCH9"
    assert len(json.loads(f3.full)["rows"]) == 1


def test_a_slow_client_loses_only_its_own_frames():
    async def go():
        release = asyncio.Event()
        sent: list[str] = []

        async def slow_send(text: str):
            await release.wait()
            sent.append(text)

        fast_sent: list[str] = []

        async def fast_send(text: str):
            fast_sent.append(text)

        slow, fast = Client(slow_send, "slow"), Client(fast_send, "fast")
        tasks = [asyncio.create_task(slow.run()), asyncio.create_task(fast.run())]
        fb = FrameBuilder()
        for i in range(6):
            frame = fb.step(100.0 + i, [plane("a", 35.0, 40.0 + i / 100, 100.0 + i)])
            slow.offer(frame)
            fast.offer(frame)
            await asyncio.sleep(0.01)
        assert len(fast_sent) == 6 and fast.dropped == 0  # the fast one got every frame, as a delta after the first
        assert [decode(t)["full"] for t in fast_sent] == [True] + [False] * 5
        # the slow one is stuck sending frame 0; frames 1-4 were replaced in its slot, frame 5 waits
        assert slow.dropped == 4 and len(sent) == 0
        release.set()
        await asyncio.sleep(0.05)
        assert len(sent) == 2
        last = decode(sent[-1])
        assert last["full"] and last["time"] == 105.0  # after a drop: a full frame, the newest one
        for t in tasks:
            t.cancel()
    asyncio.run(go())


@pytest.fixture
def live_site(tmp_path):
    df, _ = load_tracks([str(make_recording(tmp_path / "small.parquet", minutes=5))], AGREEMENT, None, warm=False)
    picture = Picture()
    store = IncidentStore.open(tmp_path / "incidents.db")
    token = Users(store.engine).add("vera", "viewer")
    srv = Server(WebContext(store=store, agreement=AGREEMENT, picture=picture))
    yield srv, token, picture, df
    srv.stop()
    store.close()


def test_the_monitors_picture_reaches_the_page(live_site):
    srv, token, picture, df = live_site

    def feed(seconds: float):
        t = T0 + timedelta(seconds=seconds)
        picture.update(df.filter((pl.col("time") > t - timedelta(seconds=5)) & (pl.col("time") <= t)))
        picture.tick(t)

    async def go():
        feed(10)
        ws = await websockets.connect(srv.url.replace("http", "ws") + "/ws")
        await ws.send(json.dumps({"type": "auth", "token": token}))
        msgs = []
        while len([m for m in msgs if m["type"] == "picture"]) < 1:
            msgs.append(decode(await asyncio.wait_for(ws.recv(), 10)))
        first = [m for m in msgs if m["type"] == "picture"][0]
        assert msgs[0]["type"] == "hello" and msgs[0]["mode"] == "live"
        assert first["full"] and len(first["rows"]) == 8
        assert first["time"] == pytest.approx((T0 + timedelta(seconds=10)).timestamp())
        feed(60)
        while True:
            m = decode(await asyncio.wait_for(ws.recv(), 10))
            if m["type"] == "picture" and m["time"] > first["time"]:
                break
        assert not m["full"] and len(m["rows"]) == 8  # everyone moved
        assert m["time"] == pytest.approx((T0 + timedelta(seconds=60)).timestamp())
        await ws.close()
    asyncio.run(go())
