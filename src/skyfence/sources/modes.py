"""Raw Mode S / ADS-B frames and the Beast binary stream, decoded with rs1090.

rs1090 (MIT) decodes the frames; positions come from even/odd CPR pairs of the
same aircraft (global decoding) or, given a reference position (the
receiver's), from single frames (local decoding: needed for surface
positions). Frames need timestamps: JSON lines with ``timestamp`` and
``frame``, text lines ``TIMESTAMP,HEX`` or ``TIMESTAMP HEX``, or Beast's own
12 MHz counter from a start time.

Beast: ``0x1a`` then a type byte (``1`` Mode A/C, 2 bytes; ``2`` Mode S
short, 7 bytes; ``3`` Mode S long, 14 bytes), a 6-byte timestamp, a signal
byte and the frame, with every ``0x1a`` in the payload doubled.
"""

from __future__ import annotations

from datetime import datetime, timezone

import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import rs1090

from skyfence.errors import InputError
from skyfence.sources.states import MESSAGE_SCHEMA, StateBuilder
from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import read_bytes, text_lines
from skyfence.tracks.schema import IMPOSSIBLE_TIME, empty_tracks, valid_second

BEAST_LENGTHS = {0x31: 2, 0x32: 7, 0x33: 14}
CPR_WINDOW = 10.0  # s: an even and an odd position frame further apart do not pair
CLOCK_TOLERANCE = 10.0  # s: a Beast message this far from its neighbours' clock has a damaged timestamp
MALFORMED = "malformed frame line"
MAX_STRAY = 1 << 16  # bytes of a stray run held at the end of a live read, waiting to see where it ends


def decode_frames(frames: list[str], times: list[float], reference: tuple[float, float] | None = None,
                  bad: Counter | None = None) -> pl.DataFrame:
    """Hex frames and their times to the message table (aviation units)."""
    if not frames:
        return pl.DataFrame(schema=MESSAGE_SCHEMA)
    try:
        decoded = rs1090.decode(frames, times, reference=reference)
    except BaseException as exc:  # noqa: BLE001 - rs1090 panics are BaseException; keep the rest of the batch
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        decoded = []
        for f, t in zip(frames, times):
            try:
                decoded.extend(rs1090.decode([f], [t], reference=reference))
            except BaseException as one:  # noqa: BLE001
                if isinstance(one, (KeyboardInterrupt, SystemExit)):
                    raise
                if bad is not None:
                    bad["undecodable frame"] += 1
    cols: dict[str, list] = {c: [] for c in MESSAGE_SCHEMA}
    for m in decoded:
        icao = m.get("icao24")
        if not icao or "timestamp" not in m:
            if bad is not None:
                bad["frame without address"] += 1
            continue
        bds = m.get("bds")
        callsign = m.get("callsign") or (m.get("bds20") or {}).get("callsign")
        cols["time"].append(m["timestamp"])
        cols["icao24"].append(icao)
        cols["callsign"].append(callsign)
        cols["lat"].append(m.get("latitude"))
        cols["lon"].append(m.get("longitude"))
        alt = m.get("altitude")
        cols["altitude"].append(alt if isinstance(alt, (int, float)) else None)
        cols["groundspeed"].append(m.get("groundspeed"))
        cols["track"].append(m.get("track"))
        cols["vertical_rate"].append(m.get("vertical_rate"))
        cols["on_ground"].append(True if bds == "06" else (False if bds == "05" else None))
    return pl.DataFrame(cols, schema=MESSAGE_SCHEMA)


class FrameBatches:
    """Frames to states a batch at a time, as a file is read in chunks or a feed arrives: the position frames
    of the last ``CPR_WINDOW`` seconds are decoded again with each batch so that even/odd CPR pairs across
    batches still resolve, and only the new frames' messages are kept. Fields each aircraft sent earlier
    carry over through one :class:`StateBuilder`."""

    def __init__(self, source: str, reference: tuple[float, float] | None, bad: Counter) -> None:
        self.builder = StateBuilder(source)
        self.reference = reference
        self.bad = bad
        self.history: list[tuple[float, str]] = []

    def decode(self, frames: list[str], times: list[float]) -> pl.DataFrame:
        if not frames:
            return empty_tracks()
        order = sorted(range(len(frames)), key=times.__getitem__)
        frames = [frames[i] for i in order]
        times = [times[i] for i in order]
        # only frames strictly before this batch help it: one at or after its start (a clock that went back)
        # would otherwise be decoded, and emitted, a second time
        self.history = [h for h in self.history if times[0] - CPR_WINDOW <= h[0] < times[0]]
        msgs = decode_frames([f for _, f in self.history] + frames, [t for t, _ in self.history] + times,
                             self.reference, self.bad)
        if self.history:
            msgs = msgs.filter(pl.col("time") >= times[0])
        self.history.extend((t, f) for t, f in zip(times, frames) if is_position(f))
        return self.builder.feed(msgs)


def is_position(frame: str) -> bool:
    """An ADS-B (DF17/18) airborne or surface position frame: the ones CPR pairs are made of."""
    if len(frame) != 28:
        return False
    df = int(frame[:2], 16) >> 3
    if df not in (17, 18):
        return False
    tc = int(frame[8:10], 16) >> 3
    return 5 <= tc <= 18 or 20 <= tc <= 22


def read_frames(path: str | Path, reference: tuple[float, float] | None = None,
                chunk: int = 200_000) -> tuple[pl.DataFrame, ReadReport]:
    """A file of timestamped raw frames (JSON lines, or ``TIMESTAMP,HEX`` text) as canonical states."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    frames, times = [], []
    for line in text_lines(path, report.dropped):
        line = line.strip()
        if not line:
            continue
        report.rows_read += 1
        parsed = parse_frame_line(line)
        if parsed is None:
            report.dropped[MALFORMED] += 1
            continue
        if not valid_second(parsed[0]):
            report.dropped[IMPOSSIBLE_TIME] += 1
            continue
        times.append(parsed[0])
        frames.append(parsed[1])
    order = np.argsort(np.asarray(times), kind="stable")
    frames = [frames[i] for i in order]
    times = [times[i] for i in order]
    batches = FrameBatches(path.name, reference, report.dropped)
    parts = [batches.decode(frames[a:a + chunk], times[a:a + chunk]) for a in range(0, len(frames), chunk)]
    return (pl.concat(parts) if parts else empty_tracks()), report


def parse_frame_line(line: str) -> tuple[float, str] | None:
    """``(time, hex frame)`` of a JSON line (``timestamp`` and ``frame``, ``rawMsg`` or ``msg``) or of a
    ``TIMESTAMP,HEX`` / ``TIMESTAMP HEX`` line; None if it is not one (any field of the wrong type included)."""
    try:
        if line.startswith("{"):
            obj = json.loads(line)
            if not isinstance(obj, dict):
                return None
            frame, ts = obj.get("frame") or obj.get("rawMsg") or obj.get("msg"), obj.get("timestamp")
            if not isinstance(frame, str) or isinstance(ts, bool) or not isinstance(ts, (int, float, str)):
                return None
            return float(ts), _hex(frame)
        sep = "," if "," in line else None
        ts, frame = line.split(sep, 1)
        return float(ts), _hex(frame)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None


def _hex(frame: str) -> str:
    frame = frame.strip().strip("*;").lower()
    if len(frame) not in (14, 28) or any(c not in "0123456789abcdef" for c in frame):
        raise ValueError("not a Mode S frame")
    return frame


STRAY_BEAST = "stray bytes between Beast messages"


def parse_beast(data: bytes, bad: Counter | None = None, final: bool = True) -> tuple[list[int], list[str], int]:
    """Beast messages in ``data``: (12 MHz timestamps, hex frames of Mode S messages, bytes consumed).

    A message cut at the end of ``data`` is left for the next call (the count of bytes consumed stops
    before it); bytes that are not a message are skipped and counted, one bad record a run. Unless
    ``final``, a run of stray bytes at the end (shorter than ``MAX_STRAY``) is left for the next call too,
    so that a run split between two reads counts once.
    """
    ticks, frames = [], []
    i, n = 0, len(data)
    while i < n:
        if data[i] != 0x1A:
            j = data.find(b"\x1a", i)
            if j < 0 and not final and n - i < MAX_STRAY:
                return ticks, frames, i
            if bad is not None:
                bad[STRAY_BEAST] += 1
            if j < 0:
                return ticks, frames, n
            i = j
            continue
        if i + 1 >= n:
            break
        kind = data[i + 1]
        if kind == 0x1A:  # an escaped 0x1a outside a message: skip it
            i += 2
            continue
        size = BEAST_LENGTHS.get(kind)
        if size is None:
            if bad is not None:
                bad["unknown Beast message type"] += 1
            i += 2
            continue
        body, j = bytearray(), i + 2
        want = 6 + 1 + size
        while len(body) < want and j < n:
            b = data[j]
            if b == 0x1A:
                if j + 1 >= n:
                    break
                if data[j + 1] != 0x1A:  # a new message began: this one is broken
                    break
                j += 1
            body.append(b)
            j += 1
        if len(body) < want:
            if j >= n or (j + 1 >= n and data[j] == 0x1A):
                break  # cut at the end: wait for more bytes
            if bad is not None:
                bad["broken Beast message"] += 1
            i = j
            continue
        if size > 2:
            ticks.append(int.from_bytes(body[:6], "big"))
            frames.append(body[7:].hex())
        i = j
    return ticks, frames, i


def read_beast(path: str | Path, start: float | None = None,
               reference: tuple[float, float] | None = None) -> tuple[pl.DataFrame, ReadReport]:
    """A Beast capture as canonical states; its 12 MHz clock counts from ``start`` (Unix seconds; by
    default the file's modification time less the span of the capture). A message whose clock stands
    apart from its neighbours' (a damaged timestamp) is counted and left out, so it cannot shift the rest."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    data = read_bytes(path, report.dropped)
    ticks, frames, used = parse_beast(data, report.dropped)
    if data[used:].strip(b"\x1a"):
        report.dropped["unfinished Beast message at the end"] += 1
    report.rows_read = len(frames)
    if not frames:
        raise InputError(f"{path}: no Beast messages found")
    t = np.asarray(ticks, dtype=np.float64) / 12e6
    odd = clock_outliers(t)
    if odd.any():
        report.dropped["implausible Beast timestamp"] += int(odd.sum())
        t, frames = t[~odd], [f for f, o in zip(frames, odd) if not o]
    t -= t.min()
    if start is None:  # a Beast clock counts from the receiver's start, not from a date: the file's time stands in
        start = path.stat().st_mtime - float(t.max())
        report.corrected[f"Beast times counted to end at the file's modification time "
                         f"({datetime.fromtimestamp(start + float(t.max()), timezone.utc):%Y-%m-%d %H:%M:%S} UTC; "
                         f"--beast-start sets the first message's)"] += len(frames)
    return FrameBatches(path.name, reference, report.dropped).decode(frames, list(start + t)), report


def clock_outliers(t: np.ndarray, tolerance: float = CLOCK_TOLERANCE) -> np.ndarray:
    """Messages (in arrival order) whose receiver time is more than ``tolerance`` s from the median of the
    five around it: a damaged timestamp, not a gap in reception (a step in time moves the median too)."""
    if len(t) < 3:
        return np.zeros(len(t), dtype=bool)
    k = min(2, len(t) - 1)
    padded = np.pad(t, k, mode="reflect")
    median = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1), axis=1)
    return np.abs(t - median) > tolerance
