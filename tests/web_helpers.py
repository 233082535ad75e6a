"""Shared pieces of the web tests: a small recorded flight picture, incidents on it, a real server."""

from __future__ import annotations

import json
import os
import math
import socket
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from skyfence.incidents.ids import incident_id
from skyfence.incidents.model import Aircraft, EventUpdate, TrackPoint

T0 = datetime(2017, 11, 1, 9, 0, tzinfo=timezone.utc)
# (track_id, callsign, start lon, start lat, track deg, speed m/s, altitude m): Russian/Syrian jets going east
# over the Euphrates near Deir ez-Zor, coalition aircraft east of it, one airliner of no party.
FLIGHTS = [
    ("1512a1", "RFF1021", 39.60, 35.45, 80.0, 220.0, 7000.0),
    ("1512a2", "RFF1022", 39.55, 35.30, 95.0, 230.0, 7600.0),
    ("1512a3", "SYR4410", 39.70, 35.10, 70.0, 200.0, 6100.0),
    ("ae0101", "RCH301", 41.20, 35.60, 250.0, 210.0, 9100.0),
    ("ae0102", "RCH302", 41.00, 35.00, 300.0, 190.0, 8500.0),
    ("ae0103", "FORTE11", 40.90, 36.00, 200.0, 160.0, 15000.0),
    ("43c001", "ASCOT55", 41.50, 34.80, 320.0, 200.0, 9800.0),
    ("06a001", "QTR8", 38.50, 36.40, 120.0, 240.0, 11000.0),
]


def make_recording(path: Path, minutes: int = 30, step_s: float = 5.0) -> Path:
    """State vectors of ``FLIGHTS`` flying straight for ``minutes``, in skyfence's track schema (Parquet)."""
    rows = []
    for tid, cs, lon0, lat0, trk, spd, alt in FLIGHTS:
        r = math.radians(trk)
        for k in range(int(minutes * 60 / step_s) + 1):
            d = spd * k * step_s
            lat = lat0 + d * math.cos(r) / 111_320
            lon = lon0 + d * math.sin(r) / (111_320 * math.cos(math.radians(lat)))
            rows.append({"time": T0 + timedelta(seconds=k * step_s), "track_id": tid, "callsign": cs,
                         "lon": lon, "lat": lat, "altitude": alt, "ground_speed": spd, "track": trk,
                         "vertical_rate": 0.0, "on_ground": False})
    pl.DataFrame(rows).with_columns(pl.col("time").dt.cast_time_unit("us")).write_parquet(path)
    return path


def crossing_updates(recording, every_s: float = 240.0) -> list[EventUpdate]:
    """A crossing incident for each Russian/Syrian aircraft of the recording (one per ``every_s`` apart),
    placed where it is at that moment, with its track around it."""
    ups = []
    for n, (tid, cs, *_rest) in enumerate(f for f in FLIGHTS if f[1].startswith(("RFF", "SYR"))):
        t = recording.start + 300 + n * every_s
        a = next(x for x in recording.aircraft(t) if x["track_id"] == tid)
        time_ = datetime.fromtimestamp(t, timezone.utc)
        pts = tuple(TrackPoint(tid, datetime.fromtimestamp(p[0], timezone.utc), p[1], p[2], p[3])
                    for p in recording.tracks(t - 300, t + 120)[tid])
        ups.append(EventUpdate(
            incident_id=incident_id("crossing", tid, "east", time_), kind="crossing", event="crossing_started",
            time=time_, severity=("crossing", "deep_crossing", "warning")[n % 3],
            aircraft=(Aircraft(tid, cs, "russia_syria"),), parties=("russia_syria",),
            lat=float(a["lat"]), lon=float(a["lon"]), start_time=time_, end_time=None, ended=False,
            summary=f"{cs} crossed the Euphrates eastward", details={"area": "east", "depth_km": 3.0 + n},
            track=pts))
    return ups


def decode(message: str | bytes) -> dict:
    """A websocket message as the page reads it: text is JSON, binary is raw-DEFLATE'd JSON (pictures)."""
    if isinstance(message, bytes):
        from skyfence.web.frames import inflate

        return inflate(message)
    return json.loads(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The web app on uvicorn in a thread, on a free port of 127.0.0.1 (a real TCP server)."""

    def __init__(self, ctx) -> None:
        from skyfence.web import create_app
        from skyfence.web.server import serve_in_thread

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(ctx)
        self.server, self.thread = serve_in_thread(self.app, "127.0.0.1", self.port)
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def wait_for(predicate, timeout: float = 10.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


# ---- the page in Debian's chromium (playwright drives it; no browser download) ---------------------------

CHROMIUM = os.environ.get("SKYFENCE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--no-sandbox"]


class Page:
    """A page of the site, with every request that is not to the server blocked and recorded."""

    def __init__(self, browser, url: str, token: str | None, hold=None) -> None:
        """``hold(request)``: a request of the server's it answers True for is held (``held``) until released."""
        self.url = url
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.hold = hold
        self.held: list = []
        # bypass_csp: the test itself evaluates JavaScript strings, which the page's policy forbids
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        self.page = self.ctx.new_page()
        self.page.route("**/*", self._route)
        self.page.on("websocket", lambda ws: None if ws.url.startswith(url.replace("http", "ws")) else self.outside.append(ws.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{url}/#token={token}" if token else url)

    def _route(self, route):
        if route.request.url.startswith(self.url + "/"):
            if self.hold is not None and self.hold(route.request):
                return self.held.append(route)
            return route.continue_()
        self.outside.append(route.request.url)
        return route.abort()

    def js(self, expr: str):
        return self.page.evaluate(expr)

    def release(self, route) -> None:
        """Let a held request go on, and wait for its answer."""
        with self.page.expect_response(lambda r: r.request == route.request):
            route.continue_()

    def wait(self, expr: str, timeout: float = 30.0):
        self.page.wait_for_function(expr, timeout=timeout * 1000)

    def close(self):
        self.ctx.close()
