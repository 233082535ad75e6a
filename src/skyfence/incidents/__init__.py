"""Incidents: events become incidents with content-derived ids, a lifecycle, a severity and an audit
trail, kept in a store (SQLite by default, PostgreSQL for a team)."""

from skyfence.incidents.errors import NotAllowed, StoreError, StoreUnavailable, UnknownIncident
from skyfence.incidents.ids import incident_id
from skyfence.incidents.model import (
    KINDS, SEVERITIES, STATUSES, Aircraft, Change, EventUpdate, Incident, TrackPoint, change_json, incident_json,
)
from skyfence.incidents.store import IncidentStore

__all__ = ["KINDS", "SEVERITIES", "STATUSES", "Aircraft", "Change", "EventUpdate", "Incident", "IncidentStore",
           "NotAllowed", "StoreError", "StoreUnavailable", "TrackPoint", "UnknownIncident", "change_json",
           "incident_id", "incident_json"]
