"""Encounters in recorded tracks: align, run the conflict engine on every instant, merge, tabulate.

Columns: the figures while alerted (``min_horizontal_nm``, ``min_vertical_ft``, ``time_of_min``, the
absolute ``vertical_at_min_ft`` with ``above_at_min`` saying which aircraft was higher, ``lat_at_min``,
``lon_at_min``), the pair's closest approach over the encounter widened by the look-ahead
(``closest_horizontal_nm``, ``closest_vertical_ft``, ``closest_time``, ``closest_above``, ``closest_lat``,
``closest_lon``), the interval between the reports under each point (``report_gap_s`` at the closest
approach, ``report_gap_at_min_s`` at the alerted minimum) and ``level_interpolated``: the alerted
minimum lies between reports further apart than the agreement's ``interpolation_gap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from skyfence.agreement.model import SeparationThresholds
from skyfence.detect.closest import closest_approach, flight_starts, report_gaps
from skyfence.detect.conflict_table import level_code, party_codes
from skyfence.detect.conflicts import LEVELS, ConflictRules, StateVectors, allowed_pairs, find_conflicts
from skyfence.detect.encounters import merge_encounters, presence_keys
from skyfence.detect.search_memo import SearchMemo
from skyfence.tracks.align import Snapshots, align
from skyfence.tracks.schema import seconds, times
from skyfence.units import m_to_ft, m_to_nm

ENCOUNTER_COLUMNS = {
    "track_a": pl.String, "track_b": pl.String, "callsign_a": pl.String, "callsign_b": pl.String,
    "party_a": pl.String, "party_b": pl.String, "start_time": pl.Datetime("us", "UTC"),
    "end_time": pl.Datetime("us", "UTC"), "min_horizontal_nm": pl.Float64, "min_vertical_ft": pl.Float64,
    "time_of_min": pl.Datetime("us", "UTC"), "max_level": pl.String, "last_level": pl.String,
    "warning_time_s": pl.Float64,
    "closest_horizontal_nm": pl.Float64, "closest_vertical_ft": pl.Float64,
    "closest_time": pl.Datetime("us", "UTC"), "closest_above": pl.String,
    "duration_s": pl.Float64, "vertical_at_min_ft": pl.Float64, "above_at_min": pl.String,
    "loss_time": pl.Datetime("us", "UTC"), "lat_at_min": pl.Float64, "lon_at_min": pl.Float64,
    "closest_lat": pl.Float64, "closest_lon": pl.Float64, "report_gap_s": pl.Float64,
    "report_gap_at_min_s": pl.Float64, "level_interpolated": pl.Boolean,
    "flight_a": pl.UInt32, "flight_b": pl.UInt32, "snapshots": pl.Int64,
}
SAME_LEVEL = 12.5 * 0.3048  # m: half a 25 ft reporting step; closer than this neither is above


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

    @cached_property
    def vectors(self) -> StateVectors:
        """The snapshot states as the conflict engine's vectors (computed once: encounters, interactions and intent
        all search them)."""
        snap = self.snap
        return StateVectors.from_arrays(snap.lon, snap.lat, snap.alt, snap.ground_speed, snap.track, snap.vertical_rate)

    @cached_property
    def parties(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """Each airborne state's party code and the known parties (:func:`party_codes`; once for encounters,
        interactions and intent)."""
        return party_codes(self.air["party"])

    @property
    def flight(self) -> np.ndarray:
        """The flight number of each snapshot state (non-decreasing: a flight's states are contiguous)."""
        return self.air["flight_id"].to_numpy().astype(np.int64)[self.snap.row]


def align_airborne(df: pl.DataFrame, step: float, max_gap: float) -> Aligned:
    """Airborne states of a cleaned table, aligned in time (``step`` seconds apart)."""
    air = df.with_row_index("row")
    if "on_ground" in df.columns:
        air = air.filter(~pl.col("on_ground").fill_null(False))
    return Aligned(air, align(air, step, max_gap))


def detect_encounters(df: pl.DataFrame, thresholds: SeparationThresholds, max_gap: float,
                      settings: EncounterSettings = EncounterSettings(), aligned: Aligned | None = None,
                      memo: SearchMemo | None = None) -> pl.DataFrame:
    """Encounters between flights of a cleaned, identified track table, sorted by start time (``memo``: the
    instants searched by an earlier run, :mod:`skyfence.detect.search_memo`)."""
    aligned = aligned or align_airborne(df, settings.step, max_gap)
    air, snap = aligned.air, aligned.snap
    code_rows, known = aligned.parties
    code = code_rows[snap.row]
    flight = air["flight_id"].to_numpy().astype(np.int64)[snap.row]
    sv = aligned.vectors
    rules = ConflictRules.from_thresholds(thresholds)
    min_level = level_code(settings.level)
    figs = find_conflicts(sv, rules, group=snap.group, code=code, allowed=allowed_pairs(len(known), settings.pairs),
                          min_level=min_level, memo=memo)
    enc = merge_encounters(figs, snap.time, snap.group, flight, settings.step, settings.merge_gap, rules,
                           presence_keys(flight, snap.group), min_level,
                           (thresholds.alerting_m, thresholds.alerting_n))
    if len(enc) == 0:
        return pl.DataFrame(schema=ENCOUNTER_COLUMNS)
    ident = air.select(pl.col("track_id").alias("track"), pl.col("callsign"), pl.col("party").cast(pl.String))
    row_a, row_b = pl.Series(snap.row[enc.state_a]), pl.Series(snap.row[enc.state_b])
    ia = ident.select(pl.all().gather(row_a)).rename(lambda c: f"{c}_a")
    ib = ident.select(pl.all().gather(row_b)).rename(lambda c: f"{c}_b")
    mid_lat, mid_lon = _midpoint(snap.lat[enc.state_a], snap.lon[enc.state_a], snap.lat[enc.state_b],
                                 snap.lon[enc.state_b])
    # the pair's closest approach, over the encounter widened by the look-ahead
    starts = flight_starts(flight)
    reach = int(np.ceil(thresholds.lookahead / settings.step))
    g_start = np.round((enc.start - snap.t0) / settings.step).astype(np.int64)
    g_end = np.round((enc.end - snap.t0) / settings.step).astype(np.int64)
    cl = closest_approach(sv.pos, snap.alt, snap.group, starts, snap.t0, settings.step, enc.flight_a, enc.flight_b,
                          g_start - reach, g_end + reach)
    c_lat, c_lon = _closest_position(snap, cl)
    # the reports under each point
    report_t = seconds(air["time"])
    report_starts = flight_starts(air["flight_id"].to_numpy().astype(np.int64))
    gap_close = np.fmax(report_gaps(report_t, report_starts, enc.flight_a, cl.time),
                        report_gaps(report_t, report_starts, enc.flight_b, cl.time))
    gap_min = np.fmax(report_gaps(report_t, report_starts, enc.flight_a, enc.time_of_min),
                      report_gaps(report_t, report_starts, enc.flight_b, enc.time_of_min))
    table = pl.concat([ia, ib], how="horizontal").with_columns(
        times(enc.start).alias("start_time"), times(enc.end).alias("end_time"),
        pl.Series(m_to_nm(enc.min_horizontal)).alias("min_horizontal_nm"),
        pl.Series(m_to_ft(enc.min_vertical)).alias("min_vertical_ft"),
        times(enc.time_of_min).alias("time_of_min"),
        pl.Series(np.array(LEVELS, dtype=object)[enc.max_level.astype(int)], dtype=pl.String).alias("max_level"),
        pl.Series(np.array(LEVELS, dtype=object)[enc.last_level.astype(int)], dtype=pl.String).alias("last_level"),
        pl.Series(enc.warning_time).alias("warning_time_s"),
        pl.Series(m_to_nm(cl.horizontal)).alias("closest_horizontal_nm"),
        pl.Series(m_to_ft(np.abs(cl.vertical))).alias("closest_vertical_ft"),
        times(cl.time).alias("closest_time"),
        pl.Series(above(cl.vertical), dtype=pl.String).alias("closest_above"),
        pl.Series(enc.end - enc.start).alias("duration_s"),
        pl.Series(m_to_ft(np.abs(enc.vertical_at_min))).alias("vertical_at_min_ft"),
        pl.Series(above(enc.vertical_at_min), dtype=pl.String).alias("above_at_min"),
        times(enc.loss_time).alias("loss_time"),
        pl.Series(mid_lat).alias("lat_at_min"), pl.Series(mid_lon).alias("lon_at_min"),
        pl.Series(c_lat).alias("closest_lat"), pl.Series(c_lon).alias("closest_lon"),
        pl.Series(gap_close).alias("report_gap_s"), pl.Series(gap_min).alias("report_gap_at_min_s"),
        pl.Series(np.nan_to_num(gap_min) > thresholds.interpolation_gap).alias("level_interpolated"),
        pl.Series(enc.flight_a).cast(pl.UInt32).alias("flight_a"),
        pl.Series(enc.flight_b).cast(pl.UInt32).alias("flight_b"),
        pl.Series(enc.snapshots).alias("snapshots"),
    )
    table = table.select([pl.col(c).cast(t) for c, t in ENCOUNTER_COLUMNS.items()])
    return table.with_columns(pl.col(pl.Float64).fill_nan(None)).sort(
        ["start_time", "track_a", "track_b"], maintain_order=True)


def above(vertical: np.ndarray) -> list[str | None]:
    """Which of the pair was higher, from b's height above a: ``"a"``, ``"b"``, ``"same"`` (within half a
    25 ft step) or None (unknown). A list: polars reads an object array whose first item is None as
    objects, which it cannot make strings (a monitor window on the real Swiss day did that)."""
    v = np.asarray(vertical, dtype=float)
    out = np.where(v >= SAME_LEVEL, "b", np.where(v <= -SAME_LEVEL, "a", "same")).astype(object)
    out[~np.isfinite(v)] = None
    return out.tolist()


def _midpoint(lat_a, lon_a, lat_b, lon_b) -> tuple[np.ndarray, np.ndarray]:
    dlon = (lon_b - lon_a + 180) % 360 - 180
    return (lat_a + lat_b) / 2, (lon_a + dlon / 2 + 180) % 360 - 180


def _closest_position(snap: Snapshots, cl) -> tuple[np.ndarray, np.ndarray]:
    """The midpoint of the pair at their closest approach (NaN where they were never seen together)."""
    lat, lon = np.full(len(cl), np.nan), np.full(len(cl), np.nan)
    ok = cl.state_a >= 0
    if not ok.any():
        return lat, lon
    ia, ib, f = cl.state_a[ok], cl.state_b[ok], cl.frac[ok]
    na, nb = np.where(f > 0, ia + 1, ia), np.where(f > 0, ib + 1, ib)

    def at(i, j):
        dlon = (snap.lon[j] - snap.lon[i] + 180) % 360 - 180
        return snap.lat[i] + f * (snap.lat[j] - snap.lat[i]), (snap.lon[i] + f * dlon + 180) % 360 - 180

    lat_a, lon_a = at(ia, na)
    lat_b, lon_b = at(ib, nb)
    lat[ok], lon[ok] = _midpoint(lat_a, lon_a, lat_b, lon_b)
    return lat, lon
