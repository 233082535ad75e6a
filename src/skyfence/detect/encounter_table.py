"""Encounters in recorded tracks: align, run the conflict engine on every instant, merge, tabulate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.agreement.model import SeparationThresholds
from skyfence.detect.conflict_table import level_code, party_codes
from skyfence.detect.conflicts import LEVELS, ConflictRules, StateVectors, allowed_pairs, find_conflicts
from skyfence.detect.encounters import merge_encounters, presence_keys
from skyfence.tracks.align import Snapshots, align
from skyfence.tracks.schema import times
from skyfence.units import m_to_ft, m_to_nm

ENCOUNTER_COLUMNS = {
    "track_a": pl.String, "track_b": pl.String, "callsign_a": pl.String, "callsign_b": pl.String,
    "party_a": pl.String, "party_b": pl.String, "start_time": pl.Datetime("us", "UTC"),
    "end_time": pl.Datetime("us", "UTC"), "min_horizontal_nm": pl.Float64, "min_vertical_ft": pl.Float64,
    "time_of_min": pl.Datetime("us", "UTC"), "max_level": pl.String, "warning_time_s": pl.Float64,
    "duration_s": pl.Float64, "vertical_at_min_ft": pl.Float64, "loss_time": pl.Datetime("us", "UTC"),
    "min_lat": pl.Float64, "min_lon": pl.Float64, "flight_a": pl.UInt32, "flight_b": pl.UInt32,
    "snapshots": pl.Int64,
}


@dataclass(frozen=True)
class EncounterSettings:
    """How recorded tracks are turned into encounters."""

    pairs: str = "parties"
    step: float = 2.0
    level: str = "warning"
    merge_gap: float = 60.0


@dataclass(frozen=True)
class Aligned:
    """Airborne states on a common clock: the airborne rows of the table (``air``, with ``row``, their
    index in the full table) and their snapshots."""

    air: pl.DataFrame
    snap: Snapshots

    @property
    def table_row(self) -> np.ndarray:
        """The full-table row of each snapshot state."""
        return self.air["row"].to_numpy()[self.snap.row]


def align_airborne(df: pl.DataFrame, step: float, max_gap: float) -> Aligned:
    """Airborne states of a cleaned table, aligned in time (``step`` seconds apart)."""
    air = df.with_row_index("row")
    if "on_ground" in df.columns:
        air = air.filter(~pl.col("on_ground").fill_null(False))
    return Aligned(air, align(air, step, max_gap))


def detect_encounters(df: pl.DataFrame, thresholds: SeparationThresholds, max_gap: float,
                      settings: EncounterSettings = EncounterSettings(), aligned: Aligned | None = None
                      ) -> pl.DataFrame:
    """Encounters between flights of a cleaned, identified track table, sorted by start time."""
    aligned = aligned or align_airborne(df, settings.step, max_gap)
    air, snap = aligned.air, aligned.snap
    code_rows, known = party_codes(air["party"])
    code = code_rows[snap.row]
    flight = air["flight_id"].to_numpy().astype(np.int64)[snap.row]
    sv = StateVectors.from_arrays(snap.lon, snap.lat, snap.alt, snap.ground_speed, snap.track, snap.vertical_rate)
    rules = ConflictRules.from_thresholds(thresholds)
    figs = find_conflicts(sv, rules, group=snap.group, code=code, allowed=allowed_pairs(len(known), settings.pairs),
                          min_level=level_code(settings.level))
    enc = merge_encounters(figs, snap.time, snap.group, flight, settings.step, settings.merge_gap, rules,
                           presence_keys(flight, snap.group))
    if len(enc) == 0:
        return pl.DataFrame(schema=ENCOUNTER_COLUMNS)
    ident = air.select(pl.col("track_id").alias("track"), pl.col("callsign"), pl.col("party").cast(pl.String))
    row_a, row_b = pl.Series(snap.row[enc.state_a]), pl.Series(snap.row[enc.state_b])
    ia = ident.select(pl.all().gather(row_a)).rename(lambda c: f"{c}_a")
    ib = ident.select(pl.all().gather(row_b)).rename(lambda c: f"{c}_b")
    mid_lat = (snap.lat[enc.state_a] + snap.lat[enc.state_b]) / 2
    dlon = (snap.lon[enc.state_b] - snap.lon[enc.state_a] + 180) % 360 - 180
    mid_lon = (snap.lon[enc.state_a] + dlon / 2 + 180) % 360 - 180
    table = pl.concat([ia, ib], how="horizontal").with_columns(
        times(enc.start).alias("start_time"), times(enc.end).alias("end_time"),
        pl.Series(m_to_nm(enc.min_horizontal)).alias("min_horizontal_nm"),
        pl.Series(m_to_ft(enc.min_vertical)).alias("min_vertical_ft"),
        times(enc.time_of_min).alias("time_of_min"),
        pl.Series(np.array(LEVELS, dtype=object)[enc.max_level.astype(int)], dtype=pl.String).alias("max_level"),
        pl.Series(enc.warning_time).alias("warning_time_s"),
        pl.Series(enc.end - enc.start).alias("duration_s"),
        pl.Series(m_to_ft(enc.vertical_at_min)).alias("vertical_at_min_ft"),
        times(enc.loss_time).alias("loss_time"),
        pl.Series(mid_lat).alias("min_lat"), pl.Series(mid_lon).alias("min_lon"),
        pl.Series(enc.flight_a).cast(pl.UInt32).alias("flight_a"),
        pl.Series(enc.flight_b).cast(pl.UInt32).alias("flight_b"),
        pl.Series(enc.snapshots).alias("snapshots"),
    )
    table = table.select([pl.col(c).cast(t) for c, t in ENCOUNTER_COLUMNS.items()])
    return table.with_columns(pl.col(pl.Float64).fill_nan(None)).sort(["start_time", "track_a", "track_b"])


