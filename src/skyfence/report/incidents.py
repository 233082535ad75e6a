"""The report's incidents section, read from an incident store: counts by kind, severity and status,
how long acknowledgements took, and the list.

An incident belongs to the report's period by its start time. The time to acknowledge runs from when
the store recorded the incident (the "opened" change's ``recorded_at``, wall clock) to the first
acknowledgement, overall and per party.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from skyfence.incidents.model import KINDS, SEVERITIES, STATUSES, Incident
from skyfence.report.results import Period

MAX_LISTED = 200


@dataclass
class AckTimes:
    """Seconds from an incident's recording to its first acknowledgement (by anyone, or by one party)."""

    acknowledged: int = 0
    of: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def max(self) -> float | None:
        return max(self.seconds) if self.seconds else None


@dataclass
class IncidentFigures:
    store: str
    total: int
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    by_status: dict[str, int]
    ack: AckTimes
    ack_by_party: dict[str, AckTimes]
    incidents: list[Incident]
    """Newest first, at most :data:`MAX_LISTED`."""
    resolved_by_system: int = 0
    reopened: int = 0


def _in_period(inc: Incident, period: Period) -> bool:
    if period.start is not None and inc.start_time < period.start:
        return False
    return period.end is None or inc.start_time < period.end


def incident_figures(store, period: Period = Period()) -> IncidentFigures:
    """The figures of the incidents in ``store`` (an open :class:`IncidentStore`) that began in ``period``."""
    incidents = [i for i in store.incidents() if _in_period(i, _aware(period))]
    by_kind = {k: sum(i.kind == k for i in incidents) for k in KINDS}
    by_severity = {s: sum(i.severity == s for i in incidents) for s in reversed(SEVERITIES)}
    by_status = {s: sum(i.status == s for i in incidents) for s in STATUSES}
    ack, per_party = AckTimes(of=len(incidents)), {}
    resolved_by_system = reopened = 0
    for inc in incidents:
        audit = store.audit(inc.id)
        opened = next((c.recorded_at for c in audit if c.action == "opened"), None)
        first: dict[str, datetime] = {}
        for c in audit:
            if c.action == "acknowledged":
                party = next((p for p, (by, t) in c.incident.acks.items() if by == c.who and t == c.time), c.who)
                first.setdefault(party, c.time)
                first.setdefault("", c.time)
            elif c.action == "resolved" and c.who == "system":
                resolved_by_system += 1
            elif c.action == "reopened":
                reopened += 1
        for party in inc.parties:
            slot = per_party.setdefault(party, AckTimes())
            slot.of += 1
            if party in first:
                slot.acknowledged += 1
                if opened is not None:
                    slot.seconds.append(max(0.0, (first[party] - opened).total_seconds()))
        if "" in first:
            ack.acknowledged += 1
            if opened is not None:
                ack.seconds.append(max(0.0, (first[""] - opened).total_seconds()))
    return IncidentFigures(store.name, len(incidents), by_kind, by_severity, by_status, ack,
                           dict(sorted(per_party.items())), incidents[:MAX_LISTED], resolved_by_system, reopened)


def _aware(period: Period) -> Period:
    from skyfence.incidents.model import utc

    return Period(utc(period.start), utc(period.end))
