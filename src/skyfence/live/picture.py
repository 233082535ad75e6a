"""The current air picture: every aircraft's latest state and its recent track, for the web page.

The monitor updates it with every batch of states and calls the subscribers once per tick with the
picture's time. Reads are safe from other threads.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl

from skyfence.agreement.identify import address_country
from skyfence.tracks.arrays import floats
from skyfence.units import m_to_ft

FT_PER_M = 1 / 0.3048
KT_PER_MS = 3600 / 1852
FPM_PER_MS = 60 / 0.3048


class Picture:
    """Latest state per aircraft, and each aircraft's positions over the last ``keep`` seconds."""

    def __init__(self, keep: float = 1800.0, stale: float = 300.0) -> None:
        self.keep = keep
        self.stale = stale  # an aircraft silent this long leaves the picture
        self.time: datetime | None = None
        self.ended = False  # the monitor's recorded data has ended: the picture stays as it was
        self._latest: dict[str, dict] = {}
        self._tracks: dict[str, deque] = {}
        self._subscribers: list[Callable[[datetime], None]] = []
        self._lock = threading.Lock()

    def update(self, states: pl.DataFrame) -> None:
        """A batch of cleaned-row, identified states (canonical schema plus ``party``)."""
        if states.height == 0:
            return
        d = states.sort("time").select("track_id", "callsign", pl.col("party").cast(pl.String), "lon", "lat",
                                       "altitude", "ground_speed", "track", "vertical_rate", "on_ground", "time")
        latest = d.group_by("track_id").agg(pl.all().last())
        countries = dict(zip(latest["track_id"].to_list(),
                             address_country(latest["track_id"]).to_list()))
        with self._lock:
            for r in latest.iter_rows(named=True):
                prev = self._latest.get(r["track_id"])
                if prev is not None and prev["time"] > r["time"]:
                    continue
                self._latest[r["track_id"]] = {
                    "track_id": r["track_id"], "callsign": r["callsign"] or (prev or {}).get("callsign"),
                    "party": r["party"], "country": countries.get(r["track_id"]), "lat": r["lat"], "lon": r["lon"],
                    "alt_ft": _round(r["altitude"], FT_PER_M), "gs_kt": _round(r["ground_speed"], KT_PER_MS),
                    "track_deg": _round(r["track"], 1.0), "vrate_fpm": _round(r["vertical_rate"], FPM_PER_MS),
                    "time": r["time"], "on_ground": r["on_ground"]}
            for track, t, lat, lon, alt in zip(d["track_id"].to_list(), d["time"].to_list(), d["lat"].to_list(),
                                               d["lon"].to_list(), _feet(d["altitude"])):
                q = self._tracks.get(track)
                if q is None:
                    q = self._tracks[track] = deque()
                q.append((t, lat, lon, alt))
            t_max = d["time"].max()
            self.time = t_max if self.time is None or t_max > self.time else self.time

    def tick(self, now: datetime) -> None:
        """Drop what is too old, then tell the subscribers."""
        with self._lock:
            self.time = now if self.time is None or now > self.time else self.time
            cut = now - timedelta(seconds=self.keep)
            gone = now - timedelta(seconds=self.stale)
            for track in [k for k, v in self._latest.items() if v["time"] < gone]:
                del self._latest[track]
            for track in list(self._tracks):
                q = self._tracks[track]
                while q and q[0][0] < cut:
                    q.popleft()
                if not q:
                    del self._tracks[track]
            subscribers = list(self._subscribers)
        for cb in subscribers:
            cb(now)

    def aircraft(self) -> list[dict]:
        """track_id, callsign, party, country, lat, lon, alt_ft, gs_kt, track_deg, vrate_fpm, time, on_ground."""
        with self._lock:
            return [dict(v) for v in sorted(self._latest.values(), key=lambda v: v["track_id"])]

    def tracks(self, since: datetime | None = None) -> dict[str, list[tuple]]:
        """Each aircraft's positions ``(time, lat, lon, alt_ft)`` since ``since`` (all kept if None)."""
        with self._lock:
            return {k: [p for p in q if since is None or p[0] >= since] for k, q in self._tracks.items()
                    if since is None or (q and q[-1][0] >= since)}

    def subscribe(self, callback: Callable[[datetime], None]) -> None:
        """``callback(picture_time)`` once per tick."""
        with self._lock:
            self._subscribers.append(callback)

    def __len__(self) -> int:
        return len(self._latest)


def _feet(altitude: pl.Series) -> list[int | None]:
    """Altitudes (m) in whole feet, None where unknown: the column at once (a conversion and a rounding per state,
    in Python, was a third of taking in a batch)."""
    ft = np.round(m_to_ft(floats(altitude)))
    return [None if math.isnan(v) else int(v) for v in ft.tolist()]


def _round(v, factor: float):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return round(float(v) * factor, 1)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
