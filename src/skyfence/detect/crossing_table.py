"""Crossing events of all areas as one table, in the units people read (km, ISO times)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.detect.crossings import ENTRY_KINDS, WarningStats, detect_area
from skyfence.tracks.arrays import TrackArrays
from skyfence.tracks.row_memo import RowMemo
from skyfence.tracks.schema import times
from skyfence.units import m_to_ft

CROSSING_COLUMNS = {
    "track_id": pl.String, "callsign": pl.String, "party": pl.String, "zone": pl.String, "entry_kind": pl.String,
    "entry_time": pl.Datetime("us", "UTC"), "exit_time": pl.Datetime("us", "UTC"),
    "duration_s": pl.Float64, "max_depth_km": pl.Float64,
    "entry_lat": pl.Float64, "entry_lon": pl.Float64, "exit_lat": pl.Float64, "exit_lon": pl.Float64,
    "warning_lead_s": pl.Float64,
    "zone_kind": pl.String, "flight_id": pl.UInt32, "open": pl.Boolean, "exit_final": pl.Boolean, "entry_observed": pl.Boolean,
    "alt_min_ft": pl.Float64, "alt_max_ft": pl.Float64, "max_gap_s": pl.Float64, "data_gap": pl.Boolean,
    "entry_gap_s": pl.Float64, "exit_gap_s": pl.Float64,
    "deepest_lat": pl.Float64, "deepest_lon": pl.Float64,
}


@dataclass(frozen=True)
class CrossingResult:
    """All crossings, and warning statistics per area."""

    table: pl.DataFrame
    warnings: dict[str, WarningStats]


def detect_crossings(df: pl.DataFrame, tr: TrackArrays, agreement: Agreement, memo: RowMemo | None = None
                     ) -> CrossingResult:
    """Crossings into every restricted area of the agreement, sorted by entry time.

    ``df`` is the cleaned track table and ``tr`` its arrays in the agreement's
    projection (:func:`skyfence.tracks.arrays.to_arrays`).
    """
    th = agreement.thresholds.crossing
    frames, stats = [], {}
    for area in agreement.areas:
        ev, stats[area.id] = detect_area(tr, area, th, memo)
        if len(ev) == 0:
            continue
        proj = tr.projection
        entry_lon, entry_lat = proj.inverse(ev.entry_x, ev.entry_y)
        exit_lon, exit_lat = proj.inverse(ev.exit_x, ev.exit_y)
        deep_lon, deep_lat = proj.inverse(tr.x[ev.max_depth_row], tr.y[ev.max_depth_row])
        # gather by expression: indexing the frame would rechunk every column first
        ident = df.select(pl.col(["track_id", "callsign", "party", "flight_id"]).gather(pl.Series(ev.first_row)))
        frames.append(ident.with_columns(
            pl.lit(area.id).alias("zone"),
            pl.Series(np.array(ENTRY_KINDS, dtype=object)[ev.entry_kind], dtype=pl.String).alias("entry_kind"),
            times(ev.entry_time).alias("entry_time"),
            times(ev.exit_time).alias("exit_time"),
            pl.Series(ev.duration).alias("duration_s"),
            pl.Series(ev.max_depth / 1000.0).alias("max_depth_km"),
            pl.Series(entry_lat).alias("entry_lat"), pl.Series(entry_lon).alias("entry_lon"),
            pl.Series(exit_lat).alias("exit_lat"), pl.Series(exit_lon).alias("exit_lon"),
            pl.Series(ev.warning_lead).alias("warning_lead_s"),
            pl.lit(area.kind).alias("zone_kind"),
            pl.Series(ev.open).alias("open"),
            pl.Series(ev.exit_final).alias("exit_final"),
            pl.Series(ev.entry_observed).alias("entry_observed"),
            pl.Series(m_to_ft(ev.alt_min)).alias("alt_min_ft"),
            pl.Series(m_to_ft(ev.alt_max)).alias("alt_max_ft"),
            pl.Series(ev.max_gap).alias("max_gap_s"),
            pl.Series(ev.max_gap > th.data_gap).alias("data_gap"),
            pl.Series(ev.entry_gap).alias("entry_gap_s"), pl.Series(ev.exit_gap).alias("exit_gap_s"),
            pl.Series(deep_lat).alias("deepest_lat"), pl.Series(deep_lon).alias("deepest_lon"),
        ))
    if not frames:
        table = pl.DataFrame(schema=CROSSING_COLUMNS)
    else:
        table = pl.concat(frames, how="vertical_relaxed").select(
            [pl.col(c).cast(t) for c, t in CROSSING_COLUMNS.items()])
        table = table.with_columns(pl.col("^.*(_s|_km|_ft|_lat|_lon)$").fill_nan(None))
        table = table.sort(["entry_time", "track_id", "zone"])
    return CrossingResult(table, stats)


