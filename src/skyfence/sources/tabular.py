"""CSV and Parquet state vectors, with column names recognised from the common conventions.

Three conventions are known:

* skyfence's own (``track_id`` present): the canonical schema, SI units;
* OpenSky state vectors (``state_vectors_data4``: ``time, icao24, lat, lon,
  velocity, heading, vertrate, callsign, onground, baroaltitude,
  geoaltitude``): metres and m/s; the time of a state is ``lastposupdate``
  (when its position was measured) where the table has it, so the same
  position repeated by later snapshots is one state;
* the aviation convention of traffic and many exports (``timestamp, icao24,
  latitude/lat, longitude/lon, altitude, groundspeed, track, vertical_rate``):
  feet, knots and ft/min.

Times may be datetimes, ISO 8601 text or Unix seconds (milliseconds are
recognised by their size). A file that has no time, identity or position
column gets an error naming the columns that were looked for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.sources.tablefile import read_csv_table, read_parquet_table
from skyfence.sources.textio import existing_file
from skyfence.tracks.schema import IMPOSSIBLE_TIME, TIME, conform, drop_invalid_times, time_from_seconds
from skyfence.units import FEET_PER_MINUTE, FOOT, KNOT

# canonical column -> candidate source columns with their scale to SI, in order of preference
_SI = {
    "time": [("time", None)],
    "track_id": [("track_id", None)],
    "callsign": [("callsign", None)],
    "party": [("party", None)],
    "lon": [("lon", None)], "lat": [("lat", None)],
    "altitude": [("altitude", 1.0)],
    "ground_speed": [("ground_speed", 1.0)],
    "track": [("track", 1.0)],
    "vertical_rate": [("vertical_rate", 1.0)],
    "on_ground": [("on_ground", None)],
    "source": [("source", None)],
}
_COMMON = {
    "time": [("lastposupdate", None), ("time_position", None), ("time", None), ("timestamp", None), ("ts", None), ("datetime", None), ("date_time", None),
             ("seen_time", None)],
    "track_id": [("icao24", None), ("icao", None), ("hex", None), ("icao_address", None), ("address", None),
                 ("aircraft_id", None), ("id", None)],
    "callsign": [("callsign", None), ("flight", None), ("call_sign", None), ("ident", None)],
    "lon": [("lon", None), ("longitude", None), ("lng", None), ("long", None)],
    "lat": [("lat", None), ("latitude", None)],
    "altitude": [("baroaltitude", 1.0), ("baro_altitude", 1.0), ("altitude", FOOT), ("alt_baro", FOOT),
                 ("altitude_ft", FOOT), ("altitude_m", 1.0), ("geoaltitude", 1.0), ("geo_altitude", 1.0),
                 ("alt_geom", FOOT), ("alt", FOOT)],
    "ground_speed": [("velocity", 1.0), ("groundspeed", KNOT), ("gs", KNOT), ("ground_speed_kt", KNOT),
                     ("speed", KNOT)],
    "track": [("heading", 1.0), ("track", 1.0), ("true_track", 1.0), ("track_deg", 1.0)],
    "vertical_rate": [("vertrate", 1.0), ("vertical_rate", FEET_PER_MINUTE), ("baro_rate", FEET_PER_MINUTE),
                      ("geom_rate", FEET_PER_MINUTE), ("vertical_rate_fpm", FEET_PER_MINUTE)],
    "on_ground": [("onground", None), ("on_ground", None), ("ground", None)],
}
_REQUIRED = ("time", "track_id", "lat", "lon")


@dataclass
class ReadReport:
    """What reading did: rows read, rows or values removed with the reason, rows corrected (reordered)."""

    rows_read: int = 0
    dropped: Counter = field(default_factory=Counter)
    values_removed: Counter = field(default_factory=Counter)
    corrected: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)

    def merge(self, other: "ReadReport") -> None:
        self.rows_read += other.rows_read
        self.dropped.update(other.dropped)
        self.values_removed.update(other.values_removed)
        self.corrected.update(other.corrected)
        self.files.extend(other.files)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def as_dict(self) -> dict:
        return {"files": self.files, "records_read": self.rows_read, "records_dropped": self.rows_dropped,
                "dropped_by_reason": dict(sorted(self.dropped.items())),
                "values_removed_by_reason": dict(sorted(self.values_removed.items())),
                "corrected_by_reason": dict(sorted(self.corrected.items()))}


def read_table(path: str | Path, bad: Counter | None = None, kind: str | None = None) -> pl.DataFrame:
    """A CSV or Parquet file as it is (no renaming; CSV columns as text), bad rows counted in ``bad``, or one
    clear error. ``kind`` ("csv" or "parquet") is told from the name when not given."""
    return _read(Path(path), bad if bad is not None else Counter(), kind)[0]


def _read(path: Path, bad: Counter, kind: str | None) -> tuple[pl.DataFrame, int]:
    existing_file(path)
    if kind is None:
        suffix = "".join(path.suffixes[-2:]).lower().removesuffix(".gz")
        if suffix.endswith((".parquet", ".pq")):
            kind = "parquet"
        elif suffix.endswith((".csv", ".txt", ".tsv")):
            kind = "csv"
        else:
            raise InputError(f"{path}: unknown file type {path.suffix!r} (expected .csv or .parquet)")
    return read_parquet_table(path, bad) if kind == "parquet" else read_csv_table(path, bad)


def read_tracks(path: str | Path, source: str | None = None, kind: str | None = None) -> tuple[pl.DataFrame, ReadReport]:
    """Read a state-vector file into the canonical schema (not yet cleaned)."""
    path = Path(path)
    report = ReadReport(files=[str(path)])
    raw, rows = _read(path, report.dropped, kind)
    df, rep = from_frame(raw, source or path.name, str(path))
    report.merge(rep)
    report.rows_read, report.files = rows, [str(path)]
    return df, report


def from_frame(raw: pl.DataFrame, source: str, where: str = "table") -> tuple[pl.DataFrame, ReadReport]:
    """A table with recognised column names into the canonical schema."""
    lower = {c.lower().strip(): c for c in raw.columns}
    table = _SI if "track_id" in lower else _COMMON
    exprs, report = [], ReadReport(rows_read=raw.height, files=[where])
    found: dict[str, str] = {}
    for canon, candidates in table.items():
        for name, scale in candidates:
            if name in lower:
                found[canon] = lower[name]
                exprs.append(_convert(raw, lower[name], canon, scale))
                break
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        expected = "; ".join(f"{c}: {', '.join(n for n, _ in _COMMON[c])}" for c in missing)
        raise InputError(f"{where}: no column for {', '.join(missing)} (expected one of {expected}; "
                         f"the file has {', '.join(raw.columns[:12])}{', ...' if len(raw.columns) > 12 else ''})")
    for canon, column in found.items():
        if _nested(raw.schema[column]):
            raise InputError(f"{where}: column {column!r} holds {raw.schema[column]}, not single values")
    df = raw.select(exprs)
    if "source" not in df.columns:
        df = df.with_columns(pl.lit(source).alias("source"))
    # values that were present in the file but could not be read count as malformed
    for canon in ("time", "lat", "lon"):
        bad = raw[found[canon]].is_not_null() & df[canon].is_null()
        n = int(bad.sum())
        if n:
            number = _is_number(raw[found[canon]]) if canon == "time" else pl.repeat(False, raw.height, eager=True)
            impossible = int((bad & number).sum())  # a number of seconds no time can be
            if impossible:
                report.dropped[IMPOSSIBLE_TIME] += impossible
            if n > impossible:
                report.dropped[f"malformed {canon}"] += n - impossible
            df = df.filter(~bad)
            raw = raw.filter(~bad)
    df = drop_invalid_times(df, report.dropped)
    return conform(df), report


def _is_number(values: pl.Series) -> pl.Series:
    if values.dtype == pl.String or values.dtype.is_numeric():
        return values.cast(pl.Float64, strict=False).is_not_null()
    return pl.repeat(False, len(values), eager=True)


def _nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)) or dtype == pl.Binary


def _convert(raw: pl.DataFrame, column: str, canon: str, scale: float | None) -> pl.Expr:
    col = pl.col(column)
    dtype = raw.schema[column]
    if canon == "time":
        return _time_expr(col, dtype).alias("time")
    if canon in ("track_id", "callsign", "party", "source"):
        expr = col.cast(pl.String).str.strip_chars()
        if canon == "track_id":
            expr = expr.str.to_lowercase()
        return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None).alias(canon)
    if canon == "on_ground":
        if dtype == pl.Boolean:
            return col.alias(canon)
        text = col.cast(pl.String).str.to_lowercase().str.strip_chars()
        return (pl.when(text.is_in(["true", "1", "t", "yes"])).then(True)
                .when(text.is_in(["false", "0", "f", "no"])).then(False).otherwise(None).alias(canon))
    value = col.cast(pl.Float64, strict=False)
    if canon in ("lat", "lon"):  # a position that is not a finite number is no position
        value = pl.when(value.is_finite()).then(value)
    if canon == "altitude" and dtype == pl.String:
        # readsb writes "ground" for surface altitude
        value = pl.when(col.str.to_lowercase() == "ground").then(0.0).otherwise(value)
    if scale not in (None, 1.0):
        value = value * scale
    return value.alias(canon)


def _time_expr(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        expr = col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
        return expr.cast(TIME)
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype.is_numeric():
        return _epoch(col.cast(pl.Float64))
    # Unix seconds (or milliseconds) as text, or ISO 8601 in its common spellings: 'T' or space, fraction
    # or not, 'Z', an offset or nothing (UTC)
    text = (col.cast(pl.String).str.strip_chars().str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
            .str.replace(r"[Zz]$", "+00:00").str.replace(r"([+-]\d\d)(\d\d)$", "${1}:${2}"))
    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    date_only = text.str.to_datetime("%Y-%m-%d", time_unit="us", strict=False)
    return pl.coalesce(_epoch(text.cast(pl.Float64, strict=False)), with_offset.dt.convert_time_zone("UTC"),
                       naive.dt.replace_time_zone("UTC"), date_only.dt.replace_time_zone("UTC")).cast(TIME)


def _epoch(value: pl.Expr) -> pl.Expr:
    """Unix seconds, or milliseconds (told by their size), as a UTC time; null where not representable."""
    return time_from_seconds(pl.when(value.abs() > 1e11).then(value / 1e3).otherwise(value))
