"""The console: a live table of open incidents as the hotline has told them (on a terminal), or one
plain line a message (when the output is not a terminal)."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.live import Live
from rich.table import Table

from skyfence.hotline.message import Message
from skyfence.hotline.urls import ChannelURL


class ConsoleChannel:
    def __init__(self, url: ChannelURL, console: Console | None = None) -> None:
        self.name = url.text
        self.console = console or Console(stderr=True)
        self.rows: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def table(self) -> Table:
        t = Table(title="hotline: open incidents", expand=True)
        for col in ("incident", "party", "severity", "status", "time", "message"):
            t.add_column(col, overflow="fold")
        for (incident, party), b in sorted(self.rows.items(), key=lambda kv: kv[1].get("time") or ""):
            t.add_row(incident[:12], party, b["severity"], b["status"], b.get("time") or "", b["message"])
        return t

    def send(self, message: Message) -> None:
        b = message.body
        with self._lock:
            key = (message.incident_id, message.party)
            if b.get("status") == "resolved":
                self.rows.pop(key, None)
            else:
                self.rows[key] = b
            if not self.console.is_terminal:
                self.console.print(f"hotline -> {message.party}: {b['message']}", highlight=False, soft_wrap=True)
                return
            if self._live is None:
                self._live = Live(self.table(), console=self.console, refresh_per_second=4, transient=False)
                self._live.start()
            else:
                self._live.update(self.table())

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
