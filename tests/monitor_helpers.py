"""What the monitor tests share: the Swiss test line, the replays' tick, a replay at ``--speed 0``."""

from __future__ import annotations

from pathlib import Path

from skyfence.live.monitor import Monitor
from skyfence.live.sources import open_source

ROOT = Path(__file__).resolve().parents[1]
SWISS = ROOT / "tests" / "data" / "swiss-line.yaml"
TICK = 30.0


def run_monitor(paths, agreement, store=None, tick=TICK, **kw):
    """Replay ``paths`` as fast as possible: (updates, report, monitor)."""
    ups = []
    m = Monitor([open_source(str(p)) for p in paths], agreement, store, tick=tick, speed=0, **kw)
    m.subscribe(ups.extend)
    report = m.run()
    return ups, report, m
