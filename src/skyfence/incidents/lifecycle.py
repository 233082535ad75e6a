"""The lifecycle of an incident, as pure functions on :class:`Incident` (the store persists them).

::

    (event starts) -> open --ack--> acknowledged          a raised severity needs a new
                       |  \\            |                   acknowledgement: acknowledged -> open
                       |   `--resolve--+--> resolved
                       |                    ^   |
    event ended, quiet period passed -------'   `-- flares up again (the event goes on after it had
                                                    ended, or its severity rises) -> reopened -> open

- Opened by the first update of an event; every later update of the same incident updates it.
- ``severity`` is the highest seen; a rise is its own change (``severity_raised``). The summary, the
  position and the details are those of the most severe update (the latest of equals; an equal one adds
  its figures to those known): a warning that
  lapsed after a crossing of the same aircraft does not make the crossing read "no crossing"; the
  lesser update is in the audit trail.
- Acknowledged per party: ``acks`` keeps who acknowledged for each party (or for themselves when no
  party is given); the first acknowledgement makes the incident ``acknowledged``.
- Resolved by hand at any time, or by the system once the event has ended and the quiet period
  has passed with nothing new (:func:`due`).
- A new event of the same aircraft (and area) within the quiet period after one ended continues
  that incident rather than opening another; if it had been resolved, it is reopened.

Each function returns the changes it made as ``(action, why)`` pairs; an update that changes nothing
returns none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from skyfence.incidents.model import SYSTEM, EventUpdate, Incident, human, incident_json
from skyfence.incidents.severity import highest, rank

Step = tuple[str, str]  # (action, why)
PREDICTION = ("time_to_entry_s", "predicted_entry_time", "predicted_entry_lat", "predicted_entry_lon", "via_line",
              "warning_start", "warning_end")
"""A crossing warning's figures: those of the latest warning, even when a lesser one merged in."""
_VOLATILE = ("updated_at", "last_update_time")


def _union(old: tuple, new: tuple) -> tuple:
    return tuple(dict.fromkeys((*old, *new)))


def _aircraft_union(old, new) -> tuple:
    """The aircraft of both, once each by track id; a later callsign or party fills a missing one."""
    by_id = {a.track_id: a for a in old}
    for a in new:
        known = by_id.get(a.track_id)
        if known is None:
            by_id[a.track_id] = a
        elif (known.callsign is None and a.callsign) or (known.party is None and a.party):
            by_id[a.track_id] = type(a)(a.track_id, known.callsign or a.callsign, known.party or a.party)
    return tuple(by_id.values())


def open_incident(u: EventUpdate, quiet_period: float) -> tuple[Incident, list[Step]]:
    """The incident the first update of an event opens."""
    inc = Incident(
        id=u.incident_id, kind=u.kind, status="open", severity=u.severity, parties=tuple(u.parties),
        aircraft=_aircraft_union((), u.aircraft), start_time=u.start_time, end_time=u.end_time,
        lat=u.lat, lon=u.lon, summary=u.summary, details=dict(u.details), opened_at=u.time, updated_at=u.time,
        last_event=u.event, last_update_time=u.time)
    if u.ended:
        inc.ended_at, inc.quiet_until = u.time, u.time + timedelta(seconds=quiet_period)
    return inc, [("opened", u.summary)]


def apply_update(inc: Incident, u: EventUpdate, quiet_period: float) -> list[Step]:
    """Apply a later update of the same event (or of a flare-up) to ``inc`` in place."""
    before = incident_json(inc)
    old_severity = inc.severity
    inc.severity = highest(inc.severity, u.severity)
    inc.parties = _union(inc.parties, tuple(u.parties))
    inc.aircraft = _aircraft_union(inc.aircraft, u.aircraft)
    flared = lesser = False
    stale = inc.last_update_time is not None and u.time < inc.last_update_time
    if not stale:  # an update older than the last one only adds aircraft, parties and severity
        flared = inc.ended_at is not None and not u.ended
        inc.start_time = min(inc.start_time, u.start_time)
        inc.end_time = u.end_time
        if _tells_more(inc, u, old_severity):
            inc.lat, inc.lon, inc.summary = u.lat, u.lon, u.summary
            inc.details = {**inc.details, **u.details}
        else:  # a lesser event merged in (a warning that lapsed after a crossing): the worst stays told (its
            lesser = True  # figures too: a lapsed warning's "crossed: false" would contradict it); the audit has it
            # but a prediction is the latest one (a new warning's 94 s to entry, not the first warning's 163 s)
            if u.event == "crossing_warning" and not u.ended:  # what it does not predict (no track) is not known
                inc.details = {**inc.details, **{k: u.details.get(k) for k in PREDICTION}}
        inc.last_event, inc.last_update_time = u.event, u.time
        if u.ended:
            inc.ended_at, inc.quiet_until = u.time, u.time + timedelta(seconds=quiet_period)
        else:
            inc.ended_at = inc.quiet_until = None
    raised = rank(inc.severity) > rank(old_severity)
    steps: list[Step] = []
    if inc.status == "resolved" and not u.ended and (flared or raised):
        why = (f"flared up again: {u.summary}" if flared
               else f"severity rose to {inc.severity} after it was resolved: {u.summary}")
        _clear(inc, status="open")
        steps.append(("reopened", why))
    elif raised:
        why = f"{old_severity} -> {inc.severity}: {u.summary}"
        if inc.status == "acknowledged":
            _clear(inc, status="open")
            why += " (needs a new acknowledgement)"
        steps.append(("severity_raised", why))
    elif flared:
        steps.append(("updated", f"flared up again within the quiet period: {u.summary}"))
    elif lesser or _differs(before, incident_json(inc)):
        steps.append(("updated", u.summary))
    if steps:
        inc.updated_at = u.time
    return steps


def _tells_more(inc: Incident, u: EventUpdate, old_severity: str) -> bool:
    """Whether ``u`` is what the incident should now say (its summary, position and figures): the worst so far;
    but in a crossing incident, an aircraft seen inside over a prediction: a warning after it was inside does not
    hide the stay, and the first sight of it inside (a caution when not seen to cross) is told over the warning
    before it (an aircraft 78 km inside for 11 minutes read "warning for lowcost-side over, no crossing"; user
    trial)."""
    if inc.kind == "crossing":
        if u.event == "crossing_warning" and "entry_kind" in inc.details:  # it has been inside
            return False
        if u.event in ("crossing_started", "crossing_ended") and rank(old_severity) <= rank("warning"):
            return True  # nothing worse than a prediction told yet: any sight of it inside is more
    return rank(u.severity) >= rank(old_severity)


def _differs(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k not in _VOLATILE} != {k: v for k, v in b.items() if k not in _VOLATILE}


def _clear(inc: Incident, status: str) -> None:
    inc.status = status
    inc.acks = {}
    inc.resolved_at = inc.resolved_by = inc.resolved_severity = None


def acknowledge(inc: Incident, by: str, party: str | None, why: str, at: datetime) -> Step:
    """``by`` acknowledges for ``party`` (or for themselves); a resolved incident stays resolved; a second
    acknowledgement for the same party keeps the first one's time (it is in the audit trail all the same)."""
    inc.acks.setdefault(party or by, (by, at))
    if inc.status == "open":
        inc.status = "acknowledged"
    inc.updated_at = at
    # who acknowledged is the change's own field ("acknowledged by X" on the page): the why says for whom and why
    return "acknowledged", (f"for {party}" if party else "") + (": " if party and why else "") + why


def resolve(inc: Incident, by: str, why: str, at: datetime) -> Step:
    """``by`` resolves the incident by hand."""
    inc.status, inc.resolved_at, inc.resolved_by, inc.resolved_severity = "resolved", at, by, inc.severity
    inc.updated_at = at
    return "resolved", why or f"resolved by {by}"


def due(inc: Incident, now: datetime) -> bool:
    """Whether the system resolves ``inc`` at ``now``: its event ended and the quiet period passed."""
    return inc.status != "resolved" and inc.quiet_until is not None and inc.quiet_until <= now


def auto_resolve(inc: Incident) -> Step:
    """Resolve ``inc`` as the system, at the end of its quiet period."""
    at = inc.quiet_until
    quiet_period = (inc.quiet_until - inc.ended_at).total_seconds()
    inc.status, inc.resolved_at, inc.resolved_by, inc.resolved_severity = "resolved", at, SYSTEM, inc.severity
    inc.updated_at = at
    return "resolved", (f"the event ended at {human(inc.ended_at)} and nothing new came within the quiet period "
                        f"({quiet_period:g} s)")


def comment(inc: Incident, at: datetime) -> None:
    inc.comments += 1
    inc.updated_at = at
