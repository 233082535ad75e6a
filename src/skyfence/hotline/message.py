"""One hotline message as every channel receives it: a JSON body (the webhook's, MQTT's payload, the
log's line) from which the Cursor on Target event and the console row are drawn."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """A message in the outbox: ``id`` is the same on every attempt (receivers drop repeats on it)."""

    id: str
    channel: str
    incident_id: str
    party: str
    body: dict

    @property
    def data(self) -> bytes:
        """The body as compact JSON bytes (what is signed and sent)."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @property
    def status(self) -> str:
        return self.body.get("status", "open")

    @property
    def kind(self) -> str:
        return self.body.get("kind", "")


def message_body(*, message_id: str, type_: str, incident: dict, event: str, time: str | None, party: str,
                 involved: bool, contact: str, text: str, place: str, ack_url: str | None) -> dict:
    """The JSON body: the fields every receiver can rely on, then the incident's details."""
    return {
        "id": message_id, "type": type_, "incident_id": incident["id"], "event": event,
        "kind": incident["kind"], "severity": incident["severity"], "status": incident["status"],
        "parties": incident["parties"], "aircraft": incident["aircraft"], "time": time,
        "lat": incident["lat"], "lon": incident["lon"], "place": place, "message": text,
        "party": party, "involved": involved, "contact": contact, "ack_url": ack_url,
        "start_time": incident.get("start_time"), "end_time": incident.get("end_time"),
        "summary": incident.get("summary"), "details": incident.get("details") or {},
    }
