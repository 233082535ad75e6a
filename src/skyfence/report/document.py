"""The report as one self-contained HTML document: numbers, tables and inline SVG figures in a template."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from markupsafe import Markup, escape

from skyfence.report.claims import Checked
from skyfence.report.figures import LEVELS, Figures
from skyfence.report.results import Results
from skyfence.report.style import INTENT_COLOURS, LEVEL_COLOURS

MAX_ROWS = 100
"""Rows listed in a table of events; the rest are in the CSV files."""
SECTIONS = {"crossings": 1, "encounters": 2, "behaviour": 3, "warnings": 4, "claims": 5, "incidents": 6}
LEVEL_WORDS = {"caution": "a predicted close approach within the caution distance",
               "warning": "a predicted loss of separation within the look-ahead",
               "loss": "separation lost", "nmac": "a near mid-air collision"}


@dataclass
class Figured:
    """Figures numbered in the order the document shows them."""

    svgs: dict[str, str]
    shown: list[str] = field(default_factory=list)

    def __call__(self, name: str, caption: str) -> Markup:
        svg = self.svgs.get(name)
        if svg is None:
            return Markup("")
        self.shown.append(name)
        n = len(self.shown)
        return Markup(f'<figure id="fig-{escape(name)}">{svg}<figcaption><b>Figure {n}.</b> {escape(caption)}'
                      f"</figcaption></figure>")


def num(v, digits: int = 1) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def signed(v, digits: int = 2) -> str:
    return "–" if v is None else f"{v:+.{digits}f}"


def pct(v) -> str:
    return "–" if v is None else f"{v:.1%}"


def seconds(v) -> str:
    return "–" if v is None else f"{v:.0f} s"


def _time(t) -> str:
    return "–" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def _length(m: float | None, fallback: str) -> str:
    if m is None:
        return fallback
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


BETWEEN = {"parties": "two aircraft of different parties",
           "unknown": "two aircraft of different parties, or of a party and of none",
           "all": "any two aircraft (the results were made with every pair, whatever their parties)"}
"""Which pairs an encounter or interaction is between, by the ``pairs`` setting the results were made with."""


def context(results: Results, fig: Figures, checked: list[Checked], svgs: dict[str, str], incidents=None) -> dict:
    """Everything the template shows (``incidents``: the incidents section's figures, or None)."""
    s = results.summary
    th = (results.agreement or {}).get("skyfence", {}).get("thresholds", {})
    cross_th = th.get("crossing", {})
    title = (results.agreement or {}).get("skyfence", {}).get("title") or results.agreement_name
    days_text = _days_text(fig)
    trk = s.get("tracks", {})
    enc_level = s.get("encounters", {}).get("settings", {}).get("level") or "warning"
    period_text = (f"{results.period.start.isoformat() if results.period.start else 'the start'} to "
                   f"{results.period.end.isoformat() if results.period.end else 'the end'} (end excluded)")
    inp = s.get("input", {})
    return {
        "title": f"Deconfliction report: {title}",
        "subtitle": f"{days_text} · agreement {results.agreement_name} · results {results.folder.name}",
        "footer": f"skyfence report · {results.agreement_name} · {days_text}",
        "fig": fig, "claims": checked, "sections": SECTIONS,
        "days_text": days_text, "num": num, "signed": signed, "pct": pct, "seconds": seconds,
        "figure": Figured(svgs),
        "levels_present": [(lv, fig.encounters["by_level"][lv]) for lv in LEVELS if lv in fig.encounters["by_level"]],
        "interaction_kinds": _kinds(fig.behaviour["interactions"]["by_kind_and_party"]),
        "manoeuvre_kinds": _kinds(fig.behaviour["manoeuvres"]["by_kind_and_party"]),
        "intent_counts": ", ".join(f"{k} {v}" for k, v in fig.behaviour.get("crossing_intent", {}).items()),
        "traffic": {"aircraft": f"{trk.get('aircraft', 0):,}",
                    "flights": f"{sum(fig.flights_by_party.values()):,}" if fig.flights_by_party
                    else f"{trk.get('flights', 0):,}",
                    "states": f"{trk.get('states', 0):,}",
                    # aircraft and states are counted over the whole results, not by day: said with a period
                    "scope": (" in all the results analysed (the flights: those of the period)"
                              if results.period.bounded and fig.flights_by_party else
                              " in all the results analysed, not only the period" if results.period.bounded else "")},
        "thresholds": {"min_depth": _length(cross_th.get("min_depth"), "the agreement's minimum depth"),
                       "min_duration": seconds(cross_th.get("min_duration")).replace("–", "its minimum time"),
                       "lookahead": seconds(cross_th.get("warning_lookahead"))},
        "per_day_rows": _per_day_rows(fig), "crossing_rows": _crossing_rows(results),
        "closest_rows": _closest_rows(results), "interaction_rows": _interaction_rows(results),
        "manoeuvring_rows": _manoeuvring_rows(results),
        "enc_level": enc_level, "level_words": LEVEL_WORDS.get(enc_level, enc_level),
        "between": BETWEEN.get(s.get("encounters", {}).get("settings", {}).get("pairs"), BETWEEN["parties"]),
        "closest_is_pair": "closest_horizontal_nm" in results.raw["encounters"].columns,
        "episodes": [{"zone": k, "episodes": v["episodes"], "followed": v["followed_by_crossing"]}
                     for k, v in fig.crossings["warning"]["episodes_by_zone"].items()],
        "period_bounded": results.period.bounded, "period_text": period_text,
        "folder": str(results.folder), "agreement": results.agreement_name,
        "input_text": (f"{inp.get('records_read', 0):,} records read from {len(inp.get('files', []))} file(s), "
                       f"{inp.get('records_dropped', 0):,} dropped in cleaning."),
        "source_note": (f"All counts are those of {results.folder.name}/summary.json" if results.folders == 1 else
                        f"All counts are those of the {results.folders} folders' summary.json, added up")
                       + (" over the period." if results.period.bounded else "."),
        "notes": results.notes + _cut_notes(results, fig),
        "no_claims_note": NO_CLAIMS,
        "incidents": incidents, "incident_rows": _incident_rows(incidents), "duration": _duration,
    }


def _duration(v: float | None) -> str:
    if v is None:
        return "–"
    if v < 120:
        return f"{v:.0f} s"
    return f"{v / 60:.0f} min" if v < 7200 else f"{v / 3600:.1f} h"


def _incident_rows(incidents) -> list[dict]:
    if incidents is None:
        return []
    return [{"id": i.id, "kind": i.kind, "severity": i.severity, "status": i.status, "start": _time(i.start_time),
             "aircraft": ", ".join(_who(a.callsign, a.track_id) for a in i.aircraft), "parties": ", ".join(i.parties),
             "acks": ", ".join(f"{p} ({by})" if p != by else by for p, (by, _t) in sorted(i.acks.items())) or "–",
             "summary": i.summary} for i in incidents.incidents[:MAX_ROWS]]


NO_CLAIMS = ("none given for this agreement: the bundled claims are about the 2017 Euphrates line (agreement "
             "euphrates-2017); give yours with --claims FILE.")


def _cut_notes(results: Results, fig: Figures) -> list[str]:
    """What a period or data shorter than its days leaves out."""
    notes = []
    if results.period.bounded and not fig.flights_by_party:
        notes.append("Flights are counted per whole UTC day: with a period that cuts a day, the flights of the period "
                     "and the share of them that crossed are not given.")
    if not fig.whole_days:
        notes.append(f"The data covers {fig.hours:.1f} h of its {len(fig.days)} day(s): figures \"a day\" count "
                     "what those hours hold, and claims about a day are not judged on them.")
    trk = results.summary.get("tracks", {})
    simulated, states = trk.get("simulated_states") or 0, trk.get("states") or 0
    if simulated and simulated == states:
        notes.append("The data is simulated (skyfence simulate), not recorded: its figures, and the claims judged on "
                     "them, show what the tool does, not what happened.")
    elif simulated:
        notes.append(f"{simulated:,} of the {states:,} states are simulated (skyfence simulate), not recorded.")
    return notes


def _days_text(fig: Figures) -> str:
    if not fig.days:
        return "no days of data"
    part = "" if fig.whole_days else f"; {fig.hours:.1f} h of data"
    if len(fig.days) == 1:
        return f"{fig.days[0].isoformat()} (1 day, UTC{part})"
    return f"{fig.days[0].isoformat()} to {fig.days[-1].isoformat()} ({len(fig.days)} days, UTC{part})"


def _kinds(by_kind_and_party: dict[str, int]) -> str:
    totals: dict[str, int] = {}
    for key, n in by_kind_and_party.items():
        kind = key.split("/")[0]
        totals[kind] = totals.get(kind, 0) + n
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(totals.items()))


def _per_day_rows(fig: Figures) -> list[dict]:
    return [{"date": d.isoformat(), "counts": [p.daily[i] for p in fig.parties], "total": fig.daily_total[i]}
            for i, d in enumerate(fig.days)]


def _who(callsign, track_id) -> str:
    return f"{callsign} ({track_id})" if callsign else str(track_id)


def _crossing_rows(results: Results) -> list[dict]:
    cr = results.crossings.filter(pl.col("entry_kind") == "crossed").sort("entry_time").head(MAX_ROWS)
    return [{"time": _time(r["entry_time"]), "aircraft": _who(r["callsign"], r["track_id"]), "party": r["party"],
             "zone": r["zone"], "depth": num(r["max_depth_km"], 1),
             # still inside at the aircraft's last report: at least that long (a stay cut short, not a whole one)
             "minutes": ("≥ " if r["open"] else "") + num((r["duration_s"] or 0) / 60, 1), "open": bool(r["open"]),
             "lead": num(r["warning_lead_s"], 0), "intent": r["intent"],
             "colour": INTENT_COLOURS.get(r["intent"], INTENT_COLOURS["not assessed"])}
            for r in cr.iter_rows(named=True)]


def _closest_rows(results: Results, n: int = 15) -> list[dict]:
    from skyfence.analysis.summary import one_per_closest_point

    enc = one_per_closest_point(results.encounters).sort("closest_nm", nulls_last=True).head(n)
    return [{"time": _time(r["closest_time"]),
             "aircraft": f"{_who(r['callsign_a'], r['track_a'])} / {_who(r['callsign_b'], r['track_b'])}",
             "parties": f"{r['party_a']} / {r['party_b']}", "nm": num(r["closest_nm"], 2),
             "ft": num(r["closest_ft"], 0), "level": r["max_level"],
             "colour": LEVEL_COLOURS.get(r["max_level"], "#888888")} for r in enc.iter_rows(named=True)]


def _interaction_rows(results: Results) -> list[dict]:
    inter = results.interactions.sort("start_time").head(MAX_ROWS)
    return [{"time": _time(r["start_time"]), "kind": (r["interaction"] or "").replace("_", " "),
             "by": f"{_who(r['callsign'], r['track_id'])}, {r['party']}",
             "on": f"{_who(r['other_callsign'], r['other_track_id'])}, {r['other_party']}",
             "minutes": num((r["duration_s"] or 0) / 60, 1), "nm": num(r["closest_nm"], 2)}
            for r in inter.iter_rows(named=True)]


def _manoeuvring_rows(results: Results, n: int = 10) -> list[dict]:
    """The aircraft that manoeuvred most, with their manoeuvres by kind."""
    man = results.manoeuvres
    if man.height == 0:
        return []
    per = (man.group_by("track_id", "manoeuvre").agg(pl.len().alias("n"), pl.col("callsign").first(),
                                                      pl.col("party").first()))
    top = per.group_by("track_id").agg(pl.col("n").sum().alias("total")).sort(["total", "track_id"],
                                                                               descending=[True, False]).head(n)
    rows = []
    for r in top.iter_rows(named=True):
        mine = per.filter(pl.col("track_id") == r["track_id"]).sort("manoeuvre")
        rows.append({"aircraft": _who(mine["callsign"][0], r["track_id"]), "party": mine["party"][0],
                     "total": r["total"], "kinds": ", ".join(f"{k.replace('_', ' ')} {v}"
                                                              for k, v in zip(mine["manoeuvre"], mine["n"]))})
    return rows
