"""An update as one JSON object (``monitor --updates``, logs and tests)."""

from __future__ import annotations

from skyfence.incidents.model import iso


def update_json(u) -> dict:
    return {"incident_id": u.incident_id, "kind": u.kind, "event": u.event, "time": iso(u.time),
            "severity": u.severity, "aircraft": [{"track_id": a.track_id, "callsign": a.callsign, "party": a.party}
                                                 for a in u.aircraft],
            "parties": list(u.parties), "lat": u.lat, "lon": u.lon, "start_time": iso(u.start_time),
            "end_time": iso(u.end_time), "ended": u.ended, "summary": u.summary, "details": u.details,
            "track_points": len(u.track)}
