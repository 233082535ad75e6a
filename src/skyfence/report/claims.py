"""The claims table: what public reporting said beside what the data shows, and how it was computed.

Claims come from a YAML file (the bundled one holds the 2017 Euphrates figures; see its header
for the fields). Each names a measure; each measure is computed from the report's figures and
says in words what it counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

from skyfence.errors import SkyfenceError
from skyfence.report.figures import LEVELS, Figures
from skyfence.report.results import Results

DEFAULT_CLAIMS = "euphrates-2017"
MEASURES = ("crossings_per_day", "share_of_sorties_crossed", "encounters_at_level", "manoeuvres", "interactions")
FIELDS = ("said", "source", "measure", "party", "range", "level", "kind", "day")
MIN_FLIGHTS_FOR_SHARE = 20  # fewer flights than this say nothing about a share of sorties (0 of 1 is not 0 %)


@dataclass(frozen=True)
class Claim:
    said: str
    source: str
    measure: str
    party: str | None = None
    low: float | None = None
    high: float | None = None
    level: str | None = None
    kind: str | None = None
    on: date | None = None  # the day it is about (one event): judged only on data of that day


@dataclass(frozen=True)
class Checked:
    """A claim beside the data: the value found, in words, a verdict and how it was computed."""

    claim: Claim
    value: float | None
    shown: str
    verdict: str
    how: str

    @property
    def said_range(self) -> str:
        """The range the claim amounts to, in words."""
        lo, hi = self.claim.low, self.claim.high
        f = (lambda v: f"{v:.0%}") if self.claim.measure == "share_of_sorties_crossed" else (lambda v: f"{v:g}")
        if lo is None and hi is None:
            return "no figure"
        if hi is None:
            return f"at least {f(lo)}"
        return f"at most {f(hi)}" if lo is None else f"{f(lo)} to {f(hi)}"


def load_claims(path: str | Path | None = None) -> list[Claim]:
    """The claims of a YAML file (the bundled 2017 ones when ``path`` is None)."""
    if path is None:
        text = resources.files("skyfence.report").joinpath("claims", f"{DEFAULT_CLAIMS}.yaml").read_text("utf-8")
        where = f"built-in claims {DEFAULT_CLAIMS}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SkyfenceError(f"{path}: cannot read the claims file ({exc.strerror})") from None
        where = str(path)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SkyfenceError(f"{where}: not valid YAML ({exc})") from None
    items = doc.get("claims") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SkyfenceError(f"{where}: expected a list under 'claims'")
    return [_claim(item, f"{where}: claims[{i}]") for i, item in enumerate(items)]


def _claim(item: object, where: str) -> Claim:
    if not isinstance(item, dict):
        raise SkyfenceError(f"{where}: expected a mapping")
    for key in ("said", "measure"):
        if not item.get(key):
            raise SkyfenceError(f"{where}.{key}: missing")
    unknown = [k for k in item if k not in FIELDS]
    if unknown:  # YAML reads a key 'on' or 'yes' as true: say so rather than drop it
        raise SkyfenceError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
    if item["measure"] not in MEASURES:
        raise SkyfenceError(f"{where}.measure: {item['measure']!r} is not one of {', '.join(MEASURES)}")
    rng = item.get("range", [None, None])
    if not (isinstance(rng, list) and len(rng) == 2 and all(v is None or isinstance(v, (int, float)) for v in rng)):
        raise SkyfenceError(f"{where}.range: expected [low, high] (numbers; high may be null)")
    level = item.get("level")
    if item["measure"] == "encounters_at_level" and level not in LEVELS:
        raise SkyfenceError(f"{where}.level: expected one of {', '.join(LEVELS)}")
    if item["measure"] in ("manoeuvres", "interactions") and not item.get("kind"):
        raise SkyfenceError(f"{where}.kind: missing (which {item['measure'][:-1]} to count)")
    on = item.get("day")
    if on is not None and not isinstance(on, date):
        try:
            on = date.fromisoformat(str(on))
        except ValueError:
            raise SkyfenceError(f"{where}.day: expected a day, YYYY-MM-DD (got {on!r})") from None
    return Claim(str(item["said"]), str(item.get("source", "")), item["measure"], item.get("party"),
                 rng[0], rng[1], level, item.get("kind"), on)


def claims_for(claims_file: str | Path | None, results: Results) -> list[Claim]:
    """The claims a report checks: those of ``claims_file``, or the bundled ones when the results are of the
    agreement they are about (none otherwise). A claim about a party the agreement does not have is refused
    (one line), rather than counted over all parties."""
    if claims_file is None and results.agreement_name != DEFAULT_CLAIMS:
        return []
    claims = load_claims(claims_file)
    parties = set((results.agreement or {}).get("skyfence", {}).get("parties", {}))
    for i, c in enumerate(claims):
        if c.party is not None and parties and c.party not in parties:
            where = claims_file if claims_file is not None else f"built-in claims {DEFAULT_CLAIMS}"
            raise SkyfenceError(f"{where}: claims[{i}].party: {c.party!r} is not a party of agreement "
                                f"{results.agreement_name} (its parties: {', '.join(sorted(parties))})")
    return claims


def check_claims(claims: list[Claim], results: Results, figures: Figures) -> list[Checked]:
    """Each claim beside what ``results`` show."""
    return [_check(c, results, figures) for c in claims]


def _check(claim: Claim, results: Results, fig: Figures) -> Checked:
    known = {p.party for p in fig.parties}
    party = claim.party if claim.party in known else None
    who = results.party_name(party) if party else "all parties"
    note = (f" Party '{claim.party}' is not in agreement {results.agreement_name}: counted over all parties."
            if claim.party and party is None else "")
    span = f"on {claim.on.isoformat()}" if claim.on is not None else _span(fig)
    if claim.measure == "crossings_per_day":
        rows = [p for p in fig.parties if party is None or p.party == party]
        daily = [sum(v) for v in zip(*(p.daily for p in rows))] if rows else []
        value = sum(daily) / len(daily) if daily else None
        shown = "no days of data" if value is None else (
            f"{value:.1f} a day (daily {min(daily)}-{max(daily)}, {sum(daily)} in {len(daily)} days)")
        if value is not None and not fig.whole_days:
            shown = f"{sum(daily)} in {fig.hours:.1f} h of data: not whole days"
            value = None  # a day's figure is not judged on part of a day
        how = (f"Crossings of the line or a zone by {who} seen to happen (entering from the allowed side), "
               f"counted per UTC day {span}; mean over every day of data, days without a crossing counted as zero.")
    elif claim.measure == "share_of_sorties_crossed":
        rows = [p for p in fig.parties if party is None or p.party == party]
        flights = sum(p.flights or 0 for p in rows)
        crossed = sum(p.flights_crossed for p in rows)
        value = crossed / flights if flights else None
        shown = "no flights" if value is None else f"{value:.1%} ({crossed} of {flights} flights)"
        if value is not None and flights < MIN_FLIGHTS_FOR_SHARE:
            value, shown = None, f"{shown}: too few flights to judge a share"
        how = (f"Flights (sorties) of {who} that began {span} with at least one crossing, over all their flights; "
               f"a flight is an aircraft's track cut at gaps of over the agreement's flight gap.")
    elif claim.measure == "encounters_at_level":
        enc = _on_day(results.encounters, claim.on)
        if enc.height:  # results made with every pair (--pairs all) hold pairs of one party too
            enc = enc.filter(pl.col("party_a").ne_missing(pl.col("party_b")))
        rank = {lv: i for i, lv in enumerate(LEVELS)}
        mine = enc.filter(pl.col("max_level").replace_strict(rank, default=-1) >= rank[claim.level])
        if party:
            mine = mine.filter((pl.col("party_a") == party) | (pl.col("party_b") == party))
        value = float(mine.height)
        closest = enc["closest_nm"].min() if enc.height else None
        shown = f"{mine.height} at {claim.level} or above" + (
            f"; closest approach of any encounter {closest:.2f} NM" if closest is not None else "")
        how = (f"Encounters between aircraft of different parties {span} whose highest alert level reached "
               f"{claim.level} ({_level_words(claim.level)}), involving {who}.")
    else:
        table = _on_day(results.manoeuvres if claim.measure == "manoeuvres" else results.interactions, claim.on)
        col = "manoeuvre" if claim.measure == "manoeuvres" else "interaction"
        mine = table.filter(pl.col(col) == claim.kind)
        if mine.height:  # where the agreement holds: an airliner's speed brakes over France are not the F-22's
            mine = mine.filter(pl.Series(results.in_region(mine["lon"].to_numpy(), mine["lat"].to_numpy())))
        if party:
            cond = pl.col("party") == party
            if claim.measure == "interactions":
                cond = cond | (pl.col("other_party") == party)
            mine = mine.filter(cond)
        value = float(mine.height)
        shown = f"{mine.height} {claim.kind.replace('_', ' ')}{'s' if mine.height != 1 else ''}"
        how = (f"{'Manoeuvres' if claim.measure == 'manoeuvres' else 'Interactions'} of kind "
               f"{claim.kind.replace('_', ' ')} by {who} {span} within the agreement's region, as detected from "
               f"the tracks (thresholds in the agreement).")
        if "flare" in claim.said.lower():
            how += " Flares are not in ADS-B: only what the track shows can be checked."
    if not fig.days and value is not None:  # nothing analysed in the period: a count of 0 says nothing
        value, shown = None, f"{shown}: no data in this period"
    elif claim.on is not None and claim.on not in fig.days and value is not None:
        value, shown = None, f"{shown}: the claim is about {claim.on.isoformat()}, a day not in the data"
    return Checked(claim, value, shown, _verdict(value, claim.low, claim.high), how + note)


def _on_day(table: pl.DataFrame, day: date | None) -> pl.DataFrame:
    """The events that began on ``day`` (all of them without one)."""
    if day is None or table.height == 0:
        return table
    return table.filter(pl.col("start_time").dt.date() == day)


def _verdict(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "cannot tell"
    if low is not None and value < low:
        return "less than said"
    if high is not None and value > high:
        return "more than said"
    return "agrees"


def _span(fig: Figures) -> str:
    if not fig.days:
        return "(no days of data)"
    if len(fig.days) == 1:
        return f"on {fig.days[0].isoformat()}"
    return f"from {fig.days[0].isoformat()} to {fig.days[-1].isoformat()}"


def _level_words(level: str) -> str:
    return {"caution": "a predicted close approach", "warning": "a predicted loss of separation",
            "loss": "separation lost", "nmac": "a near mid-air collision"}[level]
