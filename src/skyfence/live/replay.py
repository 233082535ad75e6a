"""Serving a recording as a live feed: for tests, benchmarks and trying the live tools without a receiver.

:class:`ReplayServer` listens on a TCP port and sends records (SBS lines,
raw-frame lines, Beast messages or CoT events) to each client in turn, as fast
as possible, at a given rate, or paced by the recording's own times
(:func:`record_times`) at a chosen speed (1: as recorded). It can cut the connection in the middle of a
record (``cuts``), as a real feed dropping does; the next connection resumes
with the record that was cut, so that a client that loses nothing it was sent
whole ends up with every record exactly once.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np
import polars as pl

from skyfence.sources import cot, sbs
from skyfence.sources.modes import parse_beast

BATCH = 2000  # records per send


def beast_message(tick: int, frame: str, signal: int = 0x80) -> bytes:
    """One Beast message (Mode S short or long), with 0x1a escaped."""
    body = tick.to_bytes(6, "big") + bytes([signal]) + bytes.fromhex(frame)
    kind = b"\x32" if len(frame) == 14 else b"\x33"
    return b"\x1a" + kind + body.replace(b"\x1a", b"\x1a\x1a")


def records_from_states(states: pl.DataFrame, kind: str) -> list[bytes]:
    """States as the records of an SBS or CoT feed."""
    if kind == "sbs":
        return [(line + "\n").encode() for line in sbs.to_sbs_lines(states)]
    if kind in ("cot+tcp", "cot+udp", "cot"):
        return cot.to_events(states)
    raise ValueError(f"states cannot be replayed as {kind}")


def records_from_beast(data: bytes) -> list[bytes]:
    """A Beast capture split into its Mode S messages (re-encoded, so each record is one message)."""
    ticks, frames, _ = parse_beast(data)
    return [beast_message(t, f) for t, f in zip(ticks, frames)]


class ReplayServer:
    """A TCP server replaying ``records``; ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(self, records: Sequence[bytes], host: str = "127.0.0.1", port: int = 0,
                 cuts: Sequence[int] = (), rate: float | None = None, repeat: int = 1,
                 times: Sequence[float] | None = None, speed: float | None = None) -> None:
        self.records = list(records)
        self.cuts = sorted(set(cuts))
        self.rate = rate
        # pacing by the recording's own clock: record k is due (times[k] - times[0]) / speed after the start
        self.due = None
        if times is not None and speed:
            t = np.asarray(times, dtype=float)
            t = np.where(np.isfinite(t), t, np.nan)
            t = np.fmax.accumulate(np.where(np.isnan(t), -np.inf, t))  # never backwards; unknown: with the last
            t = np.where(np.isfinite(t), t, t[np.isfinite(t)][0] if np.isfinite(t).any() else 0.0)
            self.due = (t - t[0]) / speed
        self.repeat = repeat
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(4)
        self.host, self.port = self.sock.getsockname()[:2]
        self.position = 0  # next record to send
        self.connections = 0
        self.done = threading.Event()
        self._thread = threading.Thread(target=self.serve, daemon=True)

    def start(self) -> "ReplayServer":
        self._thread.start()
        return self

    def serve(self) -> None:
        total = len(self.records) * self.repeat
        # wake now and then while waiting for a client: a Ctrl-C that the kernel hands to another of the
        # process's threads (polars keeps a pool) is only acted on once the main thread runs again
        self.sock.settimeout(0.5)
        try:
            while self.position < total:
                try:
                    conn, _ = self.sock.accept()
                except TimeoutError:
                    continue
                conn.settimeout(None)
                self.connections += 1
                with conn:
                    self._send(conn, total)
            self.done.set()
        except OSError:
            pass

    def _send(self, conn: socket.socket, total: int) -> None:
        start = time.monotonic()
        sent_at_start = self.position
        while self.position < total:
            cut = next((c for c in self.cuts if c >= self.position), None)
            end = min(self.position + BATCH, total)
            if cut is not None and cut < end:
                end = cut
            n = len(self.records)
            if self.due is not None:
                end = self._due_by(start, sent_at_start, end)
                if end == self.position:
                    continue
            chunk = b"".join(self.records[i % n] for i in range(self.position, end))
            try:
                conn.sendall(chunk)
            except OSError:
                return
            self.position = end
            if cut is not None and self.position == cut:
                self.cuts.remove(cut)
                record = self.records[cut % n]
                try:
                    conn.sendall(record[: max(1, len(record) // 2)])  # half a record, then the line goes dead
                except OSError:
                    pass
                return
            if self.rate:
                ahead = (self.position - sent_at_start) / self.rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        try:
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1)  # wait for the client to close
        except OSError:
            pass

    def _due_by(self, start: float, sent_at_start: int, end: int) -> int:
        """The end of the records due by now on the recording's clock (the first record of this connection
        at its start), at most ``end``; after a short wait when none is due yet."""
        n = len(self.records)
        span = self.due[-1] + (self.due[-1] - self.due[-2] if n > 1 else 1.0)  # one pass, for --repeat

        def due(i: int) -> float:
            return (i // n) * span + self.due[i % n]

        base = due(sent_at_start)
        wait = due(self.position) - base - (time.monotonic() - start)
        if wait > 0:
            time.sleep(min(wait, 0.5))
            return self.position
        now = time.monotonic() - start
        last = self.position
        while last < end and due(last) - base <= now:
            last += 1
        return last

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def record_times(records: Sequence[bytes], kind: str) -> list[float]:
    """Each record's time in seconds (its own clock: SBS generated time, CoT ``time``, the frame line's
    timestamp, a Beast message's 12 MHz receiver clock); NaN where a record carries none."""
    out = []
    for rec in records:
        try:
            if kind == "sbs":
                f = rec.decode(errors="replace").split(",")
                stamp = datetime.strptime(f"{f[6].strip()} {f[7].strip()}", "%Y/%m/%d %H:%M:%S.%f")
                out.append(stamp.replace(tzinfo=timezone.utc).timestamp())
            elif kind == "raw":
                text = rec.decode(errors="replace").strip()
                out.append(float(json.loads(text)["timestamp"]) if text.startswith("{")
                           else float(text.split(",", 1)[0]))
            elif kind == "beast":
                ticks, _, _ = parse_beast(rec)
                out.append(ticks[0] / 12e6 if len(ticks) else np.nan)
            else:
                m = re.search(rb'\btime="([^"]+)"', rec)
                stamp = m.group(1).decode().replace("Z", "+00:00")
                out.append(datetime.fromisoformat(stamp).timestamp())
        except (ValueError, IndexError, KeyError, AttributeError, TypeError):
            out.append(np.nan)
    return out
