"""Severity of an incident from the agreement's thresholds, lowest to highest:
info < caution < warning < crossing < deep_crossing < loss < nmac.

- a crossing warning (predicted entry) is ``warning``; a crossing is ``crossing``; it becomes
  ``deep_crossing`` once it reaches ``thresholds.incidents.deep_crossing`` beyond the line or zone
  edge, or its intent reads ``likely deliberate``; an aircraft inside that was not seen to cross (first
  seen inside, come across the region's edge, inside as a zone opened: ``entry_kind`` other than
  ``crossed``) is ``caution``: not a crossing of the agreement, as ``analyze`` counts none;
- an encounter takes its conflict level: ``caution``, ``warning``, ``loss`` or ``nmac``;
- an interaction (intercept, mock engagement, shadowing) is ``caution``; a manoeuvre ``info``.

An incident keeps the highest severity seen so far (:func:`highest`).
"""

from __future__ import annotations

from skyfence.agreement.thresholds import IncidentThresholds
from skyfence.detect.intent import LIKELY_DELIBERATE
from skyfence.incidents.model import SEVERITIES

RANK = {s: k for k, s in enumerate(SEVERITIES)}
LEVELS = ("caution", "warning", "loss", "nmac")


def rank(severity: str) -> int:
    """The place of ``severity`` in :data:`SEVERITIES` (ValueError for an unknown one)."""
    try:
        return RANK[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})") from None


def highest(*severities: str) -> str:
    return max(severities, key=rank)


def at_least(severity: str) -> tuple[str, ...]:
    """The severities at or above ``severity``."""
    return SEVERITIES[rank(severity):]


def severity_of(kind: str, event: str, details: dict, rules: IncidentThresholds = IncidentThresholds()) -> str:
    """The severity one update of an event shows, by the rules above."""
    if kind == "crossing":
        if event == "crossing_warning":
            return "warning"
        if details.get("entry_kind", "crossed") != "crossed":
            return "caution"
        depth_km = details.get("depth_km")
        deep = depth_km is not None and depth_km * 1000.0 >= rules.deep_crossing
        deliberate = details.get("intent") == LIKELY_DELIBERATE
        return "deep_crossing" if deep or deliberate else "crossing"
    if kind == "encounter":
        level = str(details.get("level", "caution")).lower()
        return level if level in LEVELS else "caution"
    if kind == "interaction":
        return "caution"
    return "info"
