"""``skyfence analyze``: tracks in, crossings (and later encounters) and a summary out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from skyfence.agreement.identify import address_country
from skyfence.agreement.model import Agreement
from skyfence.analysis.load import load_tracks
from skyfence.analysis.outputs import prepare_dir, write_json, write_table
from skyfence.analysis.summary import behaviour_figures, encounter_figures, summary
from skyfence.detect.crossing_table import detect_crossings
from skyfence.analysis.behaviour import assess_crossings, interaction_table, manoeuvre_table
from skyfence.detect.encounter_table import EncounterSettings, align_airborne, detect_encounters
from skyfence.tracks.kinematics import kinematics
from skyfence.progress import Steps
from skyfence.sources.formats import Reader, read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.arrays import to_arrays


@dataclass
class Analysis:
    """What an analysis produced: the tables, the summary and the files written."""

    tracks: pl.DataFrame
    report: ReadReport
    crossings: pl.DataFrame
    encounters: pl.DataFrame
    manoeuvres: pl.DataFrame
    interactions: pl.DataFrame
    summary: dict
    files: list[Path] = field(default_factory=list)


def with_countries(df: pl.DataFrame, cross: pl.DataFrame, enc: pl.DataFrame, man: pl.DataFrame,
                   inter: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
    """Each event table with the State of each aircraft's address, next to its party."""
    ids = df.select(pl.col("track_id").unique())
    ids = ids.with_columns(address_country(ids["track_id"]))

    def add(table: pl.DataFrame, id_col: str, name: str, after: str) -> pl.DataFrame:
        if id_col not in table.columns:
            return table
        joined = table.join(ids.rename({"track_id": id_col, "country": name}), on=id_col, how="left")
        cols = [c for c in table.columns]
        cols.insert(cols.index(after) + 1 if after in cols else len(cols), name)
        return joined.select(cols)

    cross = add(cross, "track_id", "country", "party")
    man = add(man, "track_id", "country", "party")
    enc = add(add(enc, "track_a", "country_a", "party_a"), "track_b", "country_b", "party_b")
    inter = add(add(inter, "track_id", "country", "party"), "other_track_id", "other_country", "other_party")
    return cross, enc, man, inter


def analyze(paths: Sequence[str | Path], agreement: Agreement, out: Path | None = None,
            progress: Steps | None = None, encounters: EncounterSettings = EncounterSettings(),
            reader: Reader = read_any) -> Analysis:
    """Run the batch pipeline on track files (read by ``reader``); write the results to ``out`` if given."""
    progress = progress or Steps(None)
    if out is not None:
        prepare_dir(out)
    df, report = load_tracks(paths, agreement, progress, reader)
    with progress.step(f"projecting {df.height:,} states"):
        tr = to_arrays(df, agreement.projection)
    with progress.step("detecting crossings"):
        crossings = detect_crossings(df, tr, agreement)
    with progress.step("kinematics and manoeuvres"):
        kin = kinematics(tr, df["on_ground"].fill_null(False).to_numpy())
        man = manoeuvre_table(df, tr, kin, agreement)
    with progress.step(f"aligning aircraft in time ({encounters.step:g} s steps)"):
        aligned = align_airborne(df, encounters.step, agreement.thresholds.crossing.data_gap)
    with progress.step(f"finding encounters ({encounters.pairs} pairs)"):
        enc = detect_encounters(df, agreement.thresholds.separation, agreement.thresholds.crossing.data_gap,
                                encounters, aligned)
    with progress.step("finding intercepts, engagements and shadowing"):
        inter = interaction_table(df, aligned, kin, agreement, encounters.pairs, encounters.step)
    with progress.step("assessing the intent of each crossing"):
        cross = assess_crossings(crossings.table, df, tr, aligned, man, agreement)
    del tr, kin, aligned
    cross, enc, man, inter = with_countries(df, cross, enc, man, inter)
    doc = summary(agreement, report, df, cross, crossings.warnings,
                  {"encounters": encounter_figures(enc, encounters), **behaviour_figures(cross, man, inter)})
    result = Analysis(df, report, cross, enc, man, inter, doc)
    if out is not None:
        with progress.step("writing results"):
            result.files += write_table(cross, out, "crossings")
            result.files += write_table(enc, out, "encounters")
            result.files += write_table(man, out, "manoeuvres")
            result.files += write_table(inter, out, "interactions")
            result.files.append(write_json(doc, out / "summary.json"))
    return result
