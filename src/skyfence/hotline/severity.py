"""Severities low to high, as the incident store ranks them."""

from __future__ import annotations

try:
    from skyfence.incidents.model import SEVERITIES
except ImportError:  # pragma: no cover - the store's package not merged yet
    SEVERITIES = ("info", "caution", "warning", "crossing", "deep_crossing", "loss", "nmac")

RANK = {s: i for i, s in enumerate(SEVERITIES)}


def rank(severity: str) -> int:
    """Position of a severity, low to high; an unknown one ranks above all (never quietly dropped)."""
    return RANK.get(severity, len(SEVERITIES))
