"""The OpenSky Network REST API's ``/states/all`` answer: ``{"time": T, "states": [[...], ...]}``.

Each state: ``icao24, callsign, origin_country, time_position, last_contact,
longitude, latitude, baro_altitude, on_ground, velocity, true_track,
vertical_rate, sensors, geo_altitude, squawk, spi, position_source[,
category]`` in SI units. The state's time is ``time_position`` (when the
position was last updated), so a position repeated by later answers is one
state. A recording is one answer per file, or one per line. The historical
``state_vectors_data4`` tables are read by :mod:`skyfence.sources.tabular`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from skyfence.sources.tabular import ReadReport
from skyfence.sources.textio import json_documents, json_number
from skyfence.tracks.schema import conform, drop_invalid_times, time_from_seconds

FIELDS = ["icao24", "callsign", "origin_country", "time_position", "last_contact", "lon", "lat", "baro_altitude",
          "on_ground", "velocity", "true_track", "vertical_rate", "sensors", "geo_altitude", "squawk", "spi",
          "position_source"]


def states_rows(doc: dict, bad: Counter) -> dict[str, list]:
    """One REST answer as canonical columns (SI); states without a position or its time are counted."""
    cols: dict[str, list] = {c: [] for c in ("time", "track_id", "callsign", "lon", "lat", "altitude",
                                             "ground_speed", "track", "vertical_rate", "on_ground")}
    states = doc.get("states")
    if states is None and "time" in doc:  # OpenSky's answer when no aircraft is in the box: an empty sky
        return cols
    if not isinstance(states, list):
        bad["answer without states"] += 1
        return cols
    for s in states:
        if not isinstance(s, list) or len(s) < 12:
            bad["malformed state"] += 1
            continue
        row = dict(zip(FIELDS, s))
        if row["lat"] is None or row["lon"] is None or row["time_position"] is None:
            bad["state without position"] += 1
            continue
        t, lat, lon, icao = json_number(row["time_position"]), json_number(row["lat"]), json_number(row["lon"]), \
            row["icao24"]
        if t is None or lat is None or lon is None or not isinstance(icao, str) or not icao.strip():
            bad["malformed state"] += 1
            continue
        cols["time"].append(t)
        cols["lat"].append(lat)
        cols["lon"].append(lon)
        cols["track_id"].append(icao.strip().lower())
        cs = row["callsign"]
        cols["callsign"].append(cs.strip() or None if isinstance(cs, str) else None)
        alt = row["baro_altitude"] if row["baro_altitude"] is not None else row.get("geo_altitude")
        cols["altitude"].append(json_number(alt))
        cols["ground_speed"].append(json_number(row["velocity"]))
        cols["track"].append(json_number(row["true_track"]))
        cols["vertical_rate"].append(json_number(row["vertical_rate"]))
        cols["on_ground"].append(row["on_ground"] if isinstance(row["on_ground"], bool) else None)
    return cols


def read_opensky_json(path: str | Path) -> tuple[pl.DataFrame, ReadReport]:
    """Recorded REST answers (one per file, or one per line) as canonical states."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    docs = json_documents(path, report.dropped)
    frames = []
    for doc in docs:
        cols = states_rows(doc if isinstance(doc, dict) else {}, report.dropped)
        frames.append(pl.DataFrame(cols, schema={"time": pl.Float64, "track_id": pl.String, "callsign": pl.String,
                                                 "lon": pl.Float64, "lat": pl.Float64, "altitude": pl.Float64,
                                                 "ground_speed": pl.Float64, "track": pl.Float64,
                                                 "vertical_rate": pl.Float64, "on_ground": pl.Boolean}))
    df = pl.concat(frames, how="diagonal_relaxed")
    report.rows_read = df.height + sum(report.dropped.values())
    df = drop_invalid_times(df, report.dropped)
    df = df.with_columns(time_from_seconds(pl.col("time")), pl.lit(path.name).alias("source"))
    return conform(df), report


def to_states_answer(states: pl.DataFrame, at: float) -> dict:
    """Canonical states as one REST answer at Unix time ``at`` (for replays and tests)."""
    rows = []
    for r in states.iter_rows(named=True):
        t = r["time"].timestamp()
        rows.append([r["track_id"], f"{r['callsign'] or '':<8}", "", t, t, r["lon"], r["lat"], r["altitude"],
                     bool(r["on_ground"]), r["ground_speed"], r["track"], r["vertical_rate"], None, None, None,
                     False, 0])
    return {"time": int(at), "states": rows}
