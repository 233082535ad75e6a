"""What the monitor tests share: the Swiss test line, the replays' tick, a replay at ``--speed 0``, a live run
stopped once its feed is sent, the CLI in a process of its own, a store's incidents in brief."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from skyfence.live.monitor import Monitor
from skyfence.live.replay import ReplayServer
from skyfence.live.sources import open_source

ROOT = Path(__file__).resolve().parents[1]
SWISS = ROOT / "tests" / "data" / "swiss-line.yaml"
TICK = 60.0


def run_monitor(paths, agreement, store=None, tick=TICK, **kw):
    """Replay ``paths`` as fast as possible: (updates, report, monitor)."""
    ups = []
    m = Monitor([open_source(str(p)) for p in paths], agreement, store, tick=tick, speed=0, **kw)
    m.subscribe(ups.extend)
    report = m.run()
    return ups, report, m


def run_until_sent(m: Monitor, server: ReplayServer, after: float):
    """Run ``m`` on a live feed and stop it ``after`` seconds once ``server`` has sent everything (what came
    meanwhile is detected at the end)."""
    def stop_once_sent() -> None:
        server.done.wait(120)
        time.sleep(after)
        m.stop()

    threading.Thread(target=stop_once_sent, daemon=True).start()
    return m.run()


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "skyfence", *args], capture_output=True, text=True, **kw)


def store_incidents(url: str) -> list[tuple]:
    from skyfence.incidents.store import IncidentStore

    with IncidentStore.open(url) as s:
        return sorted((i.id, i.kind, i.severity, i.start_time, i.end_time, i.status) for i in s.incidents())
