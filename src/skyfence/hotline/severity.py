"""Severities low to high, as the incident store ranks them."""

from __future__ import annotations

from skyfence.incidents.model import SEVERITIES

RANK = {s: i for i, s in enumerate(SEVERITIES)}


def rank(severity: str) -> int:
    """Position of a severity, low to high; an unknown one ranks above all (never quietly dropped)."""
    return RANK.get(severity, len(SEVERITIES))
