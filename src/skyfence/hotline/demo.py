"""The hotline part of ``skyfence demo``: a scripted exchange on a real store with real receivers.

Two crossings of the Euphrates: a coalition aircraft west of the river and a Russian one east of it.
Each party's operations centre is a local webhook receiver that checks the signatures. The coalition
acknowledges at once with the signed link in its message; nobody answers on the Russian side, so the
message is re-sent after 3 minutes and escalated to the deputy commander after 6, who then
acknowledges by command. Grouping and acknowledgement run on a simulated clock (eight minutes in a
few seconds); the messages are real HTTP requests.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from skyfence.agreement import load_agreement
from skyfence.hotline.ackserver import AckServer
from skyfence.hotline.receivers import WebhookReceiver
from skyfence.hotline.service import Hotline
from skyfence.hotline.signing import new_secret
from skyfence.incidents import Aircraft, EventUpdate, IncidentStore, TrackPoint, incident_id

T0 = datetime(2017, 11, 1, 6, 4, 12, tzinfo=timezone.utc)


def _crossing(track_id: str, callsign: str, party: str, lat: float, lon: float, depth_km: float,
              area: str) -> EventUpdate:
    track = tuple(TrackPoint(track_id, T0 - timedelta(seconds=20 * k), lat - 0.01 * k, lon - 0.02 * k, 24000.0)
                  for k in range(3))
    return EventUpdate(
        incident_id=incident_id("crossing", track_id, area, T0), kind="crossing", event="crossing_started", time=T0,
        severity="crossing", aircraft=(Aircraft(track_id, callsign, party),), parties=(party,), lat=lat, lon=lon,
        start_time=T0, end_time=None, ended=False, summary=f"{callsign} crossed the Euphrates",
        details={"area": area, "depth_km": depth_km}, track=track)


@dataclasses.dataclass
class Exchange:
    """What happened, in order: (simulated time, who, what)."""

    lines: list[tuple[str, str, str]]
    audit: dict[str, list[tuple[str, str, str]]]
    store: Path


def run_hotline_demo(out_dir: Path) -> Exchange:
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "hotline.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    secret = new_secret()
    store = IncidentStore.open(db)
    clock = [T0.timestamp()]
    ack = AckServer(store, clock=lambda: clock[0]).start()
    lines: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def when() -> str:
        return datetime.fromtimestamp(clock[0], timezone.utc).strftime("%H:%M:%S")

    def heard(name: str, acknowledge: bool):
        def on_message(body: dict) -> None:
            with lock:
                lines.append((when(), f"{body['party']} / {name}", f"{body['type']}: {body['message']}"))
            if acknowledge and body.get("ack_url"):
                r = httpx.post(body["ack_url"], json={"by": "Lt Col Hayes, CAOC duty officer"})
                with lock:
                    lines.append((when(), f"{body['party']} / {name}", f"acknowledged with the link: {r.text.strip()}"))
        return on_message

    rx = {"CAOC duty officer": WebhookReceiver(secret, on_message=heard("CAOC duty officer", True)),
          "CAOC chief of operations": WebhookReceiver(secret, on_message=heard("CAOC chief of operations", False)),
          "Hmeimim operations duty officer": WebhookReceiver(
              secret, on_message=heard("Hmeimim operations duty officer", False)),
          "Hmeimim deputy commander": WebhookReceiver(secret, on_message=heard("Hmeimim deputy commander", False))}
    base = load_agreement("euphrates-2017")
    parties = tuple(dataclasses.replace(p, contacts=tuple(dataclasses.replace(c, channels=(rx[c.name].url,))
                                                          for c in p.contacts)) for p in base.parties)
    agreement = dataclasses.replace(base, parties=parties)
    hot = Hotline(store, agreement, clock=lambda: clock[0], ack_base=ack.base_url,
                  env={"SKYFENCE_WEBHOOK_SECRET": secret})
    hot.open_channels()
    try:
        store.apply([_crossing("ae01c5", "RCH871", "coalition", 34.52, 40.78, 4.2, "russia_syria-side"),
                     _crossing("155a3f", "RFF90", "russia_syria", 35.41, 40.27, 3.1, "coalition-side")])
        escalated = None
        for _ in range(8 * 6 + 1):  # eight simulated minutes in 10 s steps
            report = hot.step()
            for w in hot.workers.values():
                w.send_due()
            time.sleep(0.05)  # the scripted parties answer
            if report.escalations and escalated is None:
                escalated = clock[0]
            if escalated is not None and clock[0] >= escalated + 60:
                rus = _crossing("155a3f", "RFF90", "russia_syria", 35.41, 40.27, 3.1, "coalition-side").incident_id
                store.acknowledge(rus, by="Maj Gen Orlov, Hmeimim deputy commander", party="russia_syria",
                                  why="escalated to me; the aircraft is turning back",
                                  at=datetime.fromtimestamp(clock[0], timezone.utc))
                lines.append((when(), "russia_syria / Hmeimim deputy commander",
                              "acknowledged by command: skyfence incidents ack ... --party russia_syria"))
                escalated = float("inf")
            clock[0] += 10
        audit = {inc.id: [(c.time.strftime("%H:%M:%S"), c.who, c.why or c.action) for c in store.audit(inc.id)]
                 for inc in store.incidents()}
    finally:
        hot.stop(drain=0)
        ack.close()
        for r in rx.values():
            r.close()
        store.close()
    return Exchange(lines, audit, db)
