"""The numbers of a report, computed from a results folder's tables by ``analyze``'s own summary functions.

With no period given they are the numbers of ``summary.json`` (a test holds them to it); with
``--from/--to`` they are the same figures over the events of that period. A report adds only
what the summary does not hold: each day including those with none, the mean and trend per day,
and the share of each party's flights (sorties) that crossed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import numpy as np
import polars as pl

from skyfence.analysis.summary import behaviour_figures, crossing_figures, encounter_figures
from skyfence.detect.crossings import WarningStats
from skyfence.report.columns import counted, ensure
from skyfence.report.results import Results

LEVELS = ("caution", "warning", "loss", "nmac")


@dataclass
class PartyCrossings:
    """One party's crossings over the period."""

    party: str
    name: str
    total: int
    daily: list[int]
    mean_per_day: float | None
    trend_per_day: float | None
    flights: int | None
    flights_crossed: int
    share_crossed: float | None


@dataclass
class Figures:
    """Everything a report counts."""

    days: list[date]
    crossings: dict
    encounters: dict
    behaviour: dict
    parties: list[PartyCrossings]
    other_kinds: dict[str, int]
    daily_total: list[int]
    mean_per_day: float | None
    trend_per_day: float | None
    flights_by_party: dict[str, int]
    hours: float | None = None  # hours of data within the period (from the first state to the last)

    @property
    def whole_days(self) -> bool:
        """The data covers its days (within an hour each): a figure "a day" means what it says."""
        return self.hours is None or not self.days or self.hours >= 24.0 * len(self.days) - len(self.days)


def compute(results: Results) -> Figures:
    """The figures of ``results`` over its period."""
    days = results.days()
    raw_cross = results.raw["crossings"]
    kept = counted(raw_cross) if raw_cross.width else raw_cross
    kept = ensure(kept, "crossings")
    cross_doc = crossing_figures(kept, _warning_stats(results.summary))
    enc_settings = results.summary.get("encounters", {}).get("settings", {})
    settings = SimpleNamespace(pairs=enc_settings.get("pairs"), step=enc_settings.get("step_s"),
                               level=enc_settings.get("level"), merge_gap=enc_settings.get("merge_gap_s"))
    enc_doc = encounter_figures(ensure(results.raw["encounters"], "encounters"), settings)
    beh_doc = behaviour_figures(kept, ensure(results.raw["manoeuvres"], "manoeuvres"),
                                ensure(results.raw["interactions"], "interactions"))
    view = results.crossings.filter(pl.col("entry_kind") == "crossed")
    others = results.crossings.filter(pl.col("entry_kind") != "crossed")
    other_kinds = dict(others.group_by("entry_kind").len().sort("entry_kind").iter_rows()) if others.height else {}
    flights = flights_in_period(results, days)
    parties = sorted(set(flights) | set(view["party"].drop_nulls().to_list()) | _agreement_parties(results))
    rows = [party_crossings(results, view, p, days, flights.get(p)) for p in parties if p != "unknown"]
    daily_total = list(np.sum([r.daily for r in rows], axis=0).astype(int)) if rows else [0] * len(days)
    total = int(sum(daily_total))
    return Figures(days, cross_doc, enc_doc, beh_doc, rows, other_kinds, [int(v) for v in daily_total],
                   total / len(days) if days else None, trend(daily_total), flights, covered_hours(results))


def covered_hours(results: Results) -> float | None:
    """Hours of data in the period: the hours each of its days holds, or (a period that cuts a day, or results
    from before those were kept) from the first state analysed to the last (None when the summary lacks them)."""
    from datetime import datetime

    trk = results.summary.get("tracks", {})
    if not trk.get("start") or not trk.get("end"):
        return None
    per_day = results.hours_per_day()
    if per_day is not None and not results.period.cuts_a_day:
        return sum(per_day.get(d, 0.0) for d in results.days())  # what the days hold, gaps left out
    start, end = datetime.fromisoformat(trk["start"]), datetime.fromisoformat(trk["end"])
    if results.period.start is not None:
        start = max(start, results.period.start)
    if results.period.end is not None:
        end = min(end, results.period.end)
    return max((end - start).total_seconds(), 0.0) / 3600.0


def party_crossings(results: Results, crossings: pl.DataFrame, party: str, days: list[date],
                    flights: int | None) -> PartyCrossings:
    """Counts per day (zeros included), mean, trend and share of flights for one party."""
    mine = crossings.filter(pl.col("party") == party)
    per_day = dict(mine.group_by(pl.col("entry_time").dt.date()).len().iter_rows()) if mine.height else {}
    daily = [int(per_day.get(d, 0)) for d in days]
    if mine.height and mine["flight_id"].null_count() < mine.height:
        crossed = mine.select("track_id", "flight_id").unique().height
    else:  # older results without flight numbers: one per aircraft and day
        crossed = mine.select("track_id", pl.col("entry_time").dt.date()).unique().height
    return PartyCrossings(party, results.party_name(party), mine.height, daily,
                          mine.height / len(days) if days else None, trend(daily), flights, crossed,
                          crossed / flights if flights else None)


def trend(daily: list[int]) -> float | None:
    """Least-squares slope of the daily counts, per day (None under two days)."""
    if len(daily) < 2:
        return None
    return float(np.polyfit(np.arange(len(daily), dtype=float), np.asarray(daily, dtype=float), 1)[0])


def flights_in_period(results: Results, days: list[date]) -> dict[str, int]:
    """Flights (sorties) per party that began on the days of the period, from ``summary.json`` (which counts them
    per UTC day: none for a period that cuts a day, whose flights it cannot tell)."""
    trk = results.summary.get("tracks", {})
    if results.period.cuts_a_day:
        return {}
    per_day = trk.get("flights_per_day")
    if per_day is None:  # results from before flights were counted per day
        if results.period.bounded:
            return {}
        return {p: v["flights"] for p, v in trk.get("by_party", {}).items() if "flights" in v}
    wanted = {d.isoformat() for d in days}
    out: dict[str, int] = {}
    for row in per_day:
        if row["date"] in wanted:
            out[row["party"]] = out.get(row["party"], 0) + int(row["count"])
    return out


def _agreement_parties(results: Results) -> set[str]:
    return set((results.agreement or {}).get("skyfence", {}).get("parties", {}))


def _warning_stats(summary: dict) -> dict[str, WarningStats]:
    zones = summary.get("crossings", {}).get("warning", {}).get("episodes_by_zone", {})
    return {k: WarningStats(v.get("episodes", 0), v.get("followed_by_crossing", 0)) for k, v in zones.items()}

