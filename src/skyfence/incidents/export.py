"""Incidents as CSV rows, JSON and GeoJSON (the position of each incident, and the track of each
aircraft involved around it), for ``skyfence incidents list`` and ``export``."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from skyfence.incidents.model import Change, Incident, TrackPoint, change_json, incident_json, iso

FT = 0.3048
CSV_COLUMNS = ("id", "kind", "status", "severity", "parties", "aircraft", "callsigns", "start_time", "end_time",
               "lat", "lon", "summary", "acknowledged_by", "acknowledged_at", "opened_at", "updated_at", "last_event",
               "last_update_time", "ended_at", "quiet_until", "resolved_at", "resolved_by", "resolved_severity",
               "comments", "aliases", "details")
"""Every field of :func:`incident_json`, flat, in its order (``aircraft`` as ids and callsigns, ``acks`` as who
and when for each party)."""


def tracks_by_aircraft(points: Sequence[TrackPoint]) -> dict[str, list[TrackPoint]]:
    """An incident's track points, per aircraft in time order."""
    by: dict[str, list[TrackPoint]] = defaultdict(list)
    for p in sorted(points, key=lambda p: (p.track_id, p.time)):
        by[p.track_id].append(p)
    return dict(by)


def track_coordinates(points: Sequence[TrackPoint]) -> list:
    """RFC 7946 positions ``[lon, lat, altitude m]`` (no altitude where none was reported)."""
    from skyfence.report.export import positions  # with polars: only an export needs it, not a listing

    return positions(np.array([[p.lon, p.lat, p.alt_ft * FT if p.alt_ft is not None else np.nan] for p in points],
                              dtype=float))

def _deg(v: float | None) -> float | None:
    """A latitude or longitude to 6 decimals (0.1 m), as the other exports write them."""
    return None if v is None or not math.isfinite(v) else round(v, 6)


def csv_row(inc: Incident) -> dict[str, object]:
    """One flat row: lists joined with ``;``, details as JSON."""
    return {
        "id": inc.id, "kind": inc.kind, "status": inc.status, "severity": inc.severity,
        "parties": ";".join(inc.parties), "aircraft": ";".join(a.track_id for a in inc.aircraft),
        "callsigns": ";".join(a.callsign or "" for a in inc.aircraft),
        "start_time": iso(inc.start_time), "end_time": iso(inc.end_time) or "", "lat": _deg(inc.lat),
        "lon": _deg(inc.lon), "summary": inc.summary,
        "acknowledged_by": ";".join(f"{p}={by}" for p, (by, _t) in sorted(inc.acks.items())),
        "acknowledged_at": ";".join(f"{p}={iso(t)}" for p, (_by, t) in sorted(inc.acks.items())),
        "opened_at": iso(inc.opened_at), "updated_at": iso(inc.updated_at), "last_event": inc.last_event or "",
        "last_update_time": iso(inc.last_update_time) or "", "ended_at": iso(inc.ended_at) or "",
        "quiet_until": iso(inc.quiet_until) or "", "resolved_at": iso(inc.resolved_at) or "",
        "resolved_by": inc.resolved_by or "", "resolved_severity": inc.resolved_severity or "",
        "comments": inc.comments, "aliases": ";".join(inc.aliases),
        "details": json.dumps(inc.details, sort_keys=True, default=str),
    }


def to_csv(incidents: Sequence[Incident]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for inc in incidents:
        writer.writerow(csv_row(inc))
    return buf.getvalue()


def to_json(incidents: Sequence[Incident], audit: Callable[[str], list[Change]] | None = None,
            track: Callable[[str], list[TrackPoint]] | None = None) -> str:
    """A JSON array of :func:`incident_json`, with each one's audit trail and track when asked."""
    out = []
    for inc in incidents:
        d = incident_json(inc)
        if audit is not None:
            d["audit"] = [{k: v for k, v in change_json(c).items() if k != "incident"} for c in audit(inc.id)]
        if track is not None:
            d["track"] = [{"track_id": p.track_id, "time": iso(p.time), "lat": p.lat, "lon": p.lon,
                           "alt_ft": p.alt_ft} for p in track(inc.id)]
        out.append(d)
    return json.dumps(out, indent=1, default=str) + "\n"


def to_geojson(incidents: Sequence[Incident], track: Callable[[str], list[TrackPoint]]) -> dict:
    """A FeatureCollection: a Point per incident (``feature: incident``) and a LineString per aircraft
    involved (``feature: track``), coordinates ``[lon, lat, altitude m]`` (see
    :func:`skyfence.report.export.with_altitudes` where some are unknown)."""
    features = []
    for inc in incidents:
        props = {k: v for k, v in incident_json(inc).items() if k not in ("lat", "lon")}
        props["aircraft"] = ";".join(a.track_id for a in inc.aircraft)
        props["callsigns"] = ";".join(a.callsign or "" for a in inc.aircraft)  # as the CSV has them
        props["parties"] = ";".join(inc.parties)
        known = inc.lat is not None and inc.lon is not None and math.isfinite(inc.lat) and math.isfinite(inc.lon)
        features.append({"type": "Feature", "id": inc.id, "properties": {"feature": "incident", **props},
                         "geometry": {"type": "Point", "coordinates": [_deg(inc.lon), _deg(inc.lat)]} if known else None})
        who = {a.track_id: a for a in inc.aircraft}
        for track_id, points in tracks_by_aircraft(track(inc.id)).items():
            coords = track_coordinates(points)
            if len({tuple(c) for c in coords}) < 2:
                geometry = {"type": "Point", "coordinates": coords[0]}
            else:
                geometry = {"type": "LineString", "coordinates": coords}
            a = who.get(track_id)
            features.append({"type": "Feature", "properties": {
                "feature": "track", "incident_id": inc.id, "kind": inc.kind, "severity": inc.severity,
                "track_id": track_id, "callsign": a.callsign if a else None, "party": a.party if a else None,
                "start": iso(points[0].time), "end": iso(points[-1].time), "points": len(points),
                "times": [iso(p.time) for p in points]}, "geometry": geometry})
    return {"type": "FeatureCollection", "name": "skyfence incidents", "features": features}
