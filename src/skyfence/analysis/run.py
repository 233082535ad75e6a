"""``skyfence analyze``: tracks in, crossings (and later encounters) and a summary out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.load import load_tracks
from skyfence.analysis.outputs import prepare_dir, write_json, write_table
from skyfence.analysis.summary import encounter_figures, summary
from skyfence.detect.crossing_table import detect_crossings
from skyfence.detect.encounter_table import EncounterSettings, detect_encounters
from skyfence.progress import Steps
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.arrays import to_arrays


@dataclass
class Analysis:
    """What an analysis produced: the tables, the summary and the files written."""

    tracks: pl.DataFrame
    report: ReadReport
    crossings: pl.DataFrame
    encounters: pl.DataFrame
    summary: dict
    files: list[Path] = field(default_factory=list)


def analyze(paths: Sequence[str | Path], agreement: Agreement, out: Path | None = None,
            progress: Steps | None = None, encounters: EncounterSettings = EncounterSettings()) -> Analysis:
    """Run the batch pipeline on track files; write the results to ``out`` if given."""
    progress = progress or Steps(None)
    if out is not None:
        prepare_dir(out)
    df, report = load_tracks(paths, agreement, progress)
    with progress.step(f"projecting {df.height:,} states"):
        tr = to_arrays(df, agreement.projection)
    with progress.step("detecting crossings"):
        crossings = detect_crossings(df, tr, agreement)
    del tr
    with progress.step(f"finding encounters ({encounters.pairs} pairs, {encounters.step:g} s steps)"):
        enc = detect_encounters(df, agreement.thresholds.separation, agreement.thresholds.crossing.data_gap,
                                encounters)
    doc = summary(agreement, report, df, crossings.table, crossings.warnings,
                  {"encounters": encounter_figures(enc, encounters)})
    result = Analysis(df, report, crossings.table, enc, doc)
    if out is not None:
        with progress.step("writing results"):
            result.files += write_table(crossings.table, out, "crossings")
            result.files += write_table(enc, out, "encounters")
            result.files.append(write_json(doc, out / "summary.json"))
    return result
