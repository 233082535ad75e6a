"""A process that applies a fixed, seeded stream of updates to a store in small batches and reports
every batch it committed on stdout, one JSON line each: ``[[seq, incident_id, action], ...]``.
Run by the durability tests, which kill it with SIGKILL at random moments.

    python -m tests.incident_writer STORE_URL
"""

from __future__ import annotations

import json
import random
import sys
from datetime import timedelta

from skyfence.incidents import IncidentStore
from tests.incident_stores import T0, crossing, encounter

LEVELS = ("caution", "warning", "loss", "nmac")


def stream(seed: int = 11, incidents: int = 40) -> list[list]:
    """Batches of updates: crossings and encounters, each a few steps long, interleaved."""
    rng = random.Random(seed)
    updates = []
    for k in range(incidents):
        start = k * 300
        if k % 2:
            track = f"a{k:05x}"
            steps = [("crossing_warning", 0, "warning"), ("crossing_started", 60, "crossing"),
                     ("crossing_ended", 240, "deep_crossing")]
            updates += [crossing(e, start + s, sev, track_id=track, ended=e == "crossing_ended",
                                 key_time=T0 + timedelta(seconds=start), points=3) for e, s, sev in steps]
        else:
            pair = (f"b{k:05x}", f"c{k:05x}")
            levels = rng.sample(LEVELS, 3)
            updates += [encounter("level_changed", start + 20 * j, lv, pair=pair, key_time=T0 + timedelta(seconds=start))
                        for j, lv in enumerate(levels)]
            updates.append(encounter("encounter_ended", start + 100, levels[-1], pair=pair, ended=True,
                                     key_time=T0 + timedelta(seconds=start)))
    updates.sort(key=lambda u: u.time)
    batches, i = [], 0
    while i < len(updates):
        n = rng.randint(1, 4)
        batches.append(updates[i:i + n])
        i += n
    return batches


def main(url: str) -> None:
    with IncidentStore.open(url) as store:
        for batch in stream():
            changes = store.apply(batch, T0)
            print(json.dumps([[c.seq, c.incident_id, c.action] for c in changes]), flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
