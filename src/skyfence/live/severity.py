"""The severity an update shows: the store's rule (:mod:`skyfence.incidents.severity`) when the store is
installed; otherwise the same order by the plain rule below (a crossing 5 km deep or likely deliberate
is a deep crossing)."""

from __future__ import annotations

from skyfence.agreement.model import Agreement

DEEP_KM = 5.0


def severity(agreement: Agreement, kind: str, event: str, details: dict) -> str:
    try:
        from skyfence.incidents.severity import severity_of
    except ImportError:
        severity_of = None
    if severity_of is not None:
        rules = getattr(agreement.thresholds, "incidents", None)
        return severity_of(kind, event, details, rules) if rules is not None else severity_of(kind, event, details)
    if kind == "crossing":
        if event == "crossing_warning":
            return "warning"
        deep = (details.get("depth_km") or 0.0) >= DEEP_KM or details.get("intent") == "likely deliberate"
        return "deep_crossing" if deep else "crossing"
    if kind == "encounter":
        level = str(details.get("level", "caution"))
        return level if level in ("caution", "warning", "loss", "nmac") else "caution"
    return "caution" if kind == "interaction" else "info"
