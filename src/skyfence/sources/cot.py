"""Cursor on Target (CoT) events, the TAK ecosystem's XML, for air tracks; parsed safely.

``<event uid=... type="a-h-A-M-F" time=... start=... stale=...><point lat lon
hae ce le/><detail><track course speed/><contact callsign/></detail></event>``.
Only atoms in the air (type ``a-?-A...``) are tracks; other events are counted
and skipped. The aircraft is the ICAO address when the uid carries one
(``ICAO-3c6586``, as ADS-B bridges write it) and the uid otherwise. Height is
``hae`` (metres above the ellipsoid), speed m/s, course degrees. XML is parsed
with defusedxml: no entity expansion, no external entities, no DTD.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import polars as pl
from defusedxml import ElementTree as SafeET

from skyfence.errors import InputError
from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import read_bytes
from skyfence.tracks.schema import conform, drop_invalid_times, time_from_seconds

AIR = re.compile(r"^a-[a-z]-A(-|$)")
ICAO_UID = re.compile(r"(?:^|[^0-9a-fA-F])([0-9a-fA-F]{6})$")
COLUMNS = ("time", "track_id", "callsign", "lon", "lat", "altitude", "ground_speed", "track")


MAX_EVENT = 1 << 20  # bytes: a CoT air track is about 500 bytes; a larger "event" is counted, never held
MALFORMED = "malformed CoT event"
STRAY = "stray text between CoT events"
_EVENT = re.compile(rb"<event[\s>/]")
_DECLARATION = re.compile(rb"<\?xml[^>]*\?>")


def split_events(buffer: bytes, bad: Counter | None = None) -> tuple[list[bytes], bytes]:
    """Complete ``<event>`` elements in ``buffer`` and the unfinished rest (kept for more bytes).

    An event that another event begins inside of was cut: it is counted and the next one kept. Text
    between events other than XML declarations is counted as one bad record a run, and an unfinished
    event longer than ``MAX_EVENT`` is counted and dropped (with ``bad``; without it nothing is counted).
    """
    bad = bad if bad is not None else Counter()
    events, pos, n = [], 0, len(buffer)
    while True:
        m = _EVENT.search(buffer, pos)
        start = m.start() if m else n
        if _DECLARATION.sub(b"", buffer[pos:start]).strip():
            if m is None and n - pos <= MAX_EVENT:
                return events, buffer[pos:]  # the start of an event, or stray text going on: wait for more
            bad[STRAY] += 1
        if m is None:
            return events, b""
        nxt = _EVENT.search(buffer, m.end())
        limit = nxt.start() if nxt else n
        tag_end = buffer.find(b">", start, limit)
        end = -1
        if tag_end >= 0:
            if buffer[tag_end - 1:tag_end] == b"/":  # <event .../>
                end = tag_end + 1
            else:
                close = buffer.find(b"</event", tag_end, limit)
                if close >= 0:
                    gt = buffer.find(b">", close, limit)
                    end = gt + 1 if gt >= 0 else -1
        if end < 0:
            if nxt is not None:  # cut: the next event began before this one ended
                bad[MALFORMED] += 1
                pos = nxt.start()
                continue
            if n - start > MAX_EVENT:
                bad["overlong CoT event"] += 1
                return events, b""
            return events, buffer[start:]
        if end - start > MAX_EVENT:
            bad["overlong CoT event"] += 1
        else:
            events.append(buffer[start:end])
        pos = end


def parse_events(events: Iterable[bytes], bad: Counter) -> dict[str, list]:
    """Events as canonical columns (SI); non-air events and malformed XML are counted."""
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for raw in events:
        try:
            ev = SafeET.fromstring(raw)
        except Exception:  # defusedxml raises for entities and DTDs, ParseError for broken XML
            bad[MALFORMED] += 1
            continue
        kind = ev.get("type", "")
        if not AIR.match(kind):
            bad["not an air track (CoT type)"] += 1
            continue
        point = ev.find("point")
        when = ev.get("time") or ev.get("start")
        uid = ev.get("uid", "").strip()
        try:
            lat, lon = float(point.get("lat")), float(point.get("lon"))
            t = _time(when)
        except (AttributeError, TypeError, ValueError, OverflowError):
            bad[MALFORMED] += 1
            continue
        if not (uid and math.isfinite(lat) and math.isfinite(lon)):
            bad[MALFORMED] += 1
            continue
        m = ICAO_UID.search(uid)
        cols["time"].append(t)
        cols["track_id"].append(m.group(1).lower() if m and uid.upper().startswith("ICAO") else uid)
        detail = ev.find("detail")
        track = detail.find("track") if detail is not None else None
        contact = detail.find("contact") if detail is not None else None
        cols["callsign"].append((contact.get("callsign") or "").strip() or None if contact is not None else None)
        cols["lat"].append(lat)
        cols["lon"].append(lon)
        cols["altitude"].append(_float(point.get("hae")))
        cols["ground_speed"].append(_float(track.get("speed")) if track is not None else None)
        cols["track"].append(_float(track.get("course")) if track is not None else None)
    return cols


def _time(text: str | None) -> float:
    if not text:
        raise ValueError("no time")
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()


def _float(text: str | None) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return None if v == 9999999.0 else v  # CoT's "unknown"


def events_frame(events: Iterable[bytes], source: str, bad: Counter) -> pl.DataFrame:
    """Events as a canonical track table (impossible times counted)."""
    df = pl.DataFrame(parse_events(events, bad), schema_overrides={"time": pl.Float64, "track_id": pl.String,
                                                                   "callsign": pl.String})
    df = drop_invalid_times(df, bad)
    df = df.with_columns(time_from_seconds(pl.col("time")), pl.lit(source).alias("source"))
    return conform(df)


def read_cot(path: str | Path) -> tuple[pl.DataFrame, ReadReport]:
    """A file of CoT events (as recorded from a TAK feed) as canonical states."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    data = read_bytes(path, report.dropped)
    events, rest = split_events(data, report.dropped)
    if not events and rest.strip() and not report.dropped:
        raise InputError(f"{path}: no complete Cursor on Target event")
    if rest.strip():
        report.dropped["unfinished CoT event at the end" if _EVENT.search(rest) else STRAY] += 1
    df = events_frame(events, path.name, report.dropped)
    report.rows_read = len(events) + (1 if rest.strip() else 0)
    return df, report


def to_events(states: pl.DataFrame, affiliation: str = "u", stale: float = 60.0) -> list[bytes]:
    """Canonical states as CoT air-track events (for replays, tests and TAK clients)."""
    out = []
    for r in states.iter_rows(named=True):
        t = r["time"]
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        end = datetime.fromtimestamp(t.timestamp() + stale, tz=t.tzinfo).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        uid = f"ICAO-{r['track_id'].upper()}" if re.fullmatch(r"[0-9a-f]{6}", r["track_id"]) else r["track_id"]
        hae = f"{r['altitude']:.2f}" if r["altitude"] is not None else "9999999.0"
        track = ""
        if r["ground_speed"] is not None or r["track"] is not None:
            course = f"{r['track']:.2f}" if r["track"] is not None else "0"
            speed = f"{r['ground_speed']:.3f}" if r["ground_speed"] is not None else "0"
            track = f'<track course="{course}" speed="{speed}"/>'
        contact = f"<contact callsign={quoteattr(r['callsign'])}/>" if r["callsign"] else ""
        out.append((f'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid={quoteattr(uid)} '
                    f'type="a-{affiliation}-A" time="{stamp}" start="{stamp}" stale="{end}" how="m-g">'
                    f'<point lat="{r["lat"]:.7f}" lon="{r["lon"]:.7f}" hae="{hae}" ce="9999999.0" le="9999999.0"/>'
                    f"<detail>{track}{contact}</detail></event>\n").encode("utf-8"))
    return out
