"""CSV and Parquet files as raw tables, a bad row or row group at a time rather than the whole file.

CSV: read as text (guarded gzip, bounded lines, bad UTF-8 replaced); every
row must have the header's number of fields, and one that has not (ragged,
cut, glued to garbage) is counted and left out. All columns come back as
text: the conversion to numbers and times (:mod:`skyfence.sources.tabular`)
counts values it cannot read, so one bad cell never changes a column's type
for the rows around it. The separator is told from the header (comma, tab,
semicolon or bar).

Parquet: read row group by row group (pyarrow); a row group that cannot be
read is counted with its rows and the others kept. A file whose footer is
unreadable is one clear error.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.sources.textio import text_lines

NULLS = ["", "NA", "nan", "NaN", "null", "None"]
SEPARATORS = (",", "\t", ";", "|")
RAGGED = "malformed CSV row"


def read_csv_table(path: Path, bad: Counter) -> tuple[pl.DataFrame, int]:
    """A CSV file as a table of text columns, and the number of data rows in the file (good and bad)."""
    lines = [line for line in text_lines(path, bad) if line.strip()]
    if not lines:
        raise InputError(f"{path}: empty file")
    header, rows = lines[0], lines[1:]
    sep = max(SEPARATORS, key=header.count)
    width = _fields(header, sep)
    counts = pl.Series(rows, dtype=pl.String).str.count_matches(sep, literal=True).to_list() if rows else []
    good = []
    for line, n in zip(rows, counts):
        if '"' in line:  # quoted fields; an unbalanced quote would swallow the lines after it
            n = _fields(line, sep) - 1 if line.count('"') % 2 == 0 else -1
        if n == width - 1:
            good.append(line if line.endswith("\n") else line + "\n")
    if len(good) < len(rows):
        bad[RAGGED] += len(rows) - len(good)
    text = (header if header.endswith("\n") else header + "\n") + "".join(good)
    try:
        df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, null_values=NULLS,
                         truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: cannot read as CSV ({_first_line(exc)})") from None
    return df, len(rows)


def read_parquet_table(path: Path, bad: Counter) -> tuple[pl.DataFrame, int]:
    """A Parquet file's rows, row group by row group; unreadable row groups counted by their rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        groups = pf.metadata.num_row_groups
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a damaged footer
        raise InputError(f"{path}: cannot read as Parquet ({_first_line(exc)})") from None
    tables, total = [], 0
    for i in range(groups):
        try:
            rows = pf.metadata.row_group(i).num_rows
        except Exception:  # noqa: BLE001
            rows = 0
        total += rows
        try:
            group = pf.read_row_group(i)
            group.validate(full=True)  # a damaged page can decode into invalid arrays (bad string offsets)
            tables.append(group)
        except Exception:  # noqa: BLE001 - a damaged page: the row group is lost, the rest kept
            bad["unreadable Parquet row group (rows)"] += max(rows, 1)
    try:
        table = pa.concat_tables(tables) if tables else pf.schema_arrow.empty_table()
        df = pl.from_arrow(table)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: cannot read as Parquet ({_first_line(exc)})") from None
    return (df if isinstance(df, pl.DataFrame) else df.to_frame()), total


def _fields(line: str, sep: str) -> int:
    try:
        return len(next(csv.reader([line.rstrip("\r\n")], delimiter=sep)))
    except (csv.Error, StopIteration):
        return -1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
