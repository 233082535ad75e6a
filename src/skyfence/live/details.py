"""What an incident update says: its figures (details) from an event's row, the entry a warning predicts, the
separation at an instant, the positions sent with it; times and figures as updates carry them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.live.contract import Aircraft, TrackPoint
from skyfence.units import m_to_ft, m_to_nm

TRACK_POINTS = 200  # at most, per aircraft
VIA_LINE_M = 100.0  # m: a predicted entry point this close to the line is across it (not the region's edge)


def seconds_of(t) -> float:
    if t is None:
        return math.nan
    return t.timestamp()


def utc(s: float) -> datetime:
    return datetime.fromtimestamp(s, timezone.utc)


def floor_utc(s: float) -> datetime:
    return datetime.fromtimestamp(math.floor(s), timezone.utc)


def figure(v, nd: int | None = None):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return round(float(v), nd) if nd is not None else float(v)


def shown(v, digits: int) -> str:
    """A figure for a summary; "?" when unknown (an aircraft without altitude)."""
    return "?" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def iso_text(s: float) -> str | None:
    if s is None or not math.isfinite(s):
        return None
    return utc(s).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def label(a: Aircraft) -> str:
    return a.callsign or a.track_id


def aircraft_of(row: dict) -> Aircraft:
    party = row.get("party")
    return Aircraft(row["track_id"], row.get("callsign"), str(party) if party is not None else None)


class LatestRows:
    """An aircraft's latest state up to a time, in a window of states: each aircraft's rows in time order,
    sorted once (a filter of the whole window for each warning took a seventh of a small run)."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.df = df
        keyed = df.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("i"), "track_id",
                          pl.col("time").dt.epoch("us").alias("us")).sort(["track_id", "us"], maintain_order=True)
        self._rows, self._us = keyed["i"].to_numpy(), keyed["us"].to_numpy()
        ids = keyed["track_id"]
        starts = np.flatnonzero(np.r_[True, (ids[1:] != ids[:-1]).to_numpy()]) if len(ids) else np.zeros(0, np.int64)
        ends = np.r_[starts[1:], len(ids)]
        self._span = dict(zip(ids.gather(starts).to_list(), zip(starts.tolist(), ends.tolist())))

    def last(self, track: str, time: datetime) -> dict:
        """The row of ``track`` latest at or before ``time`` (of those, the last given); its first row if none
        is that early (KeyError for an aircraft not in the window)."""
        s, e = self._span[track]
        k = s + int(np.searchsorted(self._us[s:e], _micros(time), side="right")) - 1
        return self.df.row(int(self._rows[k if k >= s else e - 1]), named=True)


def _micros(t: datetime) -> int:
    """A UTC time (naive: taken as UTC) in integer microseconds since 1970, as polars keeps it."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def predict_entry(row: dict, area, agreement: Agreement, lookahead: float) -> dict:
    """Where and when the aircraft's straight path from its latest warning state enters the area (the
    detector's own look-ahead, :meth:`first_hit`)."""
    gs, trk = row.get("ground_speed"), row.get("track")
    if gs is None or trk is None:
        return {}
    x, y = agreement.projection.forward(np.array([row["lon"]]), np.array([row["lat"]]))
    vx = np.array([gs * math.sin(math.radians(trk))], dtype=np.float64)
    vy = np.array([gs * math.cos(math.radians(trk))], dtype=np.float64)
    t_hit = area.area_index.first_hit(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), vx, vy,
                                      lookahead)
    if not np.isfinite(t_hit[0]):
        return {}
    th = float(t_hit[0])
    px, py = np.asarray(x, dtype=np.float64) + vx * th, np.asarray(y, dtype=np.float64) + vy * th
    lon, lat = agreement.projection.inverse(px, py)
    # a side is entered across the line or across the region's outer edge: only the first is crossing the line
    via_line = bool(area.depth_index.distance(px, py)[0] <= VIA_LINE_M) if area.kind == "side" else None
    return {"time_to_entry_s": round(th, 1), "predicted_entry_time": iso_text(row["time"].timestamp() + th),
            "via_line": via_line,
            "predicted_entry_lat": round(float(np.asarray(lat).ravel()[0]), 5),
            "predicted_entry_lon": round(float(np.asarray(lon).ravel()[0]), 5)}


def crossing_details(r: dict) -> dict:
    return {"zone": r["zone"], "area": r["zone"], "zone_kind": r["zone_kind"], "entry_kind": r["entry_kind"],
            "entry_time": iso_text(seconds_of(r["entry_time"])), "exit_time": iso_text(seconds_of(r["exit_time"])),
            "duration_s": figure(r["duration_s"], 1), "depth_km": figure(r["max_depth_km"], 3),
            "entry_lat": figure(r["entry_lat"], 5), "entry_lon": figure(r["entry_lon"], 5),
            "exit_lat": figure(r["exit_lat"], 5), "exit_lon": figure(r["exit_lon"], 5),
            "deepest_lat": figure(r["deepest_lat"], 5), "deepest_lon": figure(r["deepest_lon"], 5),
            "warning_lead_s": figure(r["warning_lead_s"], 1), "alt_min_ft": figure(r["alt_min_ft"], 0),
            "alt_max_ft": figure(r["alt_max_ft"], 0), "data_gap": bool(r["data_gap"]), "open": bool(r["open"]),
            **intent_details(r), "country": r.get("country")}


def intent_details(r: dict) -> dict:
    """The intent judged on a crossing, once it is over: judged on a crossing still going on, it reads the
    crossing so far ("was back out within 106 s" of an aircraft still inside)."""
    over = r["exit_time"] is not None and not r["open"]
    return {k: r.get(k) if over else None for k in ("intent", "intent_score", "intent_reasons")}


def encounter_details(r: dict) -> dict:
    return {"level": r["max_level"], "start_time": iso_text(seconds_of(r["start_time"])), "end_time": iso_text(seconds_of(r["end_time"])),
            "horizontal_nm": figure(r["min_horizontal_nm"], 3), "vertical_ft": figure(r["min_vertical_ft"], 0),
            "time_of_min": iso_text(seconds_of(r["time_of_min"])), "closest_horizontal_nm": figure(r["closest_horizontal_nm"], 3),
            "closest_vertical_ft": figure(r["closest_vertical_ft"], 0), "closest_time": iso_text(seconds_of(r["closest_time"])),
            "closest_above": r["closest_above"], "loss_time": iso_text(seconds_of(r["loss_time"])),
            "warning_time_s": figure(r["warning_time_s"], 1), "duration_s": figure(r["duration_s"], 1),
            "level_interpolated": bool(r["level_interpolated"]) if r["level_interpolated"] is not None else None}


def separation_at(df: pl.DataFrame, a: str, b: str, at: float, agreement: Agreement
                   ) -> tuple[float | None, float | None]:
    """Horizontal (NM) and vertical (ft) separation of two aircraft at their latest states in ``df`` up to ``at``
    (the encounter's latest instant: a run a tick after it would otherwise give figures from after its end)."""
    upto = pl.col("time") <= utc(at + 1e-3)
    last = df.filter(pl.col("track_id").is_in([a, b]) & upto).group_by("track_id").agg(
        pl.col("lon").last(), pl.col("lat").last(), pl.col("altitude").drop_nulls().last())
    if last.height != 2:
        return None, None
    x, y = agreement.projection.forward(last["lon"].to_numpy(), last["lat"].to_numpy())
    h = float(m_to_nm(np.hypot(x[1] - x[0], y[1] - y[0])))
    alt = last["altitude"].to_numpy()
    v = abs(float(m_to_ft(alt[1] - alt[0]))) if np.isfinite(alt).all() else None
    return round(h, 2), (round(v) if v is not None else None)


def track_points(df: pl.DataFrame, tracks: tuple[str, ...], since: float) -> tuple[TrackPoint, ...]:
    """The positions of the aircraft involved in the window, from a little before the event."""
    if df.height == 0:
        return ()
    lo = utc(since)
    pts = df.filter(pl.col("track_id").is_in(list(tracks)) & (pl.col("time") >= lo)).select(
        "track_id", "time", "lat", "lon", "altitude")
    out: list[TrackPoint] = []
    for (track,), part in pts.group_by("track_id", maintain_order=True):
        if part.height > TRACK_POINTS:
            part = part.gather_every(math.ceil(part.height / TRACK_POINTS))
        for t, tm, lat, lon, alt in part.iter_rows():
            out.append(TrackPoint(t, tm, lat, lon, round(float(m_to_ft(alt))) if alt is not None else None))
    return tuple(out)
