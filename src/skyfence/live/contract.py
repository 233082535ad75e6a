"""What the monitor hands to the incident store: the shared interface of issue 11 (see COMMON.md).

Until the store's package (:mod:`skyfence.incidents`) is in this branch, these are its stand-ins, field
for field; afterwards this module re-exports the store's own classes, so nothing else changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

SEVERITIES = ("info", "caution", "warning", "crossing", "deep_crossing", "loss", "nmac")
PREFIX = {"crossing": "CR", "encounter": "EN", "manoeuvre": "MA", "interaction": "IN"}


@dataclass(frozen=True)
class Aircraft:
    track_id: str
    callsign: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class TrackPoint:
    track_id: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float | None = None


@dataclass(frozen=True)
class EventUpdate:
    incident_id: str
    kind: str
    event: str
    time: datetime
    severity: str
    aircraft: tuple[Aircraft, ...]
    parties: tuple[str, ...]
    lat: float
    lon: float
    start_time: datetime
    end_time: datetime | None
    ended: bool
    summary: str
    details: dict = field(default_factory=dict)
    track: tuple[TrackPoint, ...] = ()


def _iso(t: datetime) -> str:
    t = t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"


def incident_id(kind: str, *key_parts) -> str:
    """The stable id of an incident from its kind and key parts (the store's canonical form)."""
    def part(v) -> str:
        if isinstance(v, datetime):
            return _iso(v)
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(part(x) for x in v) + "]"
        if isinstance(v, float):
            return repr(v)
        return "~" if v is None else str(v)

    text = "|".join([kind, *(part(p) for p in key_parts)])
    return f"{PREFIX[kind]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class StoreUnavailable(Exception):
    """The store cannot be reached now (stand-in for the store's own error)."""
