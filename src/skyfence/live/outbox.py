"""Updates on their way to the store: kept in memory, in order, while the store is unavailable.

:meth:`Outbox.flush` hands everything waiting to ``store.apply`` in one call; if the store raises its
unavailability error (the database restarting, the network gone), nothing is lost: the updates stay,
later ones join them, and the next flush tries again (no more often than ``retry`` seconds). The store's
``apply`` is idempotent, so an update written twice (a flush that failed after committing) is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "try again later": the store's own, and the database driver's."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from skyfence.incidents.errors import StoreUnavailable

    return (StoreUnavailable, OperationalError, DBAPIError)


class Outbox:
    def __init__(self, store, retry: float = 2.0, log: Callable[[str], None] = lambda _: None) -> None:
        self.store = store
        self.retry = retry
        self.log = log
        self.waiting: list = []
        self.written = 0
        self.failures = 0
        self.changes = 0
        self._next_try = 0.0
        self._errors = unavailable_errors()
        self.down_since: float | None = None

    def add(self, updates) -> None:
        self.waiting.extend(updates)

    def flush(self, now: datetime | None = None, force: bool = False) -> bool:
        """Write what waits; True when nothing is left waiting."""
        if not self.waiting or self.store is None:
            return not self.waiting or self.store is None
        mono = time.monotonic()
        if not force and mono < self._next_try:
            return False
        batch = list(self.waiting)
        try:
            changes = self.store.apply(batch, now or datetime.now(timezone.utc))
        except self._errors as exc:
            self.failures += 1
            self._next_try = mono + self.retry
            if self.down_since is None:
                self.down_since = mono
                self.log(f"store unavailable ({' '.join(str(exc).split())[:160]}); keeping {len(batch)} update(s) "
                         "in memory and retrying")
            return False
        try:
            changes = list(changes or []) + list(self.store.tick(now or datetime.now(timezone.utc)) or [])
        except self._errors:
            pass  # the quiet periods are looked at again next time
        del self.waiting[:len(batch)]
        self.written += len(batch)
        self.changes += len(changes or [])
        if self.down_since is not None:
            self.log(f"store back after {mono - self.down_since:.0f} s; {len(batch)} update(s) written")
            self.down_since = None
        return not self.waiting


class OutboxWriter:
    """An :class:`Outbox` flushed on a thread of its own, so that a live monitor's detection never waits for the
    store: a SQLite file locked by another process (its busy timeout is 30 s), a PostgreSQL lock or a slow disk
    hold up the writes alone. ``put`` hands updates over at once; the thread writes them in order, and retries
    while the store is unavailable."""

    def __init__(self, outbox: Outbox) -> None:
        import threading

        self.outbox = outbox
        self._cv = threading.Condition()
        self._now: datetime | None = None
        self._closing: float | bool = False  # once closing: the wall time (monotonic) to give up at
        self._thread = threading.Thread(target=self._run, name="skyfence-store-writer", daemon=True)
        self._thread.start()

    def put(self, updates, now: datetime) -> None:
        """Updates to write, and the data time they were made at (the store resolves quiet incidents by it)."""
        with self._cv:
            self.outbox.add(updates)
            self._now = now if self._now is None else max(self._now, now)
            self._cv.notify()

    def close(self, timeout: float) -> None:
        """Stop once what waits is written, or after trying for ``timeout`` s (what is left stays in
        ``outbox.waiting``)."""
        with self._cv:
            self._closing = time.monotonic() + timeout
            self._cv.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cv:
                if not self._closing:
                    self._cv.wait(self.outbox.retry if self.outbox.waiting else None)
                closing, now = self._closing, self._now
            done = self.outbox.flush(now, force=bool(closing))
            if closing and (done or time.monotonic() >= closing):
                return
            if closing:
                time.sleep(0.5)
