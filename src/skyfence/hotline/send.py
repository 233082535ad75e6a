"""Sending: one worker thread per channel takes due messages from the outbox, in order per incident,
and marks each sent, or failed for a retry with backoff, or dead after too many attempts. A channel
that is down holds up only its own messages."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from skyfence.hotline import outbox
from skyfence.hotline.channels import Channel, DeliveryError
from skyfence.hotline.message import Message
from skyfence.hotline.retry import Backoff
from skyfence.incidents.errors import StoreError

log = logging.getLogger("skyfence.hotline")


class ChannelWorker:
    def __init__(self, engine: sa.Engine, channel: Channel, backoff: Backoff, poll: float = 0.5,
                 on_sent: Callable[[sa.Row, float], None] | None = None) -> None:
        self.engine, self.channel, self.backoff, self.poll = engine, channel, backoff, poll
        self.on_sent = on_sent
        self.wake = threading.Event()
        self.idle = threading.Event()
        self._stop = threading.Event()
        self.sent = self.failed = self.dead = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"hotline-send {channel.name}", daemon=True)

    def start(self) -> "ChannelWorker":
        self._thread.start()
        return self

    def send_due(self) -> int:
        """Send what is due now; returns how many went out. A failure stops this round for that incident."""
        n = 0
        while True:
            rows = outbox.due(self.engine, self.channel.name)
            if not rows:
                return n
            progress = False
            for row in rows:
                if self._stop.is_set():
                    return n
                msg = Message(row.id, row.channel, row.incident_id, row.party, json.loads(row.body))
                try:
                    self.channel.send(msg)
                except DeliveryError as exc:
                    self.failed += 1
                    self.last_error = str(exc)
                    if outbox.mark_failed(self.engine, row, str(exc), self.backoff) == outbox.DEAD:
                        self.dead += 1
                        progress = True  # the next message of the incident may go now
                    continue
                t = time.time()
                outbox.mark_sent(self.engine, row.ord, t)
                self.sent += 1
                n += 1
                progress = True
                if self.on_sent is not None:
                    self.on_sent(row, t)
            if not progress:
                return n

    def _run(self) -> None:
        while not self._stop.is_set():
            self.idle.clear()
            self.wake.clear()  # before looking: a wake-up that comes while sending is not lost
            try:
                self.send_due()
                wake = outbox.next_wake(self.engine, self.channel.name)
            except (sa.exc.OperationalError, StoreError) as exc:  # the database busy or away for a moment: try again
                log.warning("hotline outbox: %s", str(exc).splitlines()[0])
                wake = None
            self.idle.set()
            wait = self.poll if wake is None else min(self.poll, max(0.0, wake - time.time()))
            self.wake.wait(wait)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.channel.close()
