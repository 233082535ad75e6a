"""Several results folders (say one ``analyze`` a day) read as one, for a report over a month.

Event tables and event tracks are stacked, with flight numbers made unique per folder (each
analysis numbers its flights from zero). The summaries are added up: records, states, flights
per party and per day, warning episodes per area. Aircraft are counted once per folder, so over
several folders they are aircraft-days. The folders must have been analysed under one agreement.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from skyfence.errors import SkyfenceError
from skyfence.report.results import Results

FLIGHT_STRIDE = 1 << 32
"""Added to flight numbers per folder: each analysis numbers flights from zero (UInt32)."""


def combine(parts: list[Results]) -> Results:
    """One ``Results`` holding every folder's events, figures added up."""
    if len(parts) == 1:
        return parts[0]
    names = sorted({p.agreement_name for p in parts})
    if len(names) > 1:
        raise SkyfenceError(f"the folders were analysed under different agreements ({', '.join(names)}): "
                            "report them one agreement at a time")
    _refuse_overlaps(parts)
    first = parts[0]

    def stack(tables: list[pl.DataFrame]) -> pl.DataFrame:
        tables = [_unique_flights(t, i) for i, t in enumerate(tables)]
        tables = [t for t in tables if t.width]
        return pl.concat(tables, how="diagonal_relaxed") if tables else pl.DataFrame()

    raw = {name: stack([p.raw[name] for p in parts]) for name in first.raw}
    views = {name: stack([getattr(p, name) for p in parts])
             for name in ("crossings", "encounters", "manoeuvres", "interactions")}
    notes = [f"{p.folder.name}: {n}" for p in parts for n in p.notes]
    return Results(Path(f"{len(parts)} folders, {parts[0].folder.name} to {parts[-1].folder.name}"),
                   add_summaries([p.summary for p in parts]), views["crossings"], views["encounters"],
                   views["manoeuvres"], views["interactions"], raw, stack([p.tracks for p in parts]),
                   next((p.agreement for p in parts if p.agreement), None), first.period, notes, len(parts))


def _refuse_overlaps(parts: list[Results]) -> None:
    """Folders whose analysed times overlap (the same folder twice, a day and an hour of it) would count the
    same events twice: refused, with the two named."""
    from datetime import datetime

    spans = []
    for p in parts:
        trk = p.summary.get("tracks", {})
        if trk.get("start") and trk.get("end"):
            spans.append((datetime.fromisoformat(trk["start"]), datetime.fromisoformat(trk["end"]), p.folder))
    spans.sort(key=lambda s: s[0])
    for k in range(1, len(spans)):
        s1, e1, f1 = spans[k]
        e0, _, f0 = max((e, s, f) for s, e, f in spans[:k])  # the one reaching furthest
        if s1 <= e0:
            raise SkyfenceError(f"results folders {f0} and {f1} overlap in time ({s1:%Y-%m-%d %H:%M} to "
                                f"{min(e0, e1):%Y-%m-%d %H:%M} UTC): their events would be counted twice")


def _unique_flights(table: pl.DataFrame, index: int) -> pl.DataFrame:
    if "flight_id" not in table.columns:
        return table
    return table.with_columns((pl.col("flight_id").cast(pl.Int64) + index * FLIGHT_STRIDE).alias("flight_id"))


def add_summaries(docs: list[dict]) -> dict:
    """The parts of several ``summary.json`` documents a report reads, added up."""
    first = docs[0]
    trk = [d.get("tracks", {}) for d in docs]
    starts = [t["start"] for t in trk if t.get("start")]
    ends = [t["end"] for t in trk if t.get("end")]
    by_party: dict[str, dict] = {}
    for t in trk:
        for party, v in t.get("by_party", {}).items():
            mine = by_party.setdefault(party, {})
            for k, n in v.items():
                mine[k] = mine.get(k, 0) + n
    per_day: dict[tuple[str, str], int] = {}
    for t in trk:
        for row in t.get("flights_per_day", []):
            per_day[(row["date"], row["party"])] = per_day.get((row["date"], row["party"]), 0) + row["count"]
    hours: dict[str, float] = {}
    for t in trk:
        for row in t.get("hours_per_day", []):
            hours[row["date"]] = hours.get(row["date"], 0.0) + row["hours"]
    episodes: dict[str, dict] = {}
    for d in docs:
        for zone, v in d.get("crossings", {}).get("warning", {}).get("episodes_by_zone", {}).items():
            mine = episodes.setdefault(zone, {"episodes": 0, "followed_by_crossing": 0})
            for k in mine:
                mine[k] += v.get(k, 0)
    inputs = [d.get("input", {}) for d in docs]
    return {
        "agreement": first.get("agreement", {}),
        "input": {"files": [f for i in inputs for f in i.get("files", [])],
                  "records_read": sum(i.get("records_read", 0) for i in inputs),
                  "records_dropped": sum(i.get("records_dropped", 0) for i in inputs)},
        "tracks": {"states": sum(t.get("states", 0) for t in trk), "aircraft": sum(t.get("aircraft", 0) for t in trk),
                   "flights": sum(t.get("flights", 0) for t in trk),
                   "simulated_states": sum(t.get("simulated_states", 0) for t in trk),
                   "start": min(starts) if starts else None,
                   "end": max(ends) if ends else None, "by_party": by_party,
                   "flights_per_day": [{"date": k[0], "party": k[1], "count": n} for k, n in sorted(per_day.items())],
                   **({"hours_per_day": [{"date": k, "hours": round(min(h, 24.0), 4)} for k, h in sorted(hours.items())]}
                      if all("hours_per_day" in t for t in trk) else {})},
        "crossings": {"warning": {"episodes_by_zone": episodes}},
        "encounters": {"settings": first.get("encounters", {}).get("settings", {})},
    }
