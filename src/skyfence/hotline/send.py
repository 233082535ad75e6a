"""Sending: one worker thread per channel takes due messages from the outbox, in order per incident,
and marks each sent, or failed for a retry with backoff, or dead after too many attempts. A channel
that is down holds up only its own messages.

Marks of sent messages are written by a second thread, a few per transaction, so that sending never
waits for the database's write lock; a message sent but not yet marked when the process is killed
goes again after the restart, under its own id (at least once)."""

from __future__ import annotations

import json
import logging
import queue
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
        self._unmarked: dict[int, float] = {}
        self._marks: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._marker = threading.Thread(target=self._mark_loop, name=f"hotline-mark {channel.name}", daemon=True)

    def start(self) -> "ChannelWorker":
        self._marker.start()
        self._thread.start()
        return self

    def _mark(self, ord_: int, t: float) -> None:
        if self._marker.is_alive():
            with self._lock:
                self._unmarked[ord_] = t
            self._marks.put((ord_, t))
        else:  # sending by hand (tests, the demo): mark at once
            outbox.mark_sent(self.engine, ord_, t)

    def _mark_loop(self) -> None:
        while True:
            item = self._marks.get()
            batch = [item] if item is not None else []
            while True:
                try:
                    nxt = self._marks.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    item = None
                else:
                    batch.append(nxt)
            while batch:
                try:
                    outbox.mark_sent_many(self.engine, batch)
                    break
                except (sa.exc.OperationalError, StoreError) as exc:
                    log.warning("hotline outbox marks: %s", str(exc).splitlines()[0])
                    time.sleep(0.2)
            with self._lock:
                for o, _ in batch:
                    self._unmarked.pop(o, None)
            if item is None:
                return

    def send_due(self) -> int:
        """Send what is due now; returns how many went out. A failure stops this round for that incident."""
        n = 0
        while True:
            with self._lock:
                exclude = set(self._unmarked)
            rows = outbox.due(self.engine, self.channel.name, exclude=exclude)
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
                self._mark(row.ord, t)
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
            # (a message sent whose mark is on its way still looks due: never spin on it)
            wait = self.poll if wake is None else min(self.poll, max(0.01, wake - time.time()))
            self.wake.wait(wait)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._marker.is_alive():
            self._marks.put(None)
            self._marker.join(timeout)
        self.channel.close()
