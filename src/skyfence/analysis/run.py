"""``skyfence analyze``: tracks in, crossings (and later encounters) and a summary out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.inputs import Selection
from skyfence.analysis.load import load_tracks
from skyfence.analysis.event_tracks import event_tracks
from skyfence.analysis.outputs import agreement_geojson, prepare_dir, write_json, write_table
from skyfence.analysis.summary import behaviour_figures, encounter_figures, summary
from skyfence.analysis.pipeline import detect_events
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.progress import Steps
from skyfence.sources.formats import Reader, read_any
from skyfence.sources.tabular import ReadReport


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


def analyze(paths: Sequence[str | Path], agreement: Agreement, out: Path | None = None,
            progress: Steps | None = None, encounters: EncounterSettings = EncounterSettings(),
            reader: Reader = read_any, warm: bool = True, select: Selection = Selection(), need_records: bool = False
            ) -> Analysis:
    """Run the batch pipeline on track files (read by ``reader``); write the results to ``out`` if given.

    ``warm``: compile the numerical kernels if they are not cached yet, as a progress step of its own, once the
    files are read (:mod:`skyfence.kernels`). ``need_records``: no data row in any file is an error."""
    progress = progress or Steps(None)
    if out is not None:
        prepare_dir(out)
    df, report = load_tracks(paths, agreement, progress, reader, select, warm, need_records)
    ev = detect_events(df, agreement, encounters, progress)
    doc = summary(agreement, report, df, ev.crossings, ev.warnings,
                  {"encounters": encounter_figures(ev.encounters, encounters),
                   **behaviour_figures(ev.crossings, ev.manoeuvres, ev.interactions)})
    cross, enc, man, inter = ev.crossings, ev.encounters, ev.manoeuvres, ev.interactions
    result = Analysis(df, report, cross, enc, man, inter, doc)
    if out is not None:
        with progress.step("writing results"):
            write_results(result, out, agreement, event_tracks(df, cross, enc, inter))
    return result


def write_results(result: Analysis, out: Path, agreement: Agreement, around: pl.DataFrame) -> None:
    """The event tables (CSV and Parquet), ``summary.json``, ``agreement.geojson`` and the states around the
    events (``around``, :func:`~skyfence.analysis.event_tracks.event_tracks`) in ``out`` (listed in
    ``result.files``)."""
    prepare_dir(out)
    result.files += write_table(result.crossings, out, "crossings")
    result.files += write_table(result.encounters, out, "encounters")
    result.files += write_table(result.manoeuvres, out, "manoeuvres")
    result.files += write_table(result.interactions, out, "interactions")
    result.files.append(write_json(result.summary, out / "summary.json"))
    result.files.append(write_json(agreement_geojson(agreement), out / "agreement.geojson"))
    around.write_parquet(out / "event_tracks.parquet", compression="zstd")
    result.files.append(out / "event_tracks.parquet")
