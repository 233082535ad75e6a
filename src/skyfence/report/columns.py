"""The one place where reports, exports and comparisons name the columns of ``analyze``'s event tables.

Each sink reads an event table through a *view*: a fixed set of names it uses, each taken from the
first of its source columns present in the file (newer names first, older after) and null when none
is. So when ``analyze`` renames or adds a column, only this file changes, and a results folder
written by an older ``analyze`` still reads.
"""

from __future__ import annotations

import polars as pl

UTC = pl.Datetime("us", "UTC")

# view name: (source columns, first present wins; dtype)
CROSSING_VIEW: dict[str, tuple[tuple[str, ...], pl.DataType]] = {
    "track_id": (("track_id",), pl.String),
    "callsign": (("callsign",), pl.String),
    "party": (("party",), pl.String),
    "country": (("country",), pl.String),
    "zone": (("zone",), pl.String),
    "zone_kind": (("zone_kind",), pl.String),
    "flight_id": (("flight_id",), pl.Int64),
    "entry_kind": (("entry_kind",), pl.String),
    "entry_time": (("entry_time",), UTC),
    "exit_time": (("exit_time",), UTC),
    "duration_s": (("duration_s",), pl.Float64),
    "max_depth_km": (("max_depth_km",), pl.Float64),
    "entry_lat": (("entry_lat",), pl.Float64),
    "entry_lon": (("entry_lon",), pl.Float64),
    "exit_lat": (("exit_lat",), pl.Float64),
    "exit_lon": (("exit_lon",), pl.Float64),
    "deepest_lat": (("deepest_lat",), pl.Float64),
    "deepest_lon": (("deepest_lon",), pl.Float64),
    "alt_min_ft": (("alt_min_ft",), pl.Float64),
    "alt_max_ft": (("alt_max_ft",), pl.Float64),
    "warning_lead_s": (("warning_lead_s",), pl.Float64),
    "open": (("open",), pl.Boolean),
    "data_gap": (("data_gap",), pl.Boolean),
    "intent": (("intent",), pl.String),
    "intent_reasons": (("intent_reasons",), pl.String),
}

ENCOUNTER_VIEW: dict[str, tuple[tuple[str, ...], pl.DataType]] = {
    "track_a": (("track_a",), pl.String),
    "track_b": (("track_b",), pl.String),
    "callsign_a": (("callsign_a",), pl.String),
    "callsign_b": (("callsign_b",), pl.String),
    "party_a": (("party_a",), pl.String),
    "party_b": (("party_b",), pl.String),
    "start_time": (("start_time",), UTC),
    "end_time": (("end_time",), UTC),
    "max_level": (("max_level",), pl.String),
    "warning_time_s": (("warning_time_s",), pl.Float64),
    "loss_time": (("loss_time",), UTC),
    # the pair's closest approach (issue 9's columns), else the closest while alerted
    "closest_nm": (("closest_horizontal_nm", "min_horizontal_nm"), pl.Float64),
    "closest_ft": (("closest_vertical_ft", "vertical_at_min_ft"), pl.Float64),
    "closest_time": (("closest_time", "time_of_min"), UTC),
    "closest_lat": (("closest_lat", "lat_at_min", "min_lat"), pl.Float64),
    "closest_lon": (("closest_lon", "lon_at_min", "min_lon"), pl.Float64),
    "alerted_min_nm": (("min_horizontal_nm",), pl.Float64),
}

MANOEUVRE_VIEW: dict[str, tuple[tuple[str, ...], pl.DataType]] = {
    "track_id": (("track_id",), pl.String),
    "callsign": (("callsign",), pl.String),
    "party": (("party",), pl.String),
    "manoeuvre": (("manoeuvre",), pl.String),
    "start_time": (("start_time",), UTC),
    "end_time": (("end_time",), UTC),
    "duration_s": (("duration_s",), pl.Float64),
    "peak": (("peak",), pl.Float64),
    "peak_unit": (("peak_unit",), pl.String),
    "lat": (("lat",), pl.Float64),
    "lon": (("lon",), pl.Float64),
    "near_line_km": (("near_line_km",), pl.Float64),
}

INTERACTION_VIEW: dict[str, tuple[tuple[str, ...], pl.DataType]] = {
    "interaction": (("interaction",), pl.String),
    "track_id": (("track_id",), pl.String),
    "other_track_id": (("other_track_id",), pl.String),
    "callsign": (("callsign",), pl.String),
    "other_callsign": (("other_callsign",), pl.String),
    "party": (("party",), pl.String),
    "other_party": (("other_party",), pl.String),
    "start_time": (("start_time",), UTC),
    "end_time": (("end_time",), UTC),
    "duration_s": (("duration_s",), pl.Float64),
    "closest_nm": (("closest_nm",), pl.Float64),
    "lat": (("lat",), pl.Float64),
    "lon": (("lon",), pl.Float64),
}

COUNTED_KIND = "crossed"
"""The ``entry_kind`` of a crossing seen to happen; only these count as crossings (issue 9). Results
without the column count every row, as ``analyze`` did before."""


def view(table: pl.DataFrame, spec: dict[str, tuple[tuple[str, ...], pl.DataType]]) -> pl.DataFrame:
    """``table`` under the names of ``spec``: each from its first source column present, else null."""
    cols = []
    for name, (sources, dtype) in spec.items():
        present = next((s for s in sources if s in table.columns), None)
        if present is None:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
        else:
            cols.append(_cast(table, present, dtype).alias(name))
    out = table.select(cols) if table.width else pl.DataFrame(schema={n: t for n, (_, t) in spec.items()})
    if spec is ENCOUNTER_VIEW:
        out = out.with_columns(pl.col("closest_ft").abs())  # older analyze: b minus a, signed
    if spec is CROSSING_VIEW:
        # a crossing still open when the aircraft's track ends has no exit: it lasted duration_s
        end = pl.coalesce(pl.col("exit_time"), pl.col("entry_time") + pl.duration(
            microseconds=(pl.col("duration_s").fill_null(0.0) * 1e6).cast(pl.Int64)))
        out = out.with_columns(pl.col("entry_kind").fill_null(COUNTED_KIND), pl.col("intent").fill_null("not assessed"),
                               end.alias("end_time"))
    return out


def _cast(table: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    if dtype == UTC and table.schema[column] == pl.String:  # a CSV read without time parsing
        return col.str.to_datetime(time_zone="UTC", strict=False).cast(UTC)
    if dtype == UTC:
        got = table.schema[column]
        if isinstance(got, pl.Datetime) and got.time_zone is None:
            return col.dt.replace_time_zone("UTC").cast(UTC)
    if dtype == pl.String:
        return col.cast(pl.String)
    return col.cast(dtype, strict=False)


def counted(crossings: pl.DataFrame) -> pl.DataFrame:
    """The crossings that count: seen to cross (``entry_kind`` = crossed) when the column exists."""
    if "entry_kind" not in crossings.columns:
        return crossings
    return crossings.filter(pl.col("entry_kind").cast(pl.String).fill_null(COUNTED_KIND) == COUNTED_KIND)


# The columns analyze's summary functions read, so that they can count a table that lacks some
# (a folder whose table file is missing reads as a table with no columns).
SUMMARY_INPUT: dict[str, dict[str, pl.DataType]] = {
    "crossings": {"party": pl.String, "zone": pl.String, "entry_time": UTC, "warning_lead_s": pl.Float64,
                  "open": pl.Boolean, "data_gap": pl.Boolean, "entry_kind": pl.String},
    "encounters": {"track_a": pl.String, "track_b": pl.String, "callsign_a": pl.String, "callsign_b": pl.String,
                   "party_a": pl.String, "party_b": pl.String, "max_level": pl.String, "start_time": UTC,
                   "time_of_min": UTC, "min_horizontal_nm": pl.Float64, "vertical_at_min_ft": pl.Float64,
                   "loss_time": UTC, "warning_time_s": pl.Float64, "closest_time": UTC,
                   "closest_horizontal_nm": pl.Float64, "closest_vertical_ft": pl.Float64,
                   "closest_above": pl.String, "report_gap_s": pl.Float64, "above_at_min": pl.String,
                   "level_interpolated": pl.Boolean},
    "manoeuvres": {"manoeuvre": pl.String, "party": pl.String},
    "interactions": {"interaction": pl.String, "party": pl.String, "other_party": pl.String},
}


def ensure(table: pl.DataFrame, name: str) -> pl.DataFrame:
    """``table`` with every column the summary functions read for ``name`` (missing ones null)."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in SUMMARY_INPUT[name].items() if c not in table.columns]
    return table.with_columns(missing) if missing else table
