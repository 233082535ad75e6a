"""Benchmarks of the web page and its websocket (``python -m skyfence.bench web``).

``ws``: 5,000 aircraft moving at 1 Hz, pushed to 50 websocket clients and one deliberately slow client (it
reads a frame every 10 s through a small socket buffer): the server's CPU, bytes per frame, frames each
client got, frames dropped. ``page``: the page in headless chromium (swiftshader) with the same 5,000
aircraft: frames per second by requestAnimationFrame over the whole region and zoomed in to 9, 11 and 13
(at 13 the aircraft move more than half a pixel every frame, so every frame is drawn), and how many
frames were drawn.

The server runs in its own process (``python -m skyfence.bench_web serve``) so its CPU time is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
SLOW_READ_EVERY = 10.0  # s between two reads of the deliberately slow client


class MovingFleet:
    """``n`` aircraft flying straight over the agreement's region, moved once a second (a Picture for the bench)."""

    def __init__(self, n: int, seed: int, bbox: tuple[float, float, float, float]) -> None:
        rng = np.random.default_rng(seed)
        w, s, e, north = bbox
        self.lon, self.lat = rng.uniform(w, e, n), rng.uniform(s, north, n)
        self.trk, self.gs = rng.uniform(0, 360, n), rng.uniform(250, 520, n)
        self.alt = rng.choice(np.arange(100, 410, 10), n) * 100.0
        self.ids = [f"{0x100000 + i:06x}" for i in range(n)]
        parties = np.array(["coalition", "russia_syria", "unknown"])[rng.integers(0, 3, n)]
        self.meta = [(self.ids[i], f"TST{i:04d}", parties[i]) for i in range(n)]
        self.bbox = bbox
        self.t = time.time()
        self._lock = threading.Lock()

    def move(self) -> None:
        with self._lock:
            now = time.time()
            d = self.gs * 0.514444 * (now - self.t)
            r = np.radians(self.trk)
            self.lat = self.lat + d * np.cos(r) / 111_320
            self.lon = self.lon + d * np.sin(r) / (111_320 * np.cos(np.radians(self.lat)))
            w, s, e, n = self.bbox  # wrap round the region
            self.lon = w + np.mod(self.lon - w, e - w)
            self.lat = s + np.mod(self.lat - s, n - s)
            self.t = now

    def aircraft(self) -> list[dict]:
        with self._lock:
            lat, lon, t = self.lat.tolist(), self.lon.tolist(), self.t
        trk, gs, alt = self.trk.tolist(), self.gs.tolist(), self.alt.tolist()
        return [{"track_id": m[0], "callsign": m[1], "party": m[2], "country": None, "lat": lat[i], "lon": lon[i],
                 "alt_ft": alt[i], "gs_kt": gs[i], "track_deg": trk[i], "vrate_fpm": 0.0, "time": t,
                 "on_ground": False} for i, m in enumerate(self.meta)]

    def tracks(self, since) -> dict:
        return {}

    @property
    def time(self):
        from datetime import datetime, timezone

        return datetime.fromtimestamp(self.t, timezone.utc)


def _serve(n: int, port: int, store: str, seed: int) -> None:
    from skyfence.agreement import load_agreement
    from skyfence.incidents import IncidentStore
    from skyfence.web import WebContext, create_app
    from skyfence.web.server import serve

    ag = load_agreement("euphrates-2017")
    fleet = MovingFleet(n, seed, ag.region.bounds)

    def mover():
        while True:
            time.sleep(1.0)
            fleet.move()

    threading.Thread(target=mover, daemon=True).start()
    serve(create_app(WebContext(store=IncidentStore.open(store), agreement=ag, picture=fleet)), "127.0.0.1", port)


class _Server:
    def __init__(self, n: int, seed: int, workdir: Path) -> None:
        from skyfence.incidents import IncidentStore
        from skyfence.web.users import Users

        self.store = str(workdir / f"web-bench-{os.getpid()}.db")
        st = IncidentStore.open(self.store)
        self.token = Users(st.engine).add("bench", "viewer")
        st.close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "skyfence.bench_web", "serve", "--n", str(n), "--port",
                                      str(self.port), "--store", self.store, "--seed", str(seed)])
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the bench's web server did not start")
            time.sleep(0.2)

    def cpu(self) -> float:
        """CPU seconds (user + system) the server has used."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def health(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/api/health", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        Path(self.store).unlink(missing_ok=True)


def bench_ws(n: int, clients: int, seconds: float, seed: int, workdir: Path) -> dict:
    import websockets

    srv = _Server(n, seed, workdir)
    url = srv.url.replace("http", "ws") + "/ws"
    got = {i: {"frames": 0, "bytes": 0, "full": 0, "sizes": []} for i in range(clients + 1)}
    stop = asyncio.Event()

    async def client(i: int, slow: bool):
        kw = {"max_size": 2**26, "max_queue": 1 if slow else 16}
        if slow:  # a small receive buffer: the server's writes to it block soon
            sock = socket.create_connection(("127.0.0.1", srv.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            kw["sock"] = sock
        async with websockets.connect(url, **kw) as ws:
            await ws.send(json.dumps({"type": "auth", "token": srv.token}))
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 1.0)
                except asyncio.TimeoutError:
                    continue
                if isinstance(text, bytes):  # a picture: deflated JSON
                    g = got[i]
                    g["frames"] += 1
                    g["bytes"] += len(text)
                    if i == 0 or slow:
                        doc = zlib.decompress(text, -15)
                        full = b'"full":true' in doc[:80]
                        g["full"] += full
                        g["sizes"].append((full, len(doc), len(text)))
                if slow:
                    await asyncio.sleep(SLOW_READ_EVERY)

    async def main():
        tasks = [asyncio.create_task(client(i, i == clients)) for i in range(clients + 1)]
        await asyncio.sleep(5.0)  # everyone connected, first full frames sent
        for g in got.values():
            g.update(frames=0, bytes=0, full=0, sizes=[])
        cpu0, h0, t0 = srv.cpu(), srv.health(), time.monotonic()
        load0 = os.getloadavg()
        await asyncio.sleep(seconds)
        cpu1, h1, t1 = srv.cpu(), srv.health(), time.monotonic()
        load1 = os.getloadavg()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return cpu1 - cpu0, t1 - t0, h0, h1, load0, load1

    try:
        cpu, wall, h0, h1, load0, load1 = asyncio.run(main())
    finally:
        srv.stop()
    fast = [got[i] for i in range(clients)]
    sizes = got[0]["sizes"] + [s for s in got[clients]["sizes"] if s[0]]
    delta = [s for s in sizes if not s[0]]
    fulls = [s for s in sizes if s[0]]
    return {
        "bench": "web-ws", "aircraft": n, "clients": clients, "slow_clients": 1, "seconds": round(wall, 1),
        "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "frames_per_fast_client": {"min": min(g["frames"] for g in fast), "max": max(g["frames"] for g in fast)},
        "full_frames_to_client_0": got[0]["full"],
        "bytes_per_delta_frame_json": round(float(np.mean([s[1] for s in delta]))) if delta else None,
        "bytes_per_delta_frame_sent": round(float(np.mean([s[2] for s in delta]))) if delta else None,
        "bytes_per_full_frame_sent": round(float(np.mean([s[2] for s in fulls]))) if fulls else None,
        "slow_client_frames": got[clients]["frames"], "slow_client_full_frames": got[clients]["full"],
        "frames_dropped_by_server": h1["frames_dropped"] - h0["frames_dropped"],
        "frames_sent_by_server": h1["frames_sent"] - h0["frames_sent"],
        "load_average_before_after": [round(load0[0], 2), round(load1[0], 2)],
    }


def bench_page(n: int, seconds: float, seed: int, workdir: Path, viewport: tuple[int, int] = (1280, 800)) -> dict:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        return {"bench": "web-page", "skipped": f"no chromium at {CHROMIUM}"}
    srv = _Server(n, seed, workdir)
    fps_js = ("(s) => new Promise(r => { const st = window.skyfence.stats; const d0 = st.draws, m0 = st.drawMs; let k = 0;"
              " const t0 = performance.now(); const f = () => { k++; const dt = performance.now() - t0;"
              " if (dt < s * 1000) requestAnimationFrame(f); else r([k / (dt / 1000), (st.draws - d0) / (dt / 1000),"
              " (st.drawMs - m0) / Math.max(1, st.draws - d0)]); };"
              " requestAnimationFrame(f); })")
    out = {"bench": "web-page", "aircraft": n, "viewport": f"{viewport[0]}x{viewport[1]}",
           "browser": "chromium (swiftshader, headless)"}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--use-angle=swiftshader",
                                                                  "--enable-unsafe-swiftshader",
                                                                  "--ignore-gpu-blocklist"])
            # bypass_csp: the bench evaluates JavaScript strings, which the page's policy forbids
            page = b.new_page(viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=True)
            page.goto(f"{srv.url}/#token={srv.token}")
            page.wait_for_function(f"window.skyfence && window.skyfence.lastFrame && window.skyfence.lastFrame.n >= {n}",
                                   timeout=120_000)
            page.wait_for_timeout(3000)
            load0 = os.getloadavg()[0]
            fps, draws, ms = {}, {}, {}
            for view, zoom in (("region", None), ("zoom 9", 9), ("zoom 11", 11), ("zoom 13", 13)):
                if zoom is not None:
                    page.evaluate(f"window.skyfence.map.jumpTo({{zoom: {zoom}}})")
                    page.wait_for_timeout(3000)  # the basemap's tiles at that zoom
                fps[view], draws[view], ms[view] = (round(v, 1) for v in page.evaluate(fps_js, seconds))
            out.update(fps=fps, draws_per_second=draws, js_ms_per_draw=ms,
                       aircraft_on_page=page.evaluate("window.skyfence.fleet.list.length"),
                       aircraft_drawn_at_zoom_13=page.evaluate("window.skyfence.shown.idx.length"),
                       load_average_before_after=[round(load0, 2), round(os.getloadavg()[0], 2)])
            b.close()
    finally:
        srv.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skyfence.bench_web")
    parser.add_argument("what", choices=["serve", "ws", "page"])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store", default="")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--viewport", default="1280x800", help="the page's size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    if args.what == "serve":
        _serve(args.n, args.port, args.store, args.seed)
        return
    work = Path(tempfile.mkdtemp(prefix="skyfence-web-bench-"))
    if args.what == "ws":
        print(json.dumps(bench_ws(args.n, args.clients, args.seconds, args.seed, work)))
    else:
        w, h = (int(v) for v in args.viewport.lower().split("x"))
        print(json.dumps(bench_page(args.n, min(args.seconds, 10.0), args.seed, work, (w, h))))


if __name__ == "__main__":
    main()
