"""The first pass over an archive: one small task a file.

Each file is read as one machine reads it and put through the checks that look at one row alone
(:func:`skyfence.tracks.clean.clean_rows`), whose counts belong to the file. What comes back is small:
the file's reading report, the span of its state times (which tells the second pass which files a
period needs), the rows out of order within it, and each aircraft's first and last time in it (from
which the driver counts the rows out of order across files, as one machine counting over the files
read one after another would). A file that cannot be read fails here, before any period needs it, so
every task of the second pass agrees on what is missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from skyfence.analysis.inputs import Selection
from skyfence.sources.formats import read_any
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.clean import clean_rows, out_of_order
from skyfence.tracks.schema import seconds


@dataclass
class FileScan:
    """What the first pass learnt of one file."""

    path: str
    report: ReadReport
    rows: int  # states left after the checks on single rows
    first: float | None  # earliest and latest state time, Unix seconds (None: no states)
    last: float | None
    out_of_order: int  # rows earlier than the previous row of their aircraft, within the file
    ends: pl.DataFrame  # track_id, first, last: each aircraft's first and last time in file order
    cpu_seconds: float = 0.0  # the processor time it took


def scan_file(path: str, reference: tuple[float, float] | None = None, select: Selection = Selection()) -> FileScan:
    """Read one file (the part of it ``select`` asks for) and measure it (runs on a worker)."""
    c0 = time.process_time()
    df, report = read_any(path, reference=reference)
    df = clean_rows(select.apply(df, report.dropped), report)
    ends = (df.group_by("track_id", maintain_order=True)
            .agg(pl.col("time").first().alias("first"), pl.col("time").last().alias("last")))
    t = seconds(df["time"]) if df.height else None
    return FileScan(str(path), report, df.height, float(t.min()) if t is not None else None,
                    float(t.max()) if t is not None else None, out_of_order(df), ends, time.process_time() - c0)


def out_of_order_across(scans: list[FileScan]) -> int:
    """Rows out of order at the joins between files (files in archive order): an aircraft's first row
    in a file earlier than its last row in the latest earlier file that has it."""
    parts = [s.ends.with_columns(pl.lit(k).alias("file")) for k, s in enumerate(scans) if s.ends.height]
    if not parts:
        return 0
    ends = pl.concat(parts).sort(["track_id", "file"])
    before = pl.col("last").shift(1).over("track_id")
    return int(ends.select((pl.col("first") < before).fill_null(False).sum()).item())


def merged_report(scans: list[FileScan]) -> ReadReport:
    """The reading reports of the files, in order, with every row out of order counted once."""
    report = ReadReport()
    for s in scans:
        report.merge(s.report)
    back = sum(s.out_of_order for s in scans) + out_of_order_across(scans)
    if back:
        report.corrected["out of order (reordered)"] += back
    return report
