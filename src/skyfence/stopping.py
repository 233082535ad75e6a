"""Stopping a long run cleanly on Ctrl-C or SIGTERM: the run's own handler for both, set for its duration."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(on_stop: Callable[[int], None]) -> Iterator[None]:
    """Call ``on_stop(signum)`` on SIGINT or SIGTERM while the block runs, then put the handlers back.

    Set here rather than left to Python's defaults: a job started in the background of a script inherits
    SIGINT ignored, and SIGTERM (systemd, supervisors) would end the process without its last round. Off the
    main thread (where signals cannot be handled) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, lambda signum, _frame: on_stop(signum)) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
