"""The API's request and response bodies (pydantic): what ``/openapi.json`` documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from skyfence.incidents.model import SEVERITIES

Kind = Literal["crossing", "encounter", "manoeuvre", "interaction"]
Status = Literal["open", "acknowledged", "resolved"]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
# Free text: no control characters other than newline and tab (PostgreSQL refuses NUL).
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
IncidentId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class Why(BaseModel):
    """Body of ``ack`` and ``resolve``: an optional reason, kept in the audit trail."""

    model_config = ConfigDict(extra="forbid")
    why: Annotated[Text, Field(max_length=500)] = ""


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[Text, Field(min_length=1, max_length=2000)]


class UserOut(BaseModel):
    name: str
    role: Literal["viewer", "officer", "admin"]
    party: str | None = None


class AircraftRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    track_id: str
    callsign: str | None = None
    party: str | None = None


class IncidentOut(BaseModel):
    """An incident as ``skyfence.incidents.model.incident_json`` writes it (times ISO 8601 UTC)."""

    model_config = ConfigDict(extra="allow")
    id: str
    kind: Kind
    status: Status
    severity: str
    parties: list[str]
    aircraft: list[AircraftRef]
    start_time: str
    end_time: str | None = None
    lat: float
    lon: float
    summary: str
    details: dict = {}
    acks: dict = {}


class ChangeOut(BaseModel):
    """One audit record: who did what to an incident, when and why; the incident after it."""

    seq: int
    incident_id: str
    time: str
    who: str
    action: str
    why: str | None = ""
    incident: IncidentOut


class IncidentDetail(BaseModel):
    incident: IncidentOut
    audit: list[ChangeOut]


class AircraftOut(BaseModel):
    """One aircraft of the picture (feet, knots, ft/min; ``time`` of its last state, ISO 8601 UTC)."""

    model_config = ConfigDict(extra="allow")
    track_id: str
    callsign: str | None = None
    party: str | None = None
    country: str | None = None
    lat: float
    lon: float
    alt_ft: float | None = None
    gs_kt: float | None = None
    track_deg: float | None = None
    vrate_fpm: float | None = None
    time: str | None = None
    on_ground: bool | None = None


class ReplaySpan(BaseModel):
    start: float = Field(description="first state of the recording, Unix seconds")
    end: float
    time: float | None = Field(None, description="where the page starts")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: the incident store does not answer now")
    store: Literal["ok", "unavailable"]
    mode: Literal["live", "replay", "store"]
    time: str = Field(description="the server's clock, ISO 8601 UTC")
    picture_time: str | None = None
    aircraft: int
    clients: int
    frames_sent: int
    frames_dropped: int
    replay: ReplaySpan | None = None
    feed_ended: bool = Field(False, description="live mode: the monitor's recorded data has ended (the picture "
                             "stays as it was at picture_time)")


class DayCount(BaseModel):
    day: str
    total: int
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    by_party: dict[str, int]


class Figures(BaseModel):
    days: list[DayCount]
    total: int


def parse_since(value: datetime | None) -> datetime | None:
    """A naive time is UTC."""
    from datetime import timezone

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class HotlineChannel(BaseModel):
    channel: str = Field(description="the channel's address as the agreement or --alert names it (never a secret)")
    pending: int
    sent: int
    dead: int
    oldest_pending_s: float | None = Field(None, description="age of the oldest message waiting, s")
    last_error: str | None = None


class HotlineAwaited(BaseModel):
    incident_id: str
    party: str
    contact_number: int = Field(description="1 for the first contact, 2 once escalated, ...")
    resends: int
    ack_due: str = Field(description="ISO 8601 UTC, on the hotline's clock (data time in a replay)")


class HotlineStatusOut(BaseModel):
    """The hotline: per channel what waits, went or died; acknowledgements awaited (a user of a party sees
    that party's part)."""

    channels: list[HotlineChannel]
    awaited: list[HotlineAwaited]
    totals: dict[str, int] = Field(description="per status, deliveries (a message goes out on each of its "
                                   "contact's channels)")
    messages: dict[str, int] = Field(description="per status, the messages with a delivery in it")


class HotlineThread(BaseModel):
    party: str
    involved: bool = Field(description="the party's own aircraft are in it (else it was told as the counterpart)")
    contact: str | None = None
    contact_number: int | None = None
    messages: int
    last_sent_at: str | None = Field(None, description="ISO 8601 UTC")
    acknowledged: bool
    ack_due: str | None = Field(None, description="ISO 8601 UTC, on the hotline's clock")
    resends: int


class HotlineDelivery(BaseModel):
    channel: str
    status: Literal["pending", "sent", "dead"]
    attempts: int
    sent_at: str | None = Field(None, description="ISO 8601 UTC")
    last_error: str | None = None


class HotlineMessage(BaseModel):
    id: str
    party: str
    contact: str
    type: str
    created_at: str = Field(description="ISO 8601 UTC")
    text: str | None = None
    channels: list[HotlineDelivery]


class IncidentHotline(BaseModel):
    """One incident on the hotline: per party where it stands, and the messages (oldest first)."""

    incident_id: str
    parties: list[HotlineThread]
    messages: list[HotlineMessage]
