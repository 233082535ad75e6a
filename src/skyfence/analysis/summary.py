"""The figures of an analysis: counts per party per UTC day, inputs, warnings."""

from __future__ import annotations

from datetime import timezone

import numpy as np
import polars as pl

from skyfence.agreement.identify import address_country
from skyfence.agreement.model import Agreement
from skyfence.detect.crossings import ENTRY_KINDS, WarningStats
from skyfence.sources.tabular import ReadReport


SIMULATOR = "simulator"  # the ``source`` of the states ``skyfence simulate`` writes


def traffic(df: pl.DataFrame) -> pl.DataFrame:
    """A cleaned track table in brief: one row per flight, aircraft and party, with its number of states and
    first and last time. The figures of :func:`track_figures` come from it, so parts of the data (a cluster's
    hours) add up to the figures of the whole."""
    simulated = (pl.col("source") == SIMULATOR).sum() if "source" in df.columns else pl.lit(0, dtype=pl.UInt32)
    return (df.group_by(["flight_id", "track_id", pl.col("party").cast(pl.String)])
            .agg(pl.len().alias("states"), pl.col("time").min().alias("first"), pl.col("time").max().alias("last"),
                 simulated.cast(pl.UInt32).alias("simulated")))


def track_figures(df: pl.DataFrame) -> dict:
    """How much traffic was analysed, by party."""
    return traffic_figures(traffic(df))


def traffic_figures(tr: pl.DataFrame) -> dict:
    """:func:`track_figures` from the brief of the traffic (:func:`traffic`)."""
    if tr.height == 0:
        return {"states": 0, "aircraft": 0, "flights": 0, "by_party": {}, "by_country": {}, "start": None,
                "end": None, "flights_per_day": [], "hours_per_day": [], "simulated_states": 0}
    by_party = (tr.group_by("party").agg(pl.col("track_id").n_unique().alias("aircraft"), pl.col("states").sum(),
                                         pl.col("flight_id").n_unique().alias("flights"))
                .sort("party"))
    flights = tr.sort("first").group_by("flight_id").agg(pl.col("first").first().alias("time"), pl.col("party").first())
    return {
        "states": int(tr["states"].sum()),
        "aircraft": tr["track_id"].n_unique(),
        "flights": tr["flight_id"].n_unique(),
        "start": tr["first"].min().isoformat(),
        "end": tr["last"].max().isoformat(),
        "by_party": {r["party"]: {"aircraft": r["aircraft"], "states": r["states"], "flights": r["flights"]}
                     for r in by_party.to_dicts()},
        "by_country": aircraft_by_country(tr),
        "flights_per_day": per_day(flights, "time", ["party"]),
        "hours_per_day": hours_per_day(tr),
        "simulated_states": int(tr["simulated"].sum()) if "simulated" in tr.columns else 0,
    }


def hours_per_day(tr: pl.DataFrame) -> list[dict]:
    """Per UTC day, the hours during which some flight was being seen (the union of the flights' spans from
    first to last state, cut at midnight): how much of each day the data covers."""
    from datetime import datetime, timedelta

    spans = sorted((a.timestamp(), b.timestamp()) for a, b in tr.select("first", "last").iter_rows())
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    hours: dict[str, float] = {}
    for a, b in merged:
        while True:
            day = datetime.fromtimestamp(a, timezone.utc).date()
            end = (datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)).timestamp()
            hours[day.isoformat()] = hours.get(day.isoformat(), 0.0) + (min(b, end) - a) / 3600.0
            if b <= end:
                break
            a = end
    return [{"date": d, "hours": round(h, 4)} for d, h in sorted(hours.items())]


def aircraft_by_country(df: pl.DataFrame) -> dict[str, int]:
    """Aircraft per State of address allocation (ICAO blocks), most first (then by name); "unallocated" for
    the rest."""
    ids = df.select(pl.col("track_id").unique())
    countries = address_country(ids["track_id"]).fill_null("unallocated")
    counts = countries.rename("country").value_counts(name="n").sort(["n", "country"], descending=[True, False])
    return {r[0]: r[1] for r in counts.iter_rows()}


def per_day(table: pl.DataFrame, time_col: str, keys: list[str]) -> list[dict]:
    """Counts per UTC day and key columns, sorted."""
    if table.height == 0:
        return []
    counts = (table.with_columns(pl.col(time_col).dt.date().alias("date"))
              .group_by(["date", *keys]).agg(pl.len().alias("count")).sort(["date", *keys]))
    return [{**r, "date": r["date"].isoformat()} for r in counts.to_dicts()]


def crossing_figures(table: pl.DataFrame, warnings: dict[str, WarningStats]) -> dict:
    """Crossings (``entry_kind`` ``crossed``: seen crossing) by party, zone and day, those still inside at the
    end of their flight's track, warning lead times; the other ways of being inside counted apart."""
    # a table from before entry kinds (or without the column) counts every row, as analyze did then
    kinds = (table["entry_kind"].cast(pl.String).fill_null("crossed") if "entry_kind" in table.columns
             else pl.Series(["crossed"] * table.height, dtype=pl.String))
    crossed = table.filter(kinds == "crossed") if table.height else table
    if table.height:
        table = table.with_columns(kinds.alias("entry_kind"))
    leads = crossed["warning_lead_s"].drop_nulls().to_numpy() if crossed.height else np.empty(0)
    return {
        "total": crossed.height,
        "by_party": _counts(crossed, "party"),
        "by_zone": _counts(crossed, "zone"),
        "per_day": per_day(crossed, "entry_time", ["party"]),
        "open_at_end_of_track": int(crossed["open"].sum()) if crossed.height else 0,
        "with_data_gap": int(crossed["data_gap"].sum()) if crossed.height else 0,
        "warning": {
            "with_warning": int(len(leads)),
            "without_warning": int(crossed.height - len(leads)),
            "lead_time_s": _stats(leads),
            "episodes_by_zone": {k: {"episodes": v.episodes, "followed_by_crossing": v.followed_by_crossing}
                                 for k, v in warnings.items()},
        },
        "by_entry_kind": {k: int((kinds == k).sum()) for k in ENTRY_KINDS},
        "other_entries": {k: _entries(table.filter(kinds == k)) for k in ENTRY_KINDS[1:]},
    }


def _counts(table: pl.DataFrame, col: str) -> dict:
    return dict(table.group_by(col).len().sort(col).iter_rows()) if table.height else {}


def _entries(table: pl.DataFrame) -> dict:
    """Aircraft found inside without being seen to cross: how many, by party and zone, per day."""
    return {"total": table.height, "by_party": _counts(table, "party"), "by_zone": _counts(table, "zone"),
            "per_day": per_day(table, "entry_time", ["party"])}


def one_per_closest_point(table: pl.DataFrame) -> pl.DataFrame:
    """The encounters with one per pair and closest point: a pair's encounters a few minutes apart (a warning,
    then a loss) share their closest approach (each is taken over its encounter widened by the look-ahead), which
    a list of the closest is to show once, at the highest level of them."""
    if table.height == 0 or "closest_time" not in table.columns:
        return table
    from skyfence.detect.conflicts import LEVELS

    rank = pl.col("max_level").replace_strict({lv: i for i, lv in enumerate(LEVELS)}, default=-1)
    rows = table.with_row_index("_row")
    known = rows.filter(pl.col("closest_time").is_not_null())
    known = (known.sort([rank, "_row"], descending=[True, False])
             .unique(["track_a", "track_b", "closest_time"], keep="first", maintain_order=True))
    return pl.concat([known, rows.filter(pl.col("closest_time").is_null())]).sort("_row").drop("_row")


def encounter_figures(table: pl.DataFrame, settings) -> dict:
    """Encounters by highest level, by pair of parties and by day; the closest ones."""
    if table.height == 0:
        by_level, by_parties = {}, {}
    else:
        by_level = dict(table.group_by("max_level").len().sort("max_level").iter_rows())
        pairs = table.with_columns(pl.concat_str([pl.min_horizontal("party_a", "party_b"),
                                                  pl.max_horizontal("party_a", "party_b")], separator="/").alias("p"))
        by_parties = dict(pairs.group_by("p").len().sort("p").iter_rows())
    closest = one_per_closest_point(table).sort(["closest_horizontal_nm", "min_horizontal_nm"],
                                                nulls_last=True).head(5).select(
        "track_a", "track_b", "callsign_a", "callsign_b", "closest_time", "closest_horizontal_nm",
        "closest_vertical_ft", "closest_above", "report_gap_s", "time_of_min", "min_horizontal_nm",
        "vertical_at_min_ft", "above_at_min", "max_level", "level_interpolated") if table.height else table
    return {
        "settings": {"pairs": settings.pairs, "step_s": settings.step, "level": settings.level,
                     "merge_gap_s": settings.merge_gap},
        "total": table.height,
        "by_level": by_level,
        "by_parties": by_parties,
        "per_day": per_day(table, "start_time", ["max_level"]),
        "losses_of_separation": int(table["loss_time"].is_not_null().sum()) if table.height else 0,
        "warning_time_s": _stats(table["warning_time_s"].drop_nulls().to_numpy() if table.height else np.empty(0)),
        "closest": [{**r, "time_of_min": _iso(r["time_of_min"]), "closest_time": _iso(r["closest_time"])}
                    for r in closest.to_dicts()],
    }


def behaviour_figures(crossings: pl.DataFrame, manoeuvres: pl.DataFrame, interactions: pl.DataFrame) -> dict:
    """Manoeuvres and interactions by kind and party; crossings by assessed intent."""
    def counts(df, *cols):
        if df.height == 0:
            return {}
        return {"/".join(str(v) for v in k): n for *k, n in df.group_by(list(cols)).len().sort(list(cols)).rows()}

    return {
        "manoeuvres": {"total": manoeuvres.height, "by_kind_and_party": counts(manoeuvres, "manoeuvre", "party")},
        "interactions": {"total": interactions.height,
                         "by_kind_and_party": counts(interactions, "interaction", "party", "other_party")},
        "crossing_intent": counts(crossings.filter(pl.col("intent").is_not_null()), "intent")
        if "intent" in crossings.columns else {},
    }


def _iso(t) -> str | None:
    return None if t is None else t.isoformat()


def _stats(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {"min": None, "median": None, "mean": None, "max": None}
    return {"min": float(values.min()), "median": float(np.median(values)), "mean": float(values.mean()),
            "max": float(values.max())}


def summary(agreement: Agreement, report: ReadReport, df: pl.DataFrame | dict, crossings: pl.DataFrame,
            warnings: dict[str, WarningStats], extra: dict | None = None) -> dict:
    """The whole ``summary.json`` document (``df``: the track table, or its :func:`track_figures`)."""
    doc = {
        "agreement": {"name": agreement.name, "source": agreement.source},
        "input": report.as_dict(),
        "tracks": df if isinstance(df, dict) else track_figures(df),
        "crossings": crossing_figures(crossings, warnings),
    }
    doc.update(extra or {})
    return doc
