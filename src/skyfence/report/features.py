"""Events as map features: points and tracks with altitude, for GeoJSON, KML and CSV exports.

Crossings give their entry point and the track while beyond the line (entry point, the states
inside, exit point); encounters the closest point and both aircraft's tracks around it;
interactions their position and both tracks while they lasted. Tracks come from the results
folder's ``event_tracks.parquet``; an aircraft's whole track from the original track files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from skyfence.report.maps import TrackIndex, closest_position
from skyfence.report.results import Results

AROUND_CLOSEST = timedelta(minutes=5)


@dataclass
class Feature:
    """One point or line: ``coords`` are rows of lon, lat, altitude (m, NaN when unknown)."""

    event_id: str
    feature: str  # entry, track_inside | closest_point, track_a, track_b | position, track, other_track | flight
    geometry: str  # Point or LineString
    coords: np.ndarray
    party: str | None
    properties: dict
    start: datetime | None = None
    end: datetime | None = None


def _props(row: dict) -> dict:
    """JSON-ready properties: times as ISO 8601 UTC, non-finite numbers as None."""
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            out[k] = v.isoformat().replace("+00:00", "Z")
        elif isinstance(v, float) and not math.isfinite(v):
            out[k] = None
        else:
            out[k] = v
    return out


def _track_coords(piece: pl.DataFrame | None) -> np.ndarray:
    if piece is None or piece.height == 0:
        return np.empty((0, 3))
    alt = piece["altitude"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    return np.column_stack([piece["lon"].to_numpy(), piece["lat"].to_numpy(), alt])


def _point(lon, lat, alt=float("nan")) -> np.ndarray:
    return np.array([[lon, lat, alt]], dtype=float)


def _alt_at(coords: np.ndarray) -> float:
    ok = coords[:, 2][np.isfinite(coords[:, 2])] if len(coords) else coords
    return float(ok[0]) if len(ok) else float("nan")


def _alt_near(tracks: TrackIndex, track_ids: tuple[str, ...], t) -> float:
    """Mean altitude (m) of the aircraft at their states nearest ``t`` (within a minute); NaN if none."""
    alts = []
    for tid in track_ids:
        piece = tracks.piece(tid, t - timedelta(minutes=1), t + timedelta(minutes=1)) if t is not None else None
        if piece is not None:
            times = piece["time"].dt.epoch("us").to_numpy()
            alt = piece["altitude"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
            alts.append(alt[int(np.argmin(np.abs(times - t.timestamp() * 1e6)))])
    ok = [a for a in alts if math.isfinite(a)]
    return float(np.mean(ok)) if ok else float("nan")


def crossing_features(results: Results, tracks: TrackIndex) -> list[Feature]:
    out = []
    for i, r in enumerate(results.crossings.sort("entry_time").iter_rows(named=True)):
        eid = f"crossing-{i + 1}"
        props = _props({"event": "crossing", **r})
        inside = _track_coords(tracks.piece(r["track_id"], r["entry_time"], r["end_time"]))
        alt = _alt_at(inside)
        ends = [p for p in (_point(r["entry_lon"], r["entry_lat"], alt),) if r["entry_lon"] is not None]
        tail = [_point(r["exit_lon"], r["exit_lat"], inside[-1, 2] if len(inside) else alt)] \
            if r["exit_lon"] is not None else []
        line = np.vstack([*ends, inside, *tail]) if (ends or len(inside) or tail) else np.empty((0, 3))
        if ends:
            out.append(Feature(eid, "entry", "Point", ends[0], r["party"], props, r["entry_time"], r["entry_time"]))
        if len(line) > 1:
            out.append(Feature(eid, "track_inside", "LineString", line, r["party"], props, r["entry_time"],
                               r["end_time"]))
    return out


def encounter_features(results: Results, tracks: TrackIndex, around: timedelta = AROUND_CLOSEST) -> list[Feature]:
    out = []
    for i, r in enumerate(results.encounters.sort("start_time").iter_rows(named=True)):
        eid = f"encounter-{i + 1}"
        props = _props({"event": "encounter", **r})
        t = r["closest_time"]
        lon, lat = closest_position(r, tracks)
        if lon is not None:
            alt = _alt_near(tracks, (r["track_a"], r["track_b"]), t)
            out.append(Feature(eid, "closest_point", "Point", _point(lon, lat, alt), None, props, t, t))
        if t is None:
            continue
        for side in ("a", "b"):
            line = _track_coords(tracks.piece(r[f"track_{side}"], t - around, t + around))
            if len(line) > 1:
                out.append(Feature(eid, f"track_{side}", "LineString", line, r[f"party_{side}"],
                                   {**props, "track_id": r[f"track_{side}"], "callsign": r[f"callsign_{side}"],
                                    "party": r[f"party_{side}"]}, t - around, t + around))
    return out


def interaction_features(results: Results, tracks: TrackIndex) -> list[Feature]:
    out = []
    for i, r in enumerate(results.interactions.sort("start_time").iter_rows(named=True)):
        eid = f"interaction-{i + 1}"
        props = _props({"event": r["interaction"], **r})
        if r["lon"] is not None:
            mid = r["start_time"] + (r["end_time"] - r["start_time"]) / 2 if r["end_time"] else r["start_time"]
            alt = _alt_near(tracks, (r["track_id"], r["other_track_id"]), mid)
            out.append(Feature(eid, "position", "Point", _point(r["lon"], r["lat"], alt), r["party"], props,
                               r["start_time"], r["end_time"]))
        for who, tid, party in (("track", r["track_id"], r["party"]),
                                ("other_track", r["other_track_id"], r["other_party"])):
            line = _track_coords(tracks.piece(tid, r["start_time"], r["end_time"]))
            if len(line) > 1:
                out.append(Feature(eid, who, "LineString", line, party, {**props, "track_id": tid, "party": party},
                                   r["start_time"], r["end_time"]))
    return out


def event_features(results: Results) -> list[Feature]:
    """Crossings, encounters and interactions of a results folder, as features."""
    tracks = TrackIndex(results.tracks)
    return crossing_features(results, tracks) + encounter_features(results, tracks) + \
        interaction_features(results, tracks)


PIECE_GAP_S = 300.0  # s: a track is drawn as separate lines across a gap longer than this


def aircraft_features(states: pl.DataFrame, icao24: str) -> list[Feature]:
    """One aircraft's track, one line per flight (a new flight after a long gap), cut into pieces where no state
    came for ``PIECE_GAP_S`` (the states kept around separate events of one flight are not joined by a straight
    line it never flew)."""
    out = []
    mine = states.filter(pl.col("track_id") == icao24).sort("time")
    key = "flight_id" if "flight_id" in mine.columns else None
    groups = mine.partition_by(key, maintain_order=True) if key else [mine]
    for i, flight in enumerate(groups):
        if flight.height == 0:
            continue
        cut = flight.select((pl.col("time").diff().dt.total_seconds(fractional=True) > PIECE_GAP_S)
                            .fill_null(False).cum_sum().alias("_piece"))["_piece"]
        pieces = flight.with_columns(cut).partition_by("_piece", maintain_order=True, include_key=False)
        for j, piece in enumerate(pieces):
            callsigns = piece["callsign"].drop_nulls().unique().to_list() if "callsign" in piece.columns else []
            party = piece["party"].cast(pl.String)[0] if "party" in piece.columns else None
            start, end = piece["time"][0], piece["time"][-1]
            props = _props({"event": "flight", "track_id": icao24, "callsign": ", ".join(sorted(callsigns)) or None,
                            "party": party, "start_time": start, "end_time": end, "states": piece.height,
                            **({"piece": j + 1, "pieces": len(pieces)} if len(pieces) > 1 else {})})
            coords = _track_coords(piece)
            fid = f"{icao24}-flight-{i + 1}" + (f"-{j + 1}" if len(pieces) > 1 else "")
            out.append(Feature(fid, "flight", "LineString" if len(coords) > 1 else "Point",
                               coords if len(coords) > 1 else coords[:1], party, props, start, end))
    return out
