"""Reading track files into one cleaned, identified track table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.inputs import Selection, expand
from skyfence.errors import InputError
from skyfence.progress import Steps
from skyfence.sources.formats import read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.clean import clean
from skyfence.tracks.schema import empty_tracks


def load_tracks(paths: Sequence[str | Path], agreement: Agreement, progress: Steps | None = None,
                reader=read_any, select: Selection = Selection(), warm: bool = True, need_records: bool = False
                ) -> tuple[pl.DataFrame, ReadReport]:
    """Read, clean, order and identify the state vectors of every file (folders and glob patterns expanded),
    keeping the part of the data ``select`` asks for. ``warm``: once the files are read, compile the numerical
    kernels first if they are not cached yet (a step of its own: :mod:`skyfence.kernels`). ``need_records``: files
    with no data rows at all (a header alone) are an error, as an empty file is, rather than an empty result."""
    progress = progress or Steps(None)
    paths = [p for p in expand(paths) if select.wants_file(Path(p))]
    if not paths:
        raise InputError("no file holds data in the time window asked for (--from/--to)")
    frames, report = [], ReadReport()
    with progress.step(f"reading {len(paths)} file{'s' if len(paths) != 1 else ''}", total=len(paths)):
        for path in paths:
            df, rep = reader(path)
            frames.append(select.apply(df, rep.dropped))
            report.merge(rep)
            progress.advance()
    if need_records and report.rows_read == 0:  # a header alone, or an empty Parquet file
        names = ", ".join(str(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        raise InputError(f"{names}: no records (the file{'s hold' if len(paths) > 1 else ' holds'} no data rows)")
    df = pl.concat(frames, how="vertical_relaxed") if frames else empty_tracks()
    if warm:
        from skyfence import kernels

        kernels.ensure(progress)
    with progress.step(f"cleaning {df.height:,} states"):
        df, report = clean(df, report, flight_gap=agreement.thresholds.crossing.flight_gap)
    with progress.step("identifying parties"):
        df = df.with_columns(agreement.identifier.assign(df["track_id"], df["callsign"]))
    return df, report
