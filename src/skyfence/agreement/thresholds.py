"""The agreement's thresholds: when a crossing counts, separation, manoeuvres, incidents (SI units).

Plain settings with no geometry, so that the incident store and the hotline read them without loading the
agreement's geometry and numerical kernels."""

from __future__ import annotations

from dataclasses import dataclass, field


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
