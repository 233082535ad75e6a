"""`skyfence monitor ... --web :PORT`: the monitor and the page in one process, as a person starts it."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from skyfence.incidents import IncidentStore
from skyfence.web.users import Users
from tests.web_helpers import free_port, make_recording, wait_for


def test_monitor_serves_its_picture_and_incidents(tmp_path):
    rec = make_recording(tmp_path / "small.parquet", minutes=12)
    db = tmp_path / "incidents.db"
    with IncidentStore.open(db) as st:
        token = Users(st.engine).add("vera", "viewer")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "skyfence", "monitor", "--source", str(rec), "--agreement",
                            "euphrates-2017", "--store", str(db), "--speed", "40", "--web", f"127.0.0.1:{port}", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url, h = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}

    def get(path):
        try:
            return httpx.get(url + path, headers=h, timeout=5)
        except httpx.HTTPError:
            return None
    try:
        health = wait_for(lambda: (r := get("/api/health")) is not None and r.json()["aircraft"] == 8 and r.json(),
                          timeout=120, every=0.5)
        assert health and health["mode"] == "live", health
        planes = get("/api/aircraft").json()
        assert {p["callsign"] for p in planes} >= {"RFF1021", "RCH301", "QTR8"}
        assert {p["party"] for p in planes} == {"russia_syria", "coalition", "unknown"}
        # the Russian jets flying east over the Euphrates become crossing incidents, seen on the page's API
        incs = wait_for(lambda: (r := get("/api/incidents?kind=crossing")) is not None and r.json(), timeout=120,
                        every=1.0)
        assert incs and all(i["parties"] == ["russia_syria"] for i in incs), incs
        assert get("/api/incidents").status_code == 200 and httpx.get(url + "/api/incidents").status_code == 401
        # once the recording has ended the page is told so (it looked live for ever: user trial)
        ended = wait_for(lambda: (r := get("/api/health")) is not None and r.json()["feed_ended"] and r.json(),
                         timeout=180, every=1.0)
        assert ended and ended["picture_time"] is not None
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "web page on http://127.0.0.1:" in err and "Traceback" not in err
