"""The severity an update shows: the store's rule (:func:`skyfence.incidents.severity.severity_of`) with the
agreement's incident thresholds (``thresholds.incidents``: how deep is a deep crossing)."""

from __future__ import annotations

from skyfence.agreement.model import Agreement
from skyfence.incidents.severity import severity_of


def severity(agreement: Agreement, kind: str, event: str, details: dict) -> str:
    return severity_of(kind, event, details, agreement.thresholds.incidents)
