"""The agreement file as the user writes it (YAML), checked field by field.

Quantities are written with their units (``"20 NM"``, ``"1000 ft"``, ``"FL200"``,
``"5 min"``) and converted to SI when the agreement is loaded; a plain number is
metres or seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShapeSpec(_Strict):
    """Where a shape comes from: exactly one of a GeoJSON file, inline GeoJSON, a bbox or a circle."""

    file: str | None = None
    feature: str | int | None = Field(None, description="feature id, properties.id/name, or index in the file")
    geojson: dict[str, Any] | None = None
    bbox: tuple[float, float, float, float] | None = Field(None, description="west, south, east, north")
    circle: "CircleSpec | None" = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ShapeSpec":
        given = [k for k in ("file", "geojson", "bbox", "circle") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of: file, geojson, bbox, circle")
        return self


class CircleSpec(_Strict):
    center: tuple[float, float] = Field(description="lon, lat")
    radius: str | float


class IdentifySpec(_Strict):
    """How an aircraft is recognised as a party's: any rule that matches."""

    countries: list[str] = []
    hex_ranges: list[str] = Field(default=[], description="'AE0000-AFFFFF'")
    callsigns: list[str] = Field(default=[], description="regular expressions, matched at the start")
    icao24: list[str] = []


class ContactSpec(_Strict):
    """Who at a party hears about an incident, through which channels, and how soon it must answer.

    A party's contacts are tried in order: the first that wants the incident is told; one not
    acknowledged in time is re-sent, then the incident is escalated to the next contact.
    """

    name: str = Field(min_length=1)
    channels: list[str] = Field(default=[], description="channel addresses; none: only the --alert channels")
    kinds: list[Literal["crossing", "encounter", "manoeuvre", "interaction"]] | None = Field(
        None, description="incident kinds this contact wants; default: all")
    min_severity: str = Field("info", description="the lowest severity this contact wants")
    acknowledge_within: str | float = Field("5 min", description="time to acknowledge before re-send and escalation")
    resend: int = Field(1, ge=0, le=10, description="re-sends before escalating to the next contact")
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$",
                                   description="environment variable with this contact's webhook secret")


class PartySpec(_Strict):
    id: str = Field(pattern=_ID)
    name: str
    identify: IdentifySpec = IdentifySpec()
    contacts: list[ContactSpec] = []


class HotlineSpec(_Strict):
    """Grouping in the manner of Alertmanager: a wait to gather, then at most one message a repeat interval."""

    group_wait: str | float = "10 s"
    repeat_interval: str | float = "2 min"


class SideSpec(_Strict):
    """The side of the line a party keeps to: named by a compass direction or a point on it."""

    party: str
    toward: Literal["east", "west", "north", "south"] | None = None
    point: tuple[float, float] | None = None
    closed_to: list[str] | None = Field(None, description="parties that may not enter; default: all others")
    floor: str | float = 0.0
    ceiling: str | float = "UNL"

    @model_validator(mode="after")
    def _one_way(self) -> "SideSpec":
        if (self.toward is None) == (self.point is None):
            raise ValueError("give exactly one of: toward, point")
        return self


class ZoneSpec(_Strict):
    id: str = Field(pattern=_ID)
    name: str | None = None
    shape: ShapeSpec
    floor: str | float = 0.0
    ceiling: str | float = "UNL"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    owner: str | None = None
    closed_to: list[str] | None = Field(None, description="parties that may not enter; default: all but the owner")

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2017-11-01T00:00:00Z")
        return value


class CrossingSpec(_Strict):
    min_depth: str | float = "1 km"
    min_vertical_depth: str | float = "100 ft"
    min_duration: str | float = "20 s"
    warning_lookahead: str | float = "180 s"
    flight_gap: str | float = "10 min"
    data_gap: str | float = "30 s"


class SeparationSpec(_Strict):
    caution_horizontal: str | float = "20 NM"
    caution_vertical: str | float | None = None
    horizontal: str | float = "5 NM"
    vertical: str | float = "1000 ft"
    lookahead: str | float = "300 s"
    nmac_horizontal: str | float = "500 ft"
    nmac_vertical: str | float = "100 ft"
    vertical_tolerance: str | float = "100 ft"
    level_rate: str | float = "250 ft/min"
    alerting_m: int = Field(2, ge=1, description="M of M-of-N alert persistence")
    alerting_n: int = Field(3, ge=1, le=60, description="N of M-of-N alert persistence (instants)")
    interpolation_gap: str | float = "15 s"

    @model_validator(mode="after")
    def _m_of_n(self) -> "SeparationSpec":
        if self.alerting_m > self.alerting_n:
            raise ValueError(f"alerting_m ({self.alerting_m}) is larger than alerting_n ({self.alerting_n})")
        return self


class ManoeuvreSpec(_Strict):
    hard_turn_g: float = Field(2.5, gt=1)
    hard_turn_duration: str | float = "4 s"
    brake_decel: str | float = "4 m/s2"
    brake_duration: str | float = "3 s"
    rapid_vertical_rate: str | float = "8000 ft/min"
    rapid_duration: str | float = "8 s"
    weave_g: float = Field(2.0, gt=1)
    weave_reversals: int = Field(3, ge=2)
    weave_window: str | float = "60 s"
    loiter_radius: str | float = "30 km"
    loiter_window: str | float = "10 min"
    near_line: str | float = "30 km"
    intercept_range: str | float = "40 km"
    intercept_closing: str | float = "50 m/s"
    intercept_off_nose: float = Field(45.0, gt=0, le=180)
    intercept_duration: str | float = "20 s"
    intercept_closest: str | float = "3 NM"
    intercept_vertical: str | float = "500 ft"
    engagement_range: str | float = "20 km"
    engagement_g: float = Field(2.0, gt=1)
    engagement_duration: str | float = "15 s"
    shadow_range: str | float = "10 km"
    shadow_rate: str | float = "10 m/s"
    shadow_heading: float = Field(30.0, gt=0, le=180)
    shadow_duration: str | float = "3 min"


class IncidentSpec(_Strict):
    quiet_period: str | float = Field("10 min", description="an ended event's incident resolves itself after "
                                      "this long without a flare-up")
    deep_crossing: str | float = Field("10 km", description="a crossing this far beyond the line or zone edge "
                                       "is a deep crossing")


class ThresholdSpec(_Strict):
    crossing: CrossingSpec = CrossingSpec()
    separation: SeparationSpec = SeparationSpec()
    manoeuvres: ManoeuvreSpec = ManoeuvreSpec()
    incidents: IncidentSpec = IncidentSpec()


class AgreementSpec(_Strict):
    name: str
    title: str | None = None
    description: str | None = None
    parties: list[PartySpec] = Field(min_length=1)
    region: ShapeSpec
    line: ShapeSpec
    line_name: str | None = Field(None, description="what reasons call the line, e.g. 'the Euphrates'")
    sides: list[SideSpec] = []
    zones: list[ZoneSpec] = []
    thresholds: ThresholdSpec = ThresholdSpec()
    hotline: HotlineSpec = HotlineSpec()
