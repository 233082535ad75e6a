"""Incremental decoders: bytes of a feed in, canonical states out, whatever the chunk boundaries.

Each decoder keeps the unfinished end of the stream for the next chunk, counts
the records it received and the bad ones by reason, and on a connection drop
discards (and counts) the record the drop cut. Times: SBS and CoT carry their
own; Beast and ``@`` raw frames carry a 12 MHz receiver clock, anchored to the
arrival time (see :class:`ReceiverClock`); AVR ``*HEX;`` frames are timed on
arrival.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import polars as pl

from skyfence.sources import cot, sbs
from skyfence.sources.modes import FrameBatches, parse_beast, parse_frame_line
from skyfence.sources.states import StateBuilder
from skyfence.tracks.schema import empty_tracks

CLOCK = 12e6  # Beast / AVR-MLAT clock, Hz
RESYNC = 2.0  # s of drift between the receiver clock and arrival before re-anchoring


class Decoder:
    """Base: record and error counts, and the unfinished bytes of the stream."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.records = 0
        self.bad: Counter = Counter()
        self.rest = b""

    def pending(self) -> int:
        """Records received and not yet decoded."""
        return 0

    def feed(self, data: bytes, arrival: float) -> None:
        raise NotImplementedError

    def take(self) -> pl.DataFrame:
        """The states decoded from everything complete so far."""
        raise NotImplementedError

    def drop(self) -> None:
        """The connection ended: the unfinished record is lost with it (counted)."""
        if self.rest.strip():
            self.bad["record cut by a connection drop"] += 1
        self.rest = b""

    def finish(self) -> pl.DataFrame:
        """The stream ends cleanly: an unfinished last record is counted, the rest decoded."""
        if self.rest.strip():
            self.bad["unfinished record at stop"] += 1
        self.rest = b""
        return self.take()


class LineDecoder(Decoder):
    """Text feeds, one record a line."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.lines: list[bytes] = []
        self.arrivals: list[tuple[int, float]] = []  # (lines received so far, arrival) per chunk

    def pending(self) -> int:
        return len(self.lines)

    def feed(self, data: bytes, arrival: float) -> None:
        data = self.rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self.rest = data
            return
        self.rest = data[cut + 1:]
        new = data[:cut].split(b"\n")
        self.lines.extend(new)
        self.arrivals.append((len(self.lines), arrival))

    def _take_lines(self) -> tuple[list[str], list[float]]:
        lines = [b.decode("utf-8", errors="replace") for b in self.lines]
        times, start = [], 0
        for end, arrival in self.arrivals:
            times.extend([arrival] * (end - start))
            start = end
        self.lines, self.arrivals = [], []
        return lines, times



class SbsDecoder(LineDecoder):
    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.builder = StateBuilder(source)

    def take(self) -> pl.DataFrame:
        if not self.lines:
            return empty_tracks()
        lines = b"\n".join(self.lines).decode("utf-8", errors="replace").split("\n")
        self.lines, self.arrivals = [], []
        self.records += len(lines)
        return self.builder.feed(sbs.parse_lines(lines, self.bad))


class ReceiverClock:
    """12 MHz receiver ticks to Unix time: anchored to the arrival time of the first message, then
    following the receiver's clock (exact between messages, however fast a replay runs); anchored again
    when the clock restarts, jumps, or (on a live feed) has drifted from arrival by more than ``RESYNC``
    seconds while arrivals keep pace with it."""

    def __init__(self) -> None:
        self.anchor: tuple[int, float] | None = None
        self.last_tick = -1

    def time(self, tick: int, arrival: float) -> float:
        if tick == 0:  # no MLAT clock in this message
            return arrival
        anchor = self.anchor
        if anchor is None or tick < self.last_tick or (tick - self.last_tick) / CLOCK > 3600:
            self.anchor = anchor = (tick, arrival)
        self.last_tick = tick
        t = anchor[1] + (tick - anchor[0]) / CLOCK
        if arrival - t > RESYNC and arrival - anchor[1] > 60 * RESYNC:
            # the feed is live (arrivals have run ahead of the clock): follow the wall clock again
            self.anchor = (tick, arrival)
            return arrival
        return t

    def reset(self) -> None:
        self.anchor = None
        self.last_tick = -1


class RawDecoder(LineDecoder):
    """Raw frames: ``*HEX;``, ``@TTTTTTTTTTTTHEX;``, ``TIMESTAMP,HEX`` or JSON lines with ``frame``."""

    def __init__(self, source: str, reference: tuple[float, float] | None) -> None:
        super().__init__(source)
        self.modes = FrameBatches(source, reference, self.bad)
        self.clock = ReceiverClock()

    def take(self) -> pl.DataFrame:
        lines, arrivals = self._take_lines()
        frames, times = [], []
        for line, arrival in zip(lines, arrivals):
            line = line.strip()
            if not line:
                continue
            self.records += 1
            parsed = self._parse(line, arrival)
            if parsed is None:
                self.bad["malformed frame line"] += 1
                continue
            if parsed[1] is None:
                continue  # Mode A/C: no address, nothing to track
            times.append(parsed[0])
            frames.append(parsed[1])
        return self.modes.decode(frames, times)

    def _parse(self, line: str, arrival: float) -> tuple[float, str | None] | None:
        if line[0] in "*@" and line.endswith(";"):
            body = line[1:-1].lower()
            tick = None
            if line[0] == "@":
                tick, body = body[:12], body[12:]
            if len(body) == 4:
                return arrival, None
            if len(body) not in (14, 28) or any(c not in "0123456789abcdef" for c in body):
                return None
            t = arrival if tick is None else self.clock.time(int(tick, 16), arrival)
            return t, body
        return parse_frame_line(line)

    def drop(self) -> None:
        super().drop()
        self.clock.reset()


class BeastDecoder(Decoder):
    def __init__(self, source: str, reference: tuple[float, float] | None) -> None:
        super().__init__(source)
        self.modes = FrameBatches(source, reference, self.bad)
        self.clock = ReceiverClock()
        self.frames: list[str] = []
        self.times: list[float] = []

    def pending(self) -> int:
        return len(self.frames)

    def feed(self, data: bytes, arrival: float) -> None:
        data = self.rest + data
        ticks, frames, used = parse_beast(data, self.bad)
        self.rest = data[used:]
        self.records += len(frames)
        self.frames.extend(frames)
        self.times.extend(self.clock.time(t, arrival) for t in ticks)

    def take(self) -> pl.DataFrame:
        frames, times = self.frames, self.times
        self.frames, self.times = [], []
        return self.modes.decode(frames, times)

    def drop(self) -> None:
        super().drop()
        self.clock.reset()


class CotDecoder(Decoder):
    def __init__(self, source: str, datagrams: bool = False) -> None:
        super().__init__(source)
        self.events: list[bytes] = []
        self.datagrams = datagrams

    def pending(self) -> int:
        return len(self.events)

    def feed(self, data: bytes, arrival: float) -> None:
        events, self.rest = cot.split_events(self.rest + data)
        self.events.extend(events)
        if self.datagrams and self.rest.strip():  # a datagram is whole or it is broken
            self.bad["malformed CoT event"] += 1
            self.rest = b""

    def take(self) -> pl.DataFrame:
        events, self.events = self.events, []
        self.records += len(events)
        return cot.events_frame(events, self.source, self.bad)


def make_decoder(kind: str, source: str, reference: tuple[float, float] | None = None) -> Decoder:
    makers: dict[str, Callable[[], Decoder]] = {
        "sbs": lambda: SbsDecoder(source), "raw": lambda: RawDecoder(source, reference),
        "beast": lambda: BeastDecoder(source, reference), "cot+tcp": lambda: CotDecoder(source),
        "cot+udp": lambda: CotDecoder(source, datagrams=True),
    }
    return makers[kind]()

