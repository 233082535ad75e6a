"""Small work on the calling thread: numba's parallel kernels wake their worker threads only for work worth it.

A parallel kernel wakes numba's worker threads at every call. On a quiet machine that costs tens of
microseconds, and two threads pay even for a few thousand items. On a busy one each wake-up waits for the
scheduler, milliseconds a call, and a detection run makes hundreds of calls of a handful of items (one per
crossing, per area, per grid level): a 50-aircraft window took 1.1 s a run there instead of 0.3 s. Below
:data:`PARALLEL_FROM` items a kernel runs on the calling thread. (Running the live monitor's detection on one
thread throughout, leaving the other core to the feed, made 50 aircraft at 1 Hz slower: 0.59 s a run at p99
against 0.48 s; a light feed leaves that core idle.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

PARALLEL_FROM = 1_000  # items: below this a kernel runs on the calling thread alone


@contextmanager
def serial_below(items: int, threshold: int | None = None) -> Iterator[None]:
    """Within the block, numba's parallel kernels run on this thread alone when ``items`` is under
    ``threshold`` (default :data:`PARALLEL_FROM`); numba's thread count is per calling thread, so other
    threads are not affected."""
    if items >= (PARALLEL_FROM if threshold is None else threshold):
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)
