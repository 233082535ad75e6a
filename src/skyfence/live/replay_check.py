"""The monitor held to ``analyze``: the incidents of a replay as event tables, and how they differ.

:func:`final_events` takes every update a run emitted and keeps, per incident, what its last updates
say (the aircraft, the area or kind, the start, the end or exit, a crossing's depth, the highest level); :func:`differences`
lists, one line each, the events of an analysis the monitor did not give the same way (same aircraft
and pairs, entry and exit within ``tolerance`` seconds, the same depths, same highest levels) and those it gave that the
analysis has not. An empty list is the property the live path promises.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

LEVELS = ("none", "caution", "warning", "loss", "nmac")


def final_events(updates: Iterable) -> dict[str, list[dict]]:
    """Per kind, one dict per incident: ``tracks``, ``what`` (area, manoeuvre or interaction), ``start``,
    ``end`` (None while it goes on), ``level`` (encounters), ``crossed`` (crossings)."""
    by_id: dict[str, dict] = {}
    for u in updates:
        e = by_id.setdefault(u.incident_id, {"id": u.incident_id, "kind": u.kind, "level": 0, "crossed": False,
                                             "entry": None, "exit": None, "start": None, "end": None})
        d = u.details
        if u.kind == "crossing":
            e["tracks"] = (u.aircraft[0].track_id,)
            e["what"] = d.get("zone")
            if u.event in ("crossing_started", "crossing_ended"):
                e["crossed"] = e["crossed"] or d.get("entry_kind") == "crossed"
                e["entry_kind"] = d.get("entry_kind")
                e["entry"] = _t(d.get("entry_time"))
                e["exit"] = _t(d.get("exit_time")) if u.event == "crossing_ended" else e["exit"]
                e["depth"] = d.get("depth_km")
        elif u.kind == "encounter":
            e["tracks"] = tuple(sorted(a.track_id for a in u.aircraft))
            e["what"] = "encounter"
            e["level"] = max(e["level"], LEVELS.index(d.get("level", "none")))
            e["start"] = _t(d.get("start_time"))
        else:
            e["tracks"] = tuple(a.track_id for a in u.aircraft)
            e["what"] = d.get("type")
            e["start"] = _t(d.get("start_time"))
            e["end"] = _t(d.get("end_time")) if u.ended else e["end"]
    out: dict[str, list[dict]] = {"crossing": [], "encounter": [], "manoeuvre": [], "interaction": []}
    for e in by_id.values():
        if e["kind"] == "crossing" and e["entry"] is None:
            continue  # a warning with no crossing (analyze counts these apart, not as crossings)
        out[e["kind"]].append(e)
    return out


def _t(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _s(v) -> float | None:
    return None if v is None else v.timestamp()


def analysis_events(crossings: pl.DataFrame, encounters: pl.DataFrame, manoeuvres: pl.DataFrame,
                    interactions: pl.DataFrame) -> dict[str, list[dict]]:
    """The same dicts from ``analyze``'s tables."""
    out: dict[str, list[dict]] = {"crossing": [], "encounter": [], "manoeuvre": [], "interaction": []}
    for r in crossings.iter_rows(named=True):
        out["crossing"].append({"tracks": (r["track_id"],), "what": r["zone"], "entry": _s(r["entry_time"]),
                                "exit": _s(r["exit_time"]) if not r["open"] else None,
                                "crossed": r["entry_kind"] == "crossed", "entry_kind": r["entry_kind"],
                                "depth": r["max_depth_km"]})
    for r in encounters.iter_rows(named=True):
        out["encounter"].append({"tracks": tuple(sorted((r["track_a"], r["track_b"]))), "what": "encounter",
                                 "start": _s(r["start_time"]), "level": LEVELS.index(r["max_level"])})
    for r in manoeuvres.iter_rows(named=True):
        out["manoeuvre"].append({"tracks": (r["track_id"],), "what": r["manoeuvre"], "start": _s(r["start_time"]),
                                 "end": _s(r["end_time"])})
    for r in interactions.iter_rows(named=True):
        out["interaction"].append({"tracks": (r["track_id"], r["other_track_id"]), "what": r["interaction"],
                                   "start": _s(r["start_time"]), "end": _s(r["end_time"])})
    return out


def differences(monitor: dict[str, list[dict]], analysis: dict[str, list[dict]], tolerance: float = 1.0,
                kinds: Iterable[str] = ("crossing", "encounter", "manoeuvre", "interaction")) -> list[str]:
    """What one side has that the other has not, one line each (empty: the same events)."""
    lines = []
    for kind in kinds:
        left = list(monitor.get(kind, []))
        for a in analysis.get(kind, []):
            m = _find(a, left, kind, tolerance)
            if m is None:
                lines.append(f"{kind} missing from the monitor: {_show(a)}")
                continue
            left.remove(m)
            if kind == "crossing":
                if (a["exit"] is None) != (m["exit"] is None) or (
                        a["exit"] is not None and abs(a["exit"] - m["exit"]) > tolerance):
                    lines.append(f"crossing exit differs: analyze {_show(a)}, monitor {_show(m)}")
                elif a.get("depth") is not None and m.get("depth") is not None and abs(a["depth"] - m["depth"]) > 0.01:
                    lines.append(f"crossing depth differs: analyze {_show(a)}, monitor {_show(m)}")
            if kind == "encounter" and a["level"] != m["level"]:
                lines.append(f"encounter level differs: analyze {_show(a)}, monitor {_show(m)}")
        for m in left:
            lines.append(f"{kind} only in the monitor: {_show(m)}")
    return lines


def _find(a: dict, pool: list[dict], kind: str, tolerance: float) -> dict | None:
    at = "entry" if kind == "crossing" else "start"
    best, gap = None, None
    for m in pool:
        if m["tracks"] != a["tracks"] or m["what"] != a["what"] or m[at] is None or a[at] is None:
            continue
        d = abs(m[at] - a[at])
        if d <= tolerance and (gap is None or d < gap):
            best, gap = m, d
    return best


def _show(e: dict) -> str:
    def t(v):
        return None if v is None else datetime.utcfromtimestamp(v).strftime("%m-%d %H:%M:%S")

    keys = {k: (t(v) if k in ("entry", "exit", "start", "end") else v) for k, v in e.items()
            if k in ("tracks", "what", "entry", "exit", "start", "end", "level", "entry_kind", "depth")}
    return str(keys)
