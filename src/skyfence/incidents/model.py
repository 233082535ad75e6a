"""What an incident is: the updates the monitor emits, the incident they build, the audit records.

An :class:`EventUpdate` is one step of one event (a crossing warned, started, ended; an encounter's
level changed; a manoeuvre or an interaction confirmed). Updates with the same ``incident_id`` build
one :class:`Incident`; every change to an incident is one :class:`Change` (the audit trail, and what
followers such as the hotline and the web page receive). :func:`incident_json` is the one JSON shape
of an incident (API, ``incidents list --format json``, webhook bodies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

Kind = Literal["crossing", "encounter", "manoeuvre", "interaction"]
Status = Literal["open", "acknowledged", "resolved"]

KINDS: tuple[str, ...] = ("crossing", "encounter", "manoeuvre", "interaction")
STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")
SEVERITIES: tuple[str, ...] = ("info", "caution", "warning", "crossing", "deep_crossing", "loss", "nmac")
"""Low to high."""
EVENTS: tuple[str, ...] = ("crossing_warning", "crossing_started", "crossing_ended", "level_changed",
                           "level_fell", "level_rose", "encounter_ended", "manoeuvre", "interaction")
ACTIONS: tuple[str, ...] = ("opened", "updated", "severity_raised", "acknowledged", "resolved", "reopened",
                            "commented")
SYSTEM = "system"
"""``who`` of the changes skyfence makes itself."""


@dataclass(frozen=True)
class Aircraft:
    """An aircraft involved: its track id (ICAO address, hex), callsign and party, as far as known."""

    track_id: str
    callsign: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class TrackPoint:
    """One position of an involved aircraft around the event."""

    track_id: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float | None = None


@dataclass(frozen=True)
class EventUpdate:
    """One step of one event, as the live monitor (or a batch import) emits it.

    ``(incident_id, event, time)`` identifies the update: applying it again changes nothing.
    ``time`` is data time (UTC); ``end_time`` is None while the event goes on; ``ended`` says the
    event is over (the incident then resolves itself once the quiet period has passed).
    ``details`` holds JSON-able figures; the store reads ``depth_km``, ``intent`` and ``level``
    for the severity and ``area``/``zone``/``type`` to recognise a flare-up.
    """

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


@dataclass
class Incident:
    """An incident as it stands: the event it follows, its status, severity and acknowledgements.

    ``severity`` is the highest seen so far. ``acks`` maps a party (or, for an acknowledgement given
    for no party, the user) to who acknowledged and when. ``ended_at`` is the data time the event
    ended (None while it goes on); ``quiet_until`` when it resolves itself if nothing flares up.
    """

    id: str
    kind: str
    status: str
    severity: str
    parties: tuple[str, ...]
    aircraft: tuple[Aircraft, ...]
    start_time: datetime
    end_time: datetime | None
    lat: float
    lon: float
    summary: str
    details: dict
    opened_at: datetime
    updated_at: datetime
    acks: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    last_event: str = ""
    last_update_time: datetime | None = None
    ended_at: datetime | None = None
    quiet_until: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_severity: str | None = None
    comments: int = 0
    aliases: tuple[str, ...] = ()

    def copy(self) -> "Incident":
        return replace(self, acks=dict(self.acks), details=dict(self.details))


@dataclass(frozen=True)
class Change:
    """One audit record: when, who (a user, a party or ``system``), what (``action``) and why;
    ``incident`` is the incident after the change. ``seq`` grows with every committed change (with
    gaps on PostgreSQL, where a transaction that failed used up its numbers). ``time`` is data time
    for the system's changes and the moment of the act for a person's."""

    seq: int
    incident_id: str
    time: datetime
    who: str
    action: str
    why: str
    incident: Incident
    recorded_at: datetime | None = None
    """When the store wrote it (wall clock)."""


def utc(t: datetime | float | None) -> datetime | None:
    """``t`` as an aware UTC datetime (a naive one is taken to be UTC, a number is Unix seconds)."""
    if t is None:
        return None
    if not isinstance(t, datetime):
        return datetime.fromtimestamp(float(t), timezone.utc)
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def human(t: datetime | None) -> str:
    """A time as people read it: to the second, UTC marked ("" when unknown); JSON and CSV keep :func:`iso`."""
    return f"{utc(t):%Y-%m-%d %H:%M:%S}Z" if t is not None else ""


def iso(t: datetime | float | None) -> str | None:
    """ISO 8601 UTC with Z, to the microsecond only when there is one."""
    if t is None:
        return None
    t = utc(t)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}"
    return text + "Z"


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON: numpy scalars as Python numbers, NaN and infinities as null, datetimes
    as ISO 8601, tuples as lists (PostgreSQL's json type refuses NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    return str(value)


def incident_json(incident: Incident) -> dict[str, Any]:
    """The one JSON shape of an incident (times ISO 8601 UTC with Z; strict JSON: no NaN)."""
    i = incident
    return {
        "id": i.id, "kind": i.kind, "status": i.status, "severity": i.severity,
        "parties": list(i.parties),
        "aircraft": [{"track_id": a.track_id, "callsign": a.callsign, "party": a.party} for a in i.aircraft],
        "start_time": iso(i.start_time), "end_time": iso(i.end_time),
        "lat": json_safe(i.lat), "lon": json_safe(i.lon), "summary": i.summary, "details": json_safe(i.details),
        "acks": {p: {"by": by, "time": iso(t)} for p, (by, t) in sorted(i.acks.items())},
        "opened_at": iso(i.opened_at), "updated_at": iso(i.updated_at),
        "last_event": i.last_event, "last_update_time": iso(i.last_update_time),
        "ended_at": iso(i.ended_at), "quiet_until": iso(i.quiet_until),
        "resolved_at": iso(i.resolved_at), "resolved_by": i.resolved_by,
        "resolved_severity": i.resolved_severity, "comments": i.comments, "aliases": list(i.aliases),
    }


def incident_from_json(d: dict[str, Any]) -> Incident:
    """The inverse of :func:`incident_json`."""
    return Incident(
        id=d["id"], kind=d["kind"], status=d["status"], severity=d["severity"], parties=tuple(d["parties"]),
        aircraft=tuple(Aircraft(a["track_id"], a.get("callsign"), a.get("party")) for a in d["aircraft"]),
        start_time=parse_time(d["start_time"]), end_time=parse_time(d["end_time"]),
        lat=d["lat"], lon=d["lon"], summary=d["summary"], details=d.get("details") or {},
        opened_at=parse_time(d["opened_at"]), updated_at=parse_time(d["updated_at"]),
        acks={p: (a["by"], parse_time(a["time"])) for p, a in (d.get("acks") or {}).items()},
        last_event=d.get("last_event", ""), last_update_time=parse_time(d.get("last_update_time")),
        ended_at=parse_time(d.get("ended_at")), quiet_until=parse_time(d.get("quiet_until")),
        resolved_at=parse_time(d.get("resolved_at")), resolved_by=d.get("resolved_by"),
        resolved_severity=d.get("resolved_severity"), comments=d.get("comments", 0),
        aliases=tuple(d.get("aliases") or ()))


def change_json(change: Change) -> dict[str, Any]:
    """A change as JSON: the audit record and the incident after it."""
    return {"seq": change.seq, "incident_id": change.incident_id, "time": iso(change.time), "who": change.who,
            "action": change.action, "why": change.why, "recorded_at": iso(change.recorded_at),
            "incident": incident_json(change.incident)}
