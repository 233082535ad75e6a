"""What-if: the same traffic under two agreements, side by side, with the events that appear or vanish.

The tracks are read once and analysed under each agreement by the one batch pipeline. Events are
paired across the two by the evaluation's matcher (same aircraft, or pair, overlapping in time):
crossings by aircraft and area (a moved line keeps its side's name; an added zone is a new area),
encounters by pair, interactions by kind and aircraft. Unpaired events are those that vanish
(only under A) or appear (only under B).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.run import Analysis, analyze
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.evaluate.match import match
from skyfence.progress import Steps
from skyfence.report.columns import CROSSING_VIEW, ENCOUNTER_VIEW, INTERACTION_VIEW, counted, view
from skyfence.sources.formats import read_any

# kind: (key column, second key column or None, start, end, pair order matters)
KEYS = {
    "crossing": ("track_id", "zone", "entry_time", "end_time", True),
    "encounter": ("track_a", "track_b", "start_time", "end_time", False),
    "interaction": ("_kind_track", "other_track_id", "start_time", "end_time", True),
}
CHANGE_COLUMNS = {"event": pl.String, "change": pl.String, "track_id": pl.String, "other_track_id": pl.String,
                  "callsign": pl.String, "other_callsign": pl.String, "party": pl.String, "detail": pl.String,
                  "start_time": pl.Datetime("us", "UTC"), "end_time": pl.Datetime("us", "UTC")}


@dataclass
class Comparison:
    """The two analyses, their figures side by side, and the events that changed."""

    labels: tuple[str, str]
    a: Analysis
    b: Analysis
    rows: list[tuple[str, object, object]]
    changes: pl.DataFrame

    def as_dict(self) -> dict:
        return {"labels": list(self.labels),
                "figures": [{"figure": n, self.labels[0]: a, self.labels[1]: b} for n, a, b in self.rows],
                "changes": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                            for r in self.changes.to_dicts()]}


def compare(paths: Sequence[str | Path], agreements: tuple[Agreement, Agreement], labels: tuple[str, str],
            settings: EncounterSettings = EncounterSettings(), out: Path | None = None,
            progress: Steps | None = None, reader=read_any) -> Comparison:
    """Analyse ``paths`` under both agreements (results in ``out/a`` and ``out/b`` if given) and compare."""
    progress = progress or Steps(None)
    cache: dict = {}

    def read_once(path):
        if path not in cache:
            cache[path] = reader(path)
        return cache[path]

    runs = []
    for side, ag in zip(("a", "b"), agreements):
        with progress.step(f"analysing under {labels[len(runs)]}"):
            runs.append(analyze(paths, ag, out / side if out else None, None, settings, read_once))
    a, b = runs
    with progress.step("pairing events"):
        changes = pl.concat([event_changes(kind, _table(a, kind), _table(b, kind)) for kind in KEYS],
                            how="vertical_relaxed").sort("start_time")
    return Comparison(labels, a, b, side_by_side(a.summary, b.summary), changes)


def _table(result: Analysis, kind: str) -> pl.DataFrame:
    if kind == "crossing":
        return view(counted(result.crossings), CROSSING_VIEW)
    if kind == "encounter":
        return view(result.encounters, ENCOUNTER_VIEW)
    inter = view(result.interactions, INTERACTION_VIEW)
    return inter.with_columns(pl.concat_str([pl.col("interaction"), pl.col("track_id")], separator="|")
                              .alias("_kind_track"))


def event_changes(kind: str, a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """The events of ``a`` with no partner in ``b`` (vanish) and of ``b`` with none in ``a`` (appear)."""
    key, key2, start, end, ordered = KEYS[kind]
    cols = (key, key2, start, end)
    m = match(a, b, tolerance=0.0, truth_cols=cols, detected_cols=cols, ordered=ordered, one_to_one=True)
    vanished = a.filter(~pl.Series(m.found))
    paired_b = set(m.detected_index.tolist())
    appeared = b.filter(~pl.Series([i in paired_b for i in range(b.height)], dtype=pl.Boolean))
    return pl.concat([_describe(kind, "vanishes", vanished), _describe(kind, "appears", appeared)],
                     how="vertical_relaxed")


def _describe(kind: str, change: str, t: pl.DataFrame) -> pl.DataFrame:
    if t.height == 0:
        return pl.DataFrame(schema=CHANGE_COLUMNS)
    if kind == "crossing":
        sel = [pl.col("track_id"), pl.lit(None, pl.String).alias("other_track_id"), pl.col("callsign"),
               pl.lit(None, pl.String).alias("other_callsign"), pl.col("party"),
               pl.format("{} {} km deep, {} s", pl.col("zone"), pl.col("max_depth_km").round(1),
                         pl.col("duration_s").round(0)).alias("detail"),
               pl.col("entry_time").alias("start_time"), pl.col("end_time")]
    elif kind == "encounter":
        sel = [pl.col("track_a").alias("track_id"), pl.col("track_b").alias("other_track_id"),
               pl.col("callsign_a").alias("callsign"), pl.col("callsign_b").alias("other_callsign"),
               pl.concat_str([pl.col("party_a"), pl.col("party_b")], separator="/").alias("party"),
               pl.format("{}, {} NM", pl.col("max_level"), pl.col("closest_nm").round(2)).alias("detail"),
               pl.col("start_time"), pl.col("end_time")]
    else:
        sel = [pl.col("track_id"), pl.col("other_track_id"), pl.col("callsign"), pl.col("other_callsign"),
               pl.col("party"), pl.col("interaction").alias("detail"), pl.col("start_time"), pl.col("end_time")]
    out = t.select(pl.lit(kind).alias("event"), pl.lit(change).alias("change"), *sel)
    return out.select([pl.col(c).cast(d) for c, d in CHANGE_COLUMNS.items()])


def side_by_side(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """The summary figures of both analyses, row by row (a figure missing on one side shows as 0)."""
    rows: list[tuple[str, object, object]] = []

    def add(name: str, get) -> None:
        rows.append((name, get(a), get(b)))

    def keys(path) -> list[str]:
        return sorted(set(path(a)) | set(path(b)))

    add("crossings", lambda s: s["crossings"]["total"])
    for p in keys(lambda s: s["crossings"]["by_party"]):
        add(f"crossings by {p}", lambda s, p=p: s["crossings"]["by_party"].get(p, 0))
    for z in keys(lambda s: s["crossings"]["by_zone"]):
        add(f"crossings into {z}", lambda s, z=z: s["crossings"]["by_zone"].get(z, 0))
    add("warned before crossing", lambda s: s["crossings"]["warning"]["with_warning"])
    add("median warning lead (s)", lambda s: _round(s["crossings"]["warning"]["lead_time_s"]["median"]))
    add("warning episodes", lambda s: sum(v["episodes"] for v in s["crossings"]["warning"]["episodes_by_zone"].values()))
    add("encounters", lambda s: s["encounters"]["total"])
    for lv in ("caution", "warning", "loss", "nmac"):
        if any(lv in s["encounters"]["by_level"] for s in (a, b)):
            add(f"encounters at {lv}", lambda s, lv=lv: s["encounters"]["by_level"].get(lv, 0))
    add("losses of separation", lambda s: s["encounters"]["losses_of_separation"])
    add("interactions", lambda s: s["interactions"]["total"])
    return rows


def _round(v):
    return None if v is None else round(v, 1)
