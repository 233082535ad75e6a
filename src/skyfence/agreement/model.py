"""The agreement as skyfence uses it: parties, restricted areas in SI and projected, thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
import shapely

from skyfence.agreement.identify import PartyIdentifier
from skyfence.geo.boundary import BoundaryIndex
from skyfence.geo.projection import LocalProjection


@dataclass(frozen=True)
class CrossingThresholds:
    """When a stay beyond the line counts, and how early to warn (SI units)."""

    min_depth: float = 1000.0
    """An event must reach this far beyond the boundary (m); shallower stays are jitter or line error."""
    min_vertical_depth: float = 100 * 0.3048
    """Above a zone's ceiling or below its floor by less than this (m), an aircraft over the zone has not left
    it: 25 ft reporting steps and level keeping at the ceiling are not a way out and back in."""
    min_duration: float = 20.0
    """An event must last this long (s)."""
    warning_lookahead: float = 180.0
    """Warn when the straight path reaches the boundary within this time (s)."""
    flight_gap: float = 600.0
    """A longer gap between two states of one aircraft starts a new flight (s)."""
    data_gap: float = 30.0
    """A longer gap between states is a data gap: flagged inside crossings, never interpolated across (s)."""


@dataclass(frozen=True)
class SeparationThresholds:
    """Separation minima and alert thresholds for the conflict engine (SI units)."""

    caution_horizontal: float = 20 * 1852.0
    caution_vertical: float | None = None
    horizontal: float = 5 * 1852.0
    vertical: float = 1000 * 0.3048
    lookahead: float = 300.0
    nmac_horizontal: float = 500 * 0.3048
    nmac_vertical: float = 100 * 0.3048
    vertical_tolerance: float = 100 * 0.3048
    """Taken off the vertical minimum: 25 ft reporting steps and level-keeping make 1000 ft read 900-1000 ft."""
    level_rate: float = 250 * 0.3048 / 60
    """Vertical rates below this count as level flight in predictions (m/s)."""
    alerting_m: int = 2
    alerting_n: int = 3
    """M-of-N persistence: a predicted alert stands when ``alerting_m`` of the last ``alerting_n`` instants had it."""
    interpolation_gap: float = 15.0
    """Separations measured between reports further apart than this (s) rest on interpolation and are marked."""


@dataclass(frozen=True)
class ManoeuvreThresholds:
    """When flying counts as aggressive, and when two aircraft are interacting (SI units).

    The defaults sit well above what routine flying produces: airliners turn at
    up to 1.2 g and climb or descend at up to 4,000-6,000 ft/min; routine
    military turns stay under 2 g and throttling back slows a jet by under
    2 m/s2. A fighter in air combat pulls 4-9 g, its speed brakes take off
    5-8 m/s2, and an attack dive goes down at 10,000 ft/min or more.
    """

    hard_turn_g: float = 2.5
    hard_turn_duration: float = 4.0
    brake_decel: float = 4.0
    brake_duration: float = 3.0
    rapid_vertical_rate: float = 8000 * 0.3048 / 60
    rapid_duration: float = 8.0
    weave_g: float = 2.0
    weave_reversals: int = 3
    weave_window: float = 60.0
    loiter_radius: float = 30000.0
    loiter_window: float = 600.0
    near_line: float = 30000.0
    intercept_range: float = 40000.0
    intercept_closing: float = 50.0
    intercept_off_nose: float = 45.0
    intercept_duration: float = 20.0
    intercept_closest: float = 3 * 1852.0
    intercept_vertical: float = 500 * 0.3048
    engagement_range: float = 20000.0
    engagement_g: float = 2.0
    engagement_duration: float = 15.0
    shadow_range: float = 10000.0
    shadow_rate: float = 10.0
    shadow_heading: float = 30.0
    shadow_duration: float = 180.0


@dataclass(frozen=True)
class IncidentThresholds:
    """How incidents resolve themselves and how severe a crossing is (SI units)."""

    quiet_period: float = 600.0
    """An incident whose event has ended resolves itself after this long without a flare-up (s); a new
    event of the same aircraft (and area) within it reopens the incident instead of opening another."""
    deep_crossing: float = 10000.0
    """A crossing this far beyond the line or zone edge (m) is a deep crossing (as is a likely
    deliberate one)."""


@dataclass(frozen=True)
class Thresholds:
    crossing: CrossingThresholds = field(default_factory=CrossingThresholds)
    separation: SeparationThresholds = field(default_factory=SeparationThresholds)
    manoeuvres: ManoeuvreThresholds = field(default_factory=ManoeuvreThresholds)
    incidents: IncidentThresholds = field(default_factory=IncidentThresholds)


@dataclass(frozen=True)
class Contact:
    """One of a party's hotline contacts (see the agreement's ``parties[].contacts``)."""

    name: str
    channels: tuple[str, ...] = ()
    """Checked channel addresses (no secrets); empty: only the command line's ``--alert`` channels."""
    kinds: tuple[str, ...] | None = None
    """Incident kinds wanted; None: all."""
    min_severity: str = "info"
    acknowledge_within: float = 300.0
    """Seconds to acknowledge before a re-send, then escalation to the next contact."""
    resend: int = 1
    secret_env: str | None = None

    def wants(self, kind: str, severity: str, severities: tuple[str, ...]) -> bool:
        """Whether this contact is told about an incident of this kind and severity."""
        if self.kinds is not None and kind not in self.kinds:
            return False
        rank = {s: i for i, s in enumerate(severities)}
        return rank.get(severity, len(severities)) >= rank.get(self.min_severity, 0)


@dataclass(frozen=True)
class HotlineSettings:
    """How messages about one incident are gathered (seconds)."""

    group_wait: float = 10.0
    """The first message about an incident waits this long to gather what follows."""
    repeat_interval: float = 120.0
    """After a message, further updates wait this long and go as one (a rise in severity goes at once)."""


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True, eq=False)
class RestrictedArea:
    """A side of the line or a zone, with the parties that may not enter it.

    ``polygon`` is lon/lat; ``polygon_xy`` is in the agreement's projection.
    Depth is measured to ``depth_xy``: the line for a side, the zone's edge
    for a zone.
    """

    id: str
    name: str
    kind: str  # "side" or "zone"
    owner: str | None
    closed_to: tuple[str, ...]
    polygon: object
    polygon_xy: object
    depth_xy: object
    floor: float = 0.0
    ceiling: float = float("inf")
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    @cached_property
    def area_index(self) -> BoundaryIndex:
        return BoundaryIndex.from_geometry(self.polygon_xy)

    @cached_property
    def depth_index(self) -> BoundaryIndex:
        return BoundaryIndex.from_geometry(self.depth_xy)

    def window_seconds(self) -> tuple[float, float]:
        """The validity window as Unix seconds (open ends are infinite)."""
        lo = self.valid_from.timestamp() if self.valid_from else -np.inf
        hi = self.valid_to.timestamp() if self.valid_to else np.inf
        return lo, hi


@dataclass(frozen=True, eq=False)
class Agreement:
    """A loaded, validated agreement."""

    name: str
    title: str
    description: str
    source: str
    parties: tuple[Party, ...]
    identifier: PartyIdentifier
    region: object
    line: object
    line_extended: object
    projection: LocalProjection
    areas: tuple[RestrictedArea, ...]
    thresholds: Thresholds
    party_rules: dict = field(default_factory=dict)
    line_name: str | None = None
    """What the line is called in words ("the Euphrates"); None: "the line"."""
    hotline: HotlineSettings = field(default_factory=HotlineSettings)

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def party_name(self, party_id: str) -> str:
        for p in self.parties:
            if p.id == party_id:
                return p.name
        return party_id

    def area(self, area_id: str) -> RestrictedArea:
        for a in self.areas:
            if a.id == area_id:
                return a
        raise KeyError(area_id)

    def to_geojson(self) -> dict:
        """The line, sides and zones as a GeoJSON FeatureCollection (lon/lat)."""
        feats = [{"type": "Feature", "properties": {"id": "line", "kind": "line"},
                  "geometry": shapely.geometry.mapping(self.line)}]
        for a in self.areas:
            feats.append({"type": "Feature",
                          "properties": {"id": a.id, "kind": a.kind, "name": a.name, "owner": a.owner,
                                         "closed_to": list(a.closed_to)},
                          "geometry": shapely.geometry.mapping(a.polygon)})
        return {"type": "FeatureCollection", "features": feats}
