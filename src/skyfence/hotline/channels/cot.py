"""Cursor on Target to a TAK server (``cot+tcp://``) or a multicast/unicast UDP listener (``cot+udp://``).

A message becomes an alarm event (``b-a-g`` for a crossing, a geofence breach; ``b-a`` otherwise) at
the incident's position, uid ``skyfence-<incident id>`` (a repeat updates the same alarm; a resolved
incident's alarm goes stale at once), with the text in ``<remarks>`` and the message id in
``<skyfence>``; and each aircraft involved as an air track (``a-f-A`` for the receiving party's own,
``a-n-A`` another party's, ``a-u-A`` unknown) linked to the alarm. Over TCP a message counts as sent
when the kernel has taken it and the listener had not closed the connection; TAK does not answer.
"""

from __future__ import annotations

import select
import socket
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape, quoteattr

from skyfence.hotline.channels.base import DeliveryError
from skyfence.hotline.message import Message
from skyfence.hotline.urls import ChannelURL

STALE = timedelta(minutes=10)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event(uid: str, type_: str, lat: float, lon: float, hae: float | None, now: datetime, stale: datetime,
           detail: str) -> str:
    h = f"{hae:.1f}" if hae is not None else "9999999.0"
    return (f'<event version="2.0" uid={quoteattr(uid)} type="{type_}" how="m-g" time="{_stamp(now)}" '
            f'start="{_stamp(now)}" stale="{_stamp(stale)}"><point lat="{lat:.6f}" lon="{lon:.6f}" hae="{h}" '
            f'ce="9999999.0" le="9999999.0"/><detail>{detail}</detail></event>')


def cot_events(message: Message, now: datetime | None = None) -> list[bytes]:
    """The alarm and the involved aircraft's tracks for one message, as CoT XML events."""
    b = message.body
    now = now or datetime.now(timezone.utc)
    resolved = b.get("status") == "resolved"
    stale = now if resolved else now + STALE
    alarm_uid = f"skyfence-{b['incident_id']}"
    positions = b.get("positions") or {}
    tracks, links = [], []
    for a in b.get("aircraft", []):
        affil = "f" if a.get("party") == b.get("party") else ("n" if a.get("party") else "u")
        uid = f"ICAO-{a['track_id'].upper()}" if len(a["track_id"]) == 6 else a["track_id"]
        p = positions.get(a["track_id"]) or {"lat": b["lat"], "lon": b["lon"], "alt_ft": None}
        hae = p["alt_ft"] * 0.3048 if p.get("alt_ft") is not None else None
        call = a.get("callsign") or a["track_id"]
        links.append(f'<link uid={quoteattr(uid)} type="a-{affil}-A" relation="r-u"/>')
        tracks.append(_event(uid, f"a-{affil}-A", p["lat"], p["lon"], hae, now, now + STALE,
                             f"<contact callsign={quoteattr(call)}/><__group name={quoteattr(a.get('party') or 'unknown')}"
                             f' role="Team Member"/>'))
    callsign = f"{b['severity'].upper()} {b['kind']} {b['incident_id'][:12]}"
    alarm = _event(alarm_uid, "b-a-g" if b.get("kind") == "crossing" else "b-a", b["lat"], b["lon"], None, now,
                   stale, f"<contact callsign={quoteattr(callsign)}/>{''.join(links)}"
                          f"<remarks>{escape(b.get('message', ''))}</remarks>"
                          f"<skyfence message_id={quoteattr(message.id)} incident_id={quoteattr(b['incident_id'])}"
                          f" event={quoteattr(b.get('event') or '')} status={quoteattr(b.get('status', ''))}"
                          f" severity={quoteattr(b['severity'])} party={quoteattr(b.get('party', ''))}/>")
    return [e.encode("utf-8") for e in [alarm, *tracks]]


class CoTChannel:
    def __init__(self, url: ChannelURL, timeout: float = 5.0) -> None:
        self.name = url.text
        self.udp = url.scheme == "cot+udp"
        self.address = (url.host, url.port)
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def _tcp(self) -> socket.socket:
        s = self._sock
        if s is not None:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:  # a TAK server sends nothing: readable means closed (or reset)
                try:
                    gone = s.recv(4096, socket.MSG_PEEK) == b""
                except OSError:
                    gone = True
                if gone:
                    self._drop()
                    s = None
        if s is None:
            try:
                s = socket.create_connection(self.address, timeout=self.timeout)
            except OSError as exc:
                raise DeliveryError(f"cannot connect to {self.name}: {exc.strerror or exc}") from None
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = s
        return s

    def send(self, message: Message) -> None:
        events = cot_events(message)
        try:
            if self.udp:
                if self._sock is None:
                    family = socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET
                    self._sock = socket.socket(family, socket.SOCK_DGRAM)
                    if family == socket.AF_INET:
                        self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
                for e in events:
                    self._sock.sendto(e, self.address)
            else:
                self._tcp().sendall(b"".join(events))
        except OSError as exc:
            self._drop()
            raise DeliveryError(f"{self.name}: {exc.strerror or exc}") from None

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def close(self) -> None:
        self._drop()
