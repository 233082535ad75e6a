"""Small work on the calling thread: numba's parallel kernels wake their worker threads only for work worth it.

A parallel kernel wakes numba's worker threads at every call. On a quiet machine that costs tens of
microseconds; on a busy one (the live monitor receives on one thread and detects on another, on a
two-core machine) each wake-up waits for the scheduler, several milliseconds a call, and a detection run
makes hundreds of small calls (one per crossing, per area, per grid level). Measured on a 50-aircraft
window with the machine busy: 1.1 s a run with the workers, 0.40 s without.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

PARALLEL_FROM = 20_000  # items: below this a kernel runs on the calling thread alone


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
