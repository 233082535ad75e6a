"""Detection beside the feed: a thread that runs the monitor's detection on the latest data time asked of it.

With live sources the monitor's loop receives, records and ticks the air picture every tick whatever
detection costs; detection runs here, one run at a time. Asking while a run is under way replaces the
waiting request, so the next run takes everything that came meanwhile and detection is never more than
one run behind the feed. A run that fails stops the thread; the monitor raises its error at its next tick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class DetectionThread:
    """``detect(data_time)`` run on its own thread, on the latest time asked for."""

    def __init__(self, detect: Callable[[float], None]) -> None:
        self._detect = detect
        self._wanted: float | None = None
        self._wanted_since: float | None = None  # wall time of the first ask the waiting request stands for
        self._running_since: float | None = None  # the same, for the run under way
        self._closing = False
        self._cv = threading.Condition()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="skyfence-detection", daemon=True)
        self._thread.start()

    def ask(self, data_time: float) -> None:
        """Detect up to ``data_time`` as soon as the run under way (if any) ends."""
        with self._cv:
            self._wanted = data_time
            if self._wanted_since is None:
                self._wanted_since = time.monotonic()
            self._cv.notify()

    def behind(self) -> float:
        """Wall seconds since the oldest ask that no finished run has covered (0 when detection is up to date)."""
        with self._cv:
            since = [t for t in (self._running_since, self._wanted_since) if t is not None]
        return time.monotonic() - min(since) if since else 0.0

    def close(self, drop_pending: bool = False, timeout: float | None = None) -> None:
        """Finish the run under way and (unless ``drop_pending``) the one asked for, then stop."""
        with self._cv:
            if drop_pending:
                self._wanted = self._wanted_since = None
            self._closing = True
            self._cv.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._wanted is None and not self._closing:
                    self._cv.wait()
                if self._wanted is None:
                    return
                now, self._wanted = self._wanted, None
                self._running_since, self._wanted_since = self._wanted_since, None
            try:
                self._detect(now)
            except BaseException as e:  # noqa: BLE001 - handed to the monitor's loop, which raises it
                self.error = e
                return
            finally:
                with self._cv:
                    self._running_since = None
