"""Hotline latency: 1,000 incident updates a minute go to the store while the hotline sends each as a
message over a signed webhook (a receiver in another process) and MQTT (the broker at 127.0.0.1:1883)
at once. The figure is the time from the update (just before ``store.apply``) to the message leaving
(the channel's ``send`` returned: HTTP 2xx received, MQTT PUBACK received), p50 and p99 per channel,
with the load average of the machine."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path


def _serve_webhook(secret: str, port_out, stop) -> None:
    from skyfence.hotline.receivers import WebhookReceiver

    rx = WebhookReceiver(secret)
    port_out.put(rx.port)
    stop.wait()
    port_out.put(len(rx.unique))
    rx.close()


def _updates(n: int):
    """``n`` updates: each incident warned, then started (every update a change, every change a message)."""
    from skyfence.incidents import Aircraft, EventUpdate, incident_id

    t0 = datetime(2017, 11, 1, 6, 0, tzinfo=timezone.utc)
    out = []
    for k in range(n):
        i, started = k // 2, k % 2 == 1
        key_time = t0 + timedelta(seconds=i)
        track = f"4b{i:04x}"
        out.append(EventUpdate(
            incident_id=incident_id("crossing", track, "coalition-side", key_time), kind="crossing",
            event="crossing_started" if started else "crossing_warning", time=key_time + timedelta(seconds=30 * started),
            severity="crossing" if started else "warning", aircraft=(Aircraft(track, f"RFF{i}", "russia_syria"),),
            parties=("russia_syria",), lat=35.4, lon=40.27, start_time=key_time, end_time=None, ended=False,
            summary=f"RFF{i}", details={"zone": "coalition-side", "zone_kind": "side", "depth_km": 2.0}))
    return out


def bench_hotline(seconds: float = 60.0, per_minute: int = 1000, mqtt_url: str = "mqtt://127.0.0.1:1883") -> dict:
    import dataclasses

    import numpy as np

    from skyfence.agreement import load_agreement
    from skyfence.agreement.model import HotlineSettings
    from skyfence.hotline.service import Hotline
    from skyfence.hotline.signing import new_secret
    from skyfence.incidents import IncidentStore

    secret = new_secret()
    ports, stop = multiprocessing.Queue(), multiprocessing.Event()
    server = multiprocessing.Process(target=_serve_webhook, args=(secret, ports, stop), daemon=True)
    server.start()
    webhook = f"http://127.0.0.1:{ports.get(timeout=30)}/hotline"
    mqtt = f"{mqtt_url.rstrip('/')}/skyfence-bench-{uuid.uuid4().hex[:8]}"
    base = load_agreement("euphrates-2017")
    # every update its own message: no gathering wait, no repeat interval (the worst case for the hotline)
    ag = dataclasses.replace(base, hotline=HotlineSettings(group_wait=0.0, repeat_interval=0.0))
    n = int(per_minute * seconds / 60)
    updates = _updates(n)
    applied: dict[int, tuple[str, float]] = {}
    sent: list[tuple[str, str, str, int, float]] = []
    queued: dict[str, list[float]] = {}
    lock = threading.Lock()

    def on_sent(row, t):
        with lock:
            sent.append((row.channel, row.incident_id, row.party, row.change_seq, t))
            queued.setdefault(row.channel, []).append(t - row.created_at)

    with tempfile.TemporaryDirectory() as tmp:
        store = IncidentStore.open(Path(tmp) / "bench.db")
        hot = Hotline(store, ag, alert_channels=(webhook, mqtt), env={"SKYFENCE_WEBHOOK_SECRET": secret},
                      on_sent=on_sent).start()
        load_before = os.getloadavg()
        interval = 60.0 / per_minute
        start = time.perf_counter()
        for k, u in enumerate(updates):
            due = start + k * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            t0 = time.time()
            changes = store.apply([u])
            with lock:
                for c in changes:
                    applied[c.seq] = (c.incident_id, t0)
        fed = time.perf_counter() - start
        hot.drain(60)
        time.sleep(0.5)
        load_after = os.getloadavg()
        hot.stop()
        from skyfence.hotline import outbox

        counts = outbox.counts(store.engine)
        store.close()
    stop.set()
    received = ports.get(timeout=30)
    server.join(10)

    # an update has left when the first message on a channel to a party that tells of it (its change or a
    # later one of the same incident, when grouping gathered several) has left
    latency: dict[str, list[float]] = {webhook: [], mqtt: []}
    first: dict[tuple, list[tuple[int, float]]] = {}
    for ch, inc, party, seq, t in sent:
        if seq is not None:
            first.setdefault((ch, inc, party), []).append((seq, t))
    for (ch, inc, party), msgs in first.items():
        msgs.sort()
        for seq0, (inc0, t0) in applied.items():
            if inc0 == inc:
                t = next((t for s, t in msgs if s >= seq0), None)
                if t is not None:
                    latency[ch].append(t - t0)

    def pct(xs, q):
        return round(float(np.percentile(np.array(xs) * 1000, q)), 1) if xs else None

    out = {"bench": "hotline", "updates": n, "seconds_feeding": round(fed, 1), "rate_per_minute": per_minute,
           "messages_per_channel": {"webhook": sum(x[0] == webhook for x in sent),
                                    "mqtt": sum(x[0] == mqtt for x in sent)},
           "update_deliveries_timed": {"webhook": len(latency[webhook]), "mqtt": len(latency[mqtt])},
           "webhook_received_unique": received,
           "outbox": {f"{'webhook' if c == webhook else 'mqtt'}:{s}": k for (c, s), k in counts.items()}}
    for name, ch in (("webhook", webhook), ("mqtt", mqtt)):
        out[f"{name}_p50_ms"] = pct(latency[ch], 50)
        out[f"{name}_p99_ms"] = pct(latency[ch], 99)
        out[f"{name}_max_ms"] = pct(latency[ch], 100)
        out[f"{name}_in_outbox_p50_ms"] = pct(queued.get(ch, []), 50)
        out[f"{name}_in_outbox_p99_ms"] = pct(queued.get(ch, []), 99)
    both = latency[webhook] + latency[mqtt]
    out["all_p50_ms"], out["all_p99_ms"] = pct(both, 50), pct(both, 99)
    out["load_average_before"] = [round(x, 2) for x in load_before]
    out["load_average_after"] = [round(x, 2) for x in load_after]
    out["cpus"] = os.cpu_count()
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(bench_hotline(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)))
