"""Compact picture frames for the websocket: each aircraft as one short row, only what changed.

A frame is JSON::

    {"type": "picture", "time": 1509494400.0, "full": false, "rate": 1.0,
     "meta": {"7": ["06a003", "KAC61989", "unknown", "Qatar"]},      # keys new or changed
     "rows": [[7, 35.1234, 40.5678, 31000, 452, 162, 0, 0, 0], ...],  # changed aircraft
     "gone": [3, 9]}                                                  # keys no longer in the picture

Each aircraft gets a small integer key; its identity (address, callsign, party, country) is sent with
the key once. A row is ``[key, lat, lon, alt_ft, gs_kt, track_deg, vrate_fpm, age_s, on_ground]``
(lat/lon to 4 decimals, about 10 m; ``age_s``, how old the aircraft's state is at the frame's time, to 0.1 s, so
that the page gives the report's own second; the rest whole numbers, ``null`` when unknown). A delta frame carries only the aircraft whose row
changed since the previous frame; a full frame carries every aircraft and all identities.

On the websocket a frame is a binary message: the JSON compressed once with raw DEFLATE (RFC 1951),
the same bytes for every client (browsers inflate it with ``DecompressionStream("deflate-raw")``).
Per-connection compression (permessage-deflate) would compress the same frame again for each client:
with 5,000 aircraft and 50 clients that alone is seconds of CPU a second.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property


def epoch(value) -> float | None:
    """Unix seconds of a datetime (naive means UTC) or a number."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


def _int(v) -> int | None:
    if v is None:
        return None
    f = float(v)
    return None if not math.isfinite(f) else int(round(f))


def _deg(v) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if not math.isfinite(f) else round(f, 4)


@dataclass
class Frame:
    """One tick's picture, as a full frame and as a delta on the previous tick (each encoded once)."""

    time: float
    rate: float
    rows: dict[int, tuple]
    changed: list[int]
    meta: dict[int, tuple]
    new_meta: list[int]
    gone: list[int]
    reset: bool = False
    extra: dict = field(default_factory=dict)

    def _doc(self, full: bool) -> dict:
        keys = list(self.rows) if full else self.changed
        meta_keys = list(self.meta) if full else self.new_meta
        doc = {"type": "picture", "time": round(self.time, 3), "full": full, "rate": round(self.rate, 3),
               "meta": {str(k): self.meta[k] for k in meta_keys}, "rows": [self.rows[k] for k in keys],
               "gone": [] if full else self.gone}
        if self.reset:
            doc["reset"] = True
        doc.update(self.extra)
        return doc

    @cached_property
    def full(self) -> str:
        return json.dumps(self._doc(True), separators=(",", ":"))

    @cached_property
    def delta(self) -> str:
        return json.dumps(self._doc(False), separators=(",", ":"))

    @cached_property
    def full_deflated(self) -> bytes:
        return deflate(self.full)

    @cached_property
    def delta_deflated(self) -> bytes:
        return deflate(self.delta)


def deflate(text: str, level: int = 3) -> bytes:
    """Raw DEFLATE (no zlib header), as ``DecompressionStream("deflate-raw")`` reads it."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(text.encode("utf-8")) + c.flush()


def inflate(data: bytes) -> dict:
    """A frame as sent, back to its JSON document."""
    return json.loads(zlib.decompress(data, -15))


class FrameBuilder:
    """Turns successive pictures (lists of aircraft dicts, as ``Picture.aircraft()`` gives) into frames."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self.next_key = 1
        self.meta: dict[int, tuple] = {}
        self.state: dict[int, tuple] = {}  # key -> (row without age, state time)
        self.rows: dict[int, list] = {}
        self.reset_next = False

    def reset(self) -> None:
        """Forget the previous picture: the next frame's delta is complete (after a replay seek)."""
        self.state.clear()
        self.rows.clear()
        self.reset_next = True

    def step(self, time: float, aircraft: list[dict], rate: float = 1.0) -> Frame:
        seen: set[int] = set()
        changed: list[int] = []
        new_meta: list[int] = []
        for a in aircraft:
            tid = a.get("track_id")
            lat, lon = _deg(a.get("lat")), _deg(a.get("lon"))
            if not tid or lat is None or lon is None:
                continue
            key = self.keys.get(tid)
            if key is None:
                key = self.keys[tid] = self.next_key
                self.next_key += 1
            seen.add(key)
            meta = (tid, a.get("callsign"), a.get("party") or "unknown", a.get("country"))
            if self.meta.get(key) != meta:
                self.meta[key] = meta
                new_meta.append(key)
            t = epoch(a.get("time"))
            t = time if t is None else t
            body = (lat, lon, _int(a.get("alt_ft")), _int(a.get("gs_kt")), _int(a.get("track_deg")),
                    _int(a.get("vrate_fpm")), 1 if a.get("on_ground") else 0)
            sig = (body, round(t, 1))
            if self.state.get(key) != sig:
                self.state[key] = sig
                row = [key, *body[:6], max(0.0, round(time - t, 1)), body[6]]
                self.rows[key] = row
                changed.append(key)
        gone = [k for k in self.rows if k not in seen]
        for k in gone:
            del self.rows[k], self.state[k]
            tid = self.meta.pop(k)[0]
            self.keys.pop(tid, None)
        frame = Frame(time, rate, dict(self.rows), changed, dict(self.meta), new_meta, gone, self.reset_next)
        self.reset_next = False
        return frame
