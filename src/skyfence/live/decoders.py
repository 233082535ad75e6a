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
from skyfence.tracks.schema import IMPOSSIBLE_TIME, empty_tracks, valid_second

CLOCK = 12e6  # Beast / AVR-MLAT clock, Hz
MAX_LINE = 1 << 16  # bytes: an SBS or raw-frame line is ~100 bytes; a longer "line" is counted, never held
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
    """Text feeds, one record a line; a line longer than ``MAX_LINE`` is counted and skipped, never held."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.lines: list[bytes] = []
        self.arrivals: list[tuple[int, float]] = []  # (lines received so far, arrival) per chunk
        self.skipping = False  # inside an overlong line: drop bytes up to its end

    def pending(self) -> int:
        return len(self.lines)

    def feed(self, data: bytes, arrival: float) -> None:
        data = self.rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self.rest = data
            if len(data) > MAX_LINE:
                self._overlong()
            return
        self.rest = data[cut + 1:]
        new = data[:cut].split(b"\n")
        if self.skipping:
            new, self.skipping = new[1:], False
        if any(len(line) > MAX_LINE for line in new):
            self.bad["overlong line"] += sum(len(line) > MAX_LINE for line in new)
            new = [line for line in new if len(line) <= MAX_LINE]
        self.lines.extend(new)
        self.arrivals.append((len(self.lines), arrival))
        if len(self.rest) > MAX_LINE:
            self._overlong()

    def _overlong(self) -> None:
        if not self.skipping:
            self.bad["overlong line"] += 1
        self.rest, self.skipping = b"", True

    def drop(self) -> None:
        if self.skipping:
            self.rest = b""
        self.skipping = False
        super().drop()

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
        self.builder = StateBuilder(source, hold_last_moment=True)  # a moment's lines may span two chunks

    def finish(self) -> pl.DataFrame:
        states = super().finish()
        return pl.concat([states, self.builder.flush()], how="vertical_relaxed")

    def take(self) -> pl.DataFrame:
        if not self.lines:
            return empty_tracks()
        lines = b"\n".join(self.lines).decode("utf-8", errors="replace").split("\n")
        self.lines, self.arrivals = [], []
        self.records += len(lines)
        return self.builder.feed(sbs.parse_lines(lines, self.bad))


class ReceiverClock:
    """12 MHz receiver ticks to Unix time: anchored to the arrival time of the first message, then
    following the receiver's clock (exact between messages, however fast a replay runs, and across
    connection drops); anchored again when the clock restarts or jumps, or (on a live feed) has drifted
    from arrival by more than ``RESYNC`` seconds while arrivals keep pace with it.

    A tick that breaks with the clock (back in time, or more than ``JUMP`` seconds ahead) is held: the
    next message tells whether the receiver restarted (it follows the held one: both are placed on the
    new anchor) or the tick was damaged (it follows the old clock: the held message is counted in
    ``bad`` as ``BAD_TICK`` and dropped)."""

    JUMP = 600.0  # s
    BACK = 1.0  # s a message may come before the last one (receivers do not always send in clock order)
    BAD_TICK = "implausible receiver timestamp"

    def __init__(self, bad: Counter | None = None) -> None:
        self.anchor: tuple[int, float] | None = None
        self.last_tick = -1
        self.held: tuple[int, float, object] | None = None
        self.bad = bad if bad is not None else Counter()

    def place(self, tick: int, arrival: float, item: object) -> list[tuple[float, object]]:
        """The messages placed in time by this one: ``(time, item)`` for it, and for a held one it confirms."""
        if tick == 0:  # no MLAT clock in this message
            return [(arrival, item)]
        if self.anchor is None:
            self.anchor = (tick, arrival)
        if self._follows(tick, self.last_tick) or self.last_tick < 0:
            if self.held is not None:
                self.bad[self.BAD_TICK] += 1
                self.held = None
            return [(self._time(tick, arrival), item)]
        if self.held is not None and self._follows(tick, self.held[0]):  # the receiver's clock restarted
            held_tick, held_arrival, held_item = self.held
            self.held, self.anchor, self.last_tick = None, (held_tick, held_arrival), held_tick
            return [(self._time(held_tick, held_arrival), held_item), (self._time(tick, arrival), item)]
        if self.held is not None:
            self.bad[self.BAD_TICK] += 1
        self.held = (tick, arrival, item)
        return []

    def time(self, tick: int, arrival: float) -> float:
        """The time of one message, anchoring again at once on a break (nothing held)."""
        if tick == 0:
            return arrival
        if self.anchor is None or not (self.last_tick < 0 or self._follows(tick, self.last_tick)):
            self.anchor = (tick, arrival)
        return self._time(tick, arrival)

    def _follows(self, tick: int, before: int) -> bool:
        return before - self.BACK * CLOCK <= tick <= before + self.JUMP * CLOCK

    def _time(self, tick: int, arrival: float) -> float:
        anchor = self.anchor
        self.last_tick = tick
        t = anchor[1] + (tick - anchor[0]) / CLOCK
        if arrival - t > RESYNC and arrival - anchor[1] > 60 * RESYNC:
            # the feed is live (arrivals have run ahead of the clock): follow the wall clock again
            self.anchor = (tick, arrival)
            return arrival
        return t

    def finish(self) -> None:
        """The stream ended: a message still held was never confirmed."""
        if self.held is not None:
            self.bad[self.BAD_TICK] += 1
            self.held = None

    def reset(self) -> None:
        self.anchor = None
        self.last_tick = -1
        self.held = None


class RawDecoder(LineDecoder):
    """Raw frames: ``*HEX;``, ``@TTTTTTTTTTTTHEX;``, ``TIMESTAMP,HEX`` or JSON lines with ``frame``."""

    def __init__(self, source: str, reference: tuple[float, float] | None) -> None:
        super().__init__(source)
        self.modes = FrameBatches(source, reference, self.bad)
        self.clock = ReceiverClock(self.bad)

    def take(self) -> pl.DataFrame:
        lines, arrivals = self._take_lines()
        frames, times = [], []
        for line, arrival in zip(lines, arrivals):
            line = line.strip()
            if not line:
                continue
            self.records += 1
            for t, frame in self._parse(line, arrival):
                if frame is None:
                    continue  # Mode A/C: no address, nothing to track
                if not valid_second(t):
                    self.bad[IMPOSSIBLE_TIME] += 1
                    continue
                times.append(t)
                frames.append(frame)
        return self.modes.decode(frames, times)

    def _parse(self, line: str, arrival: float) -> list[tuple[float, str | None]]:
        if line[0] in "*@" and line.endswith(";"):
            body = line[1:-1].lower()
            tick = None
            if line[0] == "@":
                tick, body = body[:12], body[12:]
            if len(body) == 4:
                return [(arrival, None)]
            if len(body) not in (14, 28) or any(c not in "0123456789abcdef" for c in body) or (
                    tick is not None and any(c not in "0123456789abcdef" for c in tick)):
                self.bad["malformed frame line"] += 1
                return []
            return [(arrival, body)] if tick is None else self.clock.place(int(tick, 16), arrival, body)
        parsed = parse_frame_line(line)
        if parsed is None:
            self.bad["malformed frame line"] += 1
            return []
        return [parsed]

    def finish(self) -> pl.DataFrame:
        self.clock.finish()
        return super().finish()


class BeastDecoder(Decoder):
    """Beast binary. The receiver clock carries on across a connection drop (the receiver did not stop):
    a feed replayed faster than real time keeps its own time line, and no message is timed twice."""

    def __init__(self, source: str, reference: tuple[float, float] | None) -> None:
        super().__init__(source)
        self.modes = FrameBatches(source, reference, self.bad)
        self.clock = ReceiverClock(self.bad)
        self.frames: list[str] = []
        self.times: list[float] = []
        self.last_arrival = 0.0

    def pending(self) -> int:
        return len(self.frames)

    def feed(self, data: bytes, arrival: float, final: bool = False) -> None:
        self.last_arrival = arrival
        data = self.rest + data
        ticks, frames, used = parse_beast(data, self.bad, final=final)
        self.rest = data[used:]
        self.records += len(frames)
        for tick, frame in zip(ticks, frames):
            for t, f in self.clock.place(tick, arrival, frame):
                self.times.append(t)
                self.frames.append(f)

    def drop(self) -> None:
        self.feed(b"", self.last_arrival, final=True)  # stray bytes held for the next read are stray
        super().drop()

    def take(self) -> pl.DataFrame:
        frames, times = self.frames, self.times
        self.frames, self.times = [], []
        return self.modes.decode(frames, times)

    def finish(self) -> pl.DataFrame:
        self.feed(b"", self.last_arrival, final=True)
        self.clock.finish()
        return super().finish()


class CotDecoder(Decoder):
    def __init__(self, source: str, datagrams: bool = False) -> None:
        super().__init__(source)
        self.events: list[bytes] = []
        self.datagrams = datagrams

    def pending(self) -> int:
        return len(self.events)

    def feed(self, data: bytes, arrival: float) -> None:
        events, self.rest = cot.split_events(self.rest + data, self.bad)
        self.events.extend(events)
        if self.datagrams and self.rest.strip():  # a datagram is whole or it is broken
            self.bad[cot.MALFORMED] += 1
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

