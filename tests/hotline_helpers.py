"""Shared pieces of the hotline tests: a message, a broker check, waiting."""

from __future__ import annotations

import socket
import time

import pytest

from skyfence.hotline.message import Message, message_body
from skyfence.hotline.signing import new_secret

SECRET = new_secret()


def incident_dict(incident_id="inc-1", status="open", kind="crossing", severity="crossing"):
    return {"id": incident_id, "kind": kind, "status": status, "severity": severity,
            "parties": ["russia_syria"],
            "aircraft": [{"track_id": "155a01", "callsign": "RFF90", "party": "russia_syria"},
                         {"track_id": "ae1234", "callsign": "RCH123", "party": "coalition"}],
            "lat": 35.45, "lon": 40.3, "start_time": "2017-11-01T06:04:12Z", "end_time": None,
            "summary": "RFF90 crossed the Euphrates", "details": {"depth_km": 3.1}}


def message(msg_id="msg-1", channel="test", party="coalition", **kw) -> Message:
    inc = incident_dict(**kw)
    body = message_body(message_id=msg_id, type_="notification", incident=inc, event="crossing_started",
                        time="2017-11-01T06:04:12Z", party=party, involved=party in inc["parties"],
                        contact="duty", text=f"text of {msg_id}", place="11 NM NE of Dayr az Zawr", ack_url=None)
    body["positions"] = {"155a01": {"lat": 35.46, "lon": 40.28, "alt_ft": 21000.0}}
    return Message(msg_id, channel, inc["id"], party, body)


def broker(host="127.0.0.1", port=1883) -> None:
    """Skip with the reason when no MQTT broker answers."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"MQTT broker {host}:{port} unreachable: {exc}")


def wait_for(predicate, timeout=10.0, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
