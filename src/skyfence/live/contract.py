"""What the monitor hands to the incident store: the shared interface of issue 11, from the store's own
package (:mod:`skyfence.incidents`), in one place so the live modules import it from here."""

from __future__ import annotations

from skyfence.incidents.errors import StoreUnavailable
from skyfence.incidents.ids import incident_id
from skyfence.incidents.model import SEVERITIES, Aircraft, EventUpdate, TrackPoint

__all__ = ["Aircraft", "EventUpdate", "SEVERITIES", "StoreUnavailable", "TrackPoint", "incident_id"]
