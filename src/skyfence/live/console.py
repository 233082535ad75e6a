"""The monitor on a terminal: a live table of the open incidents and a progress line.

On a terminal the table is redrawn at most ``refresh`` times a second; elsewhere (a log, a pipe) each
update is one line, so nothing is lost from a log. The table shows the incidents whose events are
still going on, highest severity first.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from skyfence.incidents.severity import rank

STYLE = {"info": "dim", "caution": "yellow", "warning": "bold yellow", "crossing": "red", "deep_crossing": "bold red",
         "loss": "bold red", "nmac": "bold white on red"}
ROWS = 15


class MonitorConsole:
    def __init__(self, console: Console, live: bool | None = None, refresh: float = 4.0) -> None:
        self.console = console
        self.live_mode = console.is_terminal if live is None else live
        self.refresh = refresh
        self.open: dict[str, object] = {}  # incident id -> its last update, while the event goes on
        self.status = ""
        self._live: Live | None = None
        self._drawn = 0.0
        self._lock = threading.RLock()  # updates come from the detection thread, the status line from the loop

    def __enter__(self) -> "MonitorConsole":
        if self.live_mode:
            self._live = Live(self._render(), console=self.console, auto_refresh=False, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
            self._live.__exit__(*exc)

    def updates(self, updates: list) -> None:
        with self._lock:
            self._updates(updates)

    def _updates(self, updates: list) -> None:
        for u in updates:
            if u.ended:
                self.open.pop(u.incident_id, None)
            else:
                self.open[u.incident_id] = u
            if not self.live_mode:
                self.console.print(f"{u.time:%Y-%m-%d %H:%M:%S}Z {u.incident_id} {u.event:<16} {u.severity:<13} "
                                   f"{u.summary}", highlight=False, soft_wrap=True)
        self._draw()

    def progress(self, text: str) -> None:
        with self._lock:
            self.status = text
            self._draw()

    def _draw(self, force: bool = False) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if force or now - self._drawn >= 1.0 / self.refresh:
            self._live.update(self._render(), refresh=True)
            self._drawn = now

    def _render(self):
        t = Table(title=f"Open incidents ({len(self.open)})", title_justify="left", expand=False)
        for col in ("since (UTC)", "incident", "severity", "aircraft", "what"):
            t.add_column(col, overflow="fold")
        shown = sorted(self.open.values(), key=lambda u: (-rank(u.severity), u.start_time))[:ROWS]
        for u in shown:
            ac = " / ".join(a.callsign or a.track_id for a in u.aircraft)
            t.add_row(f"{u.start_time:%m-%d %H:%M:%S}", u.incident_id, Text(u.severity, style=STYLE.get(u.severity, "")),
                      ac, u.summary)
        if len(self.open) > ROWS:
            t.caption = f"... and {len(self.open) - ROWS} more"
        return Group(t, Text(self.status, style="dim"))


def status_line(now: datetime | None, report, picture_size: int, waiting: int, behind: float = 0.0) -> str:
    """The progress line; ``behind``: wall seconds since the oldest data not yet detected came (said from 5 s)."""
    bad = sum(report.bad.values())
    when = f"{now:%Y-%m-%d %H:%M:%S}Z" if now else "waiting for data"
    store = f"; store: {waiting} waiting" if waiting else ""
    late = f"; detection {behind:,.0f} s behind" if behind >= 5.0 else ""
    return (f"{when}  {picture_size:,} aircraft  {report.states:,} states  {bad:,} bad  "
            f"{report.updates:,} updates  {len(report.incidents):,} events{store}{late}")


def run_watched(monitor, quiet: bool, out: Console):
    """Run ``monitor`` to its end; unless ``quiet``, with the live table of updates and a status line on ``out``."""
    if quiet:
        return monitor.run()
    with MonitorConsole(out) as console:
        monitor.subscribe(console.updates)
        monitor.picture.subscribe(lambda now: console.progress(status_line(
            now, monitor.report, len(monitor.picture), len(monitor.outbox.waiting) if monitor.outbox else 0,
            monitor.report.behind[-1] if monitor.report.behind else 0.0)))
        return monitor.run()
