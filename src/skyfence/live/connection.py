"""A feed connection that survives drops: connect, read, and after a drop reconnect with backoff.

:func:`stream` yields byte chunks, and ``DROPPED`` whenever the connection ends
so that a decoder can discard the partial record it was holding (a record cut
by a drop is never glued to the first bytes of the next connection). The wait
before reconnecting doubles from ``backoff_min`` to ``backoff_max`` and starts
again once a connection has delivered data. UDP listens instead of connecting.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from skyfence.live.feeds import FeedSpec

DROPPED = b""  # the marker: the connection ended here


@dataclass
class LinkStats:
    connects: int = 0
    drops: int = 0
    failed_connects: int = 0
    bytes: int = 0


def stream(spec: FeedSpec, deadline: float | None, stats: LinkStats, stop: Callable[[], bool] = lambda: False,
           backoff_min: float = 0.5, backoff_max: float = 30.0, chunk: int = 1 << 20,
           log: Callable[[str], None] = lambda _: None) -> Iterator[bytes]:
    """Chunks of the feed until ``deadline`` (monotonic seconds) or ``stop()``; ``DROPPED`` after each drop."""
    wait = backoff_min

    def remaining() -> float:
        return float("inf") if deadline is None else deadline - time.monotonic()

    while remaining() > 0 and not stop():
        try:
            sock = _open(spec, min(5.0, remaining()))
        except OSError as exc:
            stats.failed_connects += 1
            pause = min(wait, remaining())
            log(f"cannot connect to {spec} ({exc.strerror or exc}); retrying in {pause:.1f} s")
            _sleep(pause, stop)
            wait = min(wait * 2, backoff_max)
            continue
        stats.connects += 1
        if stats.connects > 1:
            log(f"reconnected to {spec}")
        got_data = False
        try:
            sock.settimeout(0.2)
            while remaining() > 0 and not stop():
                try:
                    data = sock.recv(chunk)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError as exc:
                    log(f"{spec}: connection lost ({exc.strerror or exc})")
                    break
                if not data:
                    if spec.udp:
                        continue
                    log(f"{spec}: connection closed by the feed")
                    break
                got_data = True
                stats.bytes += len(data)
                yield data
            else:
                return  # deadline or stop: a clean end, not a drop
        finally:
            sock.close()
        stats.drops += 1
        yield DROPPED
        if got_data:
            wait = backoff_min
        pause = min(wait, max(remaining(), 0.0))
        _sleep(pause, stop)
        wait = min(wait * 2, backoff_max)


def _open(spec: FeedSpec, timeout: float) -> socket.socket:
    if spec.udp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((spec.host, spec.port))
        return sock
    sock = socket.create_connection((spec.host, spec.port), timeout=max(timeout, 0.1))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    return sock


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while not stop() and time.monotonic() < end:
        time.sleep(min(0.1, max(end - time.monotonic(), 0.0)))
