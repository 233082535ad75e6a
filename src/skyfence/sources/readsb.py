"""readsb / tar1090 / dump1090-fa ``aircraft.json``, the ADS-B Exchange v2 / adsb.lol API (``ac``), readsb traces.

A snapshot lists every aircraft the receiver knows, each with the age of its
position (``seen_pos``): the position's time is ``now - seen_pos``, so the same
position seen in successive snapshots is one state, not several. Altitude may
be ``"ground"``; a hex starting with ``~`` is not an ICAO address (TIS-B,
anonymous) and is kept as it is. A recording is one snapshot per file, or one
snapshot per line.

A trace (``traces/xx/trace_full_<hex>.json``) is one aircraft: ``timestamp``
plus points ``[dt, lat, lon, alt, gs, track, flags, vertical_rate, details,
...]``; flag bit 1 marks a stale position, ``details`` carries the callsign.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.sources.states import MESSAGE_SCHEMA, to_canonical
from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import json_documents, json_number
from skyfence.tracks.schema import drop_invalid_times

TRACE_STALE = 1


def snapshot_messages(doc: dict, bad: Counter) -> dict[str, list]:
    """One snapshot (``aircraft`` or ``ac`` list) as message-table columns (aviation units)."""
    cols: dict[str, list] = {c: [] for c in MESSAGE_SCHEMA}
    now = json_number(doc.get("now"))
    aircraft = doc.get("aircraft", doc.get("ac"))
    if now is None or not isinstance(aircraft, list):
        bad["snapshot without now or aircraft"] += 1 if not isinstance(aircraft, list) else max(len(aircraft), 1)
        return cols
    if now > 1e11:  # the ADS-B Exchange v2 API gives milliseconds
        now = now / 1000.0
    for ac in aircraft:
        if not isinstance(ac, dict):
            bad["malformed aircraft entry"] += 1
            continue
        lat, lon, hexid = ac.get("lat"), ac.get("lon"), ac.get("hex")
        if lat is None or lon is None:
            bad["aircraft without position"] += 1
            continue
        lat, lon = json_number(lat), json_number(lon)
        seen = ac.get("seen_pos", ac.get("seen", 0.0))
        if not isinstance(hexid, str) or not hexid.strip() or lat is None or lon is None or json_number(seen) is None:
            bad["malformed aircraft entry"] += 1
            continue
        cols["time"].append(now - json_number(seen))
        cols["icao24"].append(hexid.strip().lower())
        flight = ac.get("flight")
        cols["callsign"].append(flight.strip() or None if isinstance(flight, str) else None)
        cols["lat"].append(float(lat))
        cols["lon"].append(float(lon))
        alt = ac.get("alt_baro", ac.get("altitude"))
        ground = alt == "ground"
        cols["altitude"].append(0.0 if ground else json_number(alt))
        cols["groundspeed"].append(json_number(ac.get("gs", ac.get("speed"))))  # "speed": older dump1090
        cols["track"].append(json_number(ac.get("track")))
        cols["vertical_rate"].append(json_number(ac.get("baro_rate", ac.get("geom_rate", ac.get("vert_rate")))))
        cols["on_ground"].append(True if ground else (False if alt is not None else None))
    return cols


def trace_messages(doc: dict, bad: Counter) -> dict[str, list]:
    """A readsb trace file as message-table columns (stale points are counted and left out)."""
    cols: dict[str, list] = {c: [] for c in MESSAGE_SCHEMA}
    base, icao, trace = json_number(doc.get("timestamp")), doc.get("icao"), doc.get("trace")
    if base is None or not isinstance(icao, str) or not icao.strip() or not isinstance(trace, list):
        raise InputError("not a readsb trace (expected icao, timestamp and trace)")
    callsign = None
    for point in trace:
        if not isinstance(point, list) or len(point) < 8:
            bad["malformed trace point"] += 1
            continue
        dt, lat, lon, alt, gs, track, flags, vrate = point[:8]
        details = point[8] if len(point) > 8 else None
        if isinstance(details, dict) and isinstance(details.get("flight"), str):
            callsign = details["flight"].strip() or callsign
        if any(json_number(v) is None for v in (dt, lat, lon)):
            bad["malformed trace point"] += 1
            continue
        if isinstance(flags, int) and not isinstance(flags, bool) and flags & TRACE_STALE:
            bad["stale position (trace flag)"] += 1
            continue
        ground = alt == "ground"
        cols["time"].append(base + dt)
        cols["icao24"].append(icao.strip().lower())
        cols["callsign"].append(callsign)
        cols["lat"].append(float(lat))
        cols["lon"].append(float(lon))
        cols["altitude"].append(0.0 if ground else json_number(alt))
        cols["groundspeed"].append(json_number(gs))
        cols["track"].append(json_number(track))
        cols["vertical_rate"].append(json_number(vrate))
        cols["on_ground"].append(True if ground else (False if alt is not None else None))
    return cols


def read_readsb(path: str | Path) -> tuple[pl.DataFrame, ReadReport]:
    """An ``aircraft.json`` snapshot, a file of snapshots one per line, or a readsb trace, as canonical states."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    frames = []
    for doc in json_documents(path, report.dropped):
        if not isinstance(doc, dict):
            report.dropped["snapshot without now or aircraft"] += 1
            continue
        if "trace" in doc:
            try:
                cols = trace_messages(doc, report.dropped)
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
            report.rows_read += len(doc["trace"])
        else:
            cols = snapshot_messages(doc, report.dropped)
            entries = doc.get("aircraft", doc.get("ac"))
            report.rows_read += len(entries) if isinstance(entries, list) else 0
        frames.append(pl.DataFrame(cols, schema=MESSAGE_SCHEMA))
    msgs = pl.concat(frames) if frames else pl.DataFrame(schema=MESSAGE_SCHEMA)
    return to_canonical(drop_invalid_times(msgs, report.dropped), path.name), report


def to_snapshots(states: pl.DataFrame, period: float = 1.0, api: bool = False) -> list[dict]:
    """Canonical states as receiver snapshots every ``period`` s (``aircraft.json``, or with ``api`` the
    ADS-B Exchange v2 ``ac`` form with ``now`` in ms). Each snapshot holds each aircraft's latest state."""
    d = states.sort("time").with_columns((pl.col("time").dt.epoch("us") / 1e6).alias("_t"))
    d = d.with_columns(((pl.col("_t") / period).floor() * period + period).alias("_now"))
    d = d.group_by("_now", "track_id", maintain_order=True).last()
    out = []
    for (now,), group in d.group_by("_now", maintain_order=True):
        aircraft = []
        for r in group.iter_rows(named=True):
            entry = {"hex": r["track_id"], "lat": round(r["lat"], 6), "lon": round(r["lon"], 6),
                     "seen_pos": round(now - r["_t"], 3), "seen": round(now - r["_t"], 3)}
            if r["callsign"]:
                entry["flight"] = f"{r['callsign']:<8}"
            if r["on_ground"]:
                entry["alt_baro"] = "ground"
            elif r["altitude"] is not None:
                entry["alt_baro"] = int(round(r["altitude"] / 0.3048))
            if r["ground_speed"] is not None:
                entry["gs"] = round(r["ground_speed"] / (1852 / 3600), 1)
            if r["track"] is not None:
                entry["track"] = round(r["track"], 2)
            if r["vertical_rate"] is not None:
                entry["baro_rate"] = int(round(r["vertical_rate"] / 0.00508))
            aircraft.append(entry)
        if api:
            out.append({"ac": aircraft, "msg": "No error", "now": int(round(now * 1000)), "total": len(aircraft)})
        else:
            out.append({"now": now, "messages": 0, "aircraft": aircraft})
    return out
