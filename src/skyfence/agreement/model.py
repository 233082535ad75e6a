"""The agreement as skyfence uses it: parties, restricted areas in SI and projected, thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
import shapely

from skyfence.agreement.identify import PartyIdentifier
from skyfence.agreement.thresholds import (  # noqa: F401 - their names, as they were here
    CrossingThresholds, IncidentThresholds, ManoeuvreThresholds, SeparationThresholds, Thresholds)
from skyfence.geo.boundary import BoundaryIndex
from skyfence.geo.projection import LocalProjection


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
