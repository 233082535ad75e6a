"""Cleaning the track table: invalid and impossible values out, duplicates out, order, flights.

Rows without a usable time, identity or position are dropped; impossible
values of altitude, speed or vertical rate are removed (set to null) and the
row kept, since its position still counts. Out-of-order rows are put in order
and counted; duplicates, stale and implausible positions (jumps, spoofing) are
dropped and altitude spikes removed (:mod:`skyfence.tracks.plausibility`), in
that order: stale positions, altitude spikes, spoofing, jumps. Last, reported
vertical rates, speeds and track angles that the altitudes and positions
around them do not show are removed (:mod:`skyfence.tracks.consistency`).
Every removal is counted by reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.sources.tabular import ReadReport
from skyfence.tracks import consistency, plausibility
from skyfence.units import FEET_PER_MINUTE, FOOT, KNOT
from skyfence.tracks.arrays import floats


@dataclass(frozen=True)
class Limits:
    """Bounds outside which a value is impossible for an aircraft (SI)."""

    altitude_min: float = -2000 * FOOT
    altitude_max: float = 75000 * FOOT  # above any operational aircraft (U-2: ~70,000 ft)
    speed_max: float = 1500 * KNOT  # about Mach 2.5 at altitude
    vertical_rate_max: float = 80000 * FEET_PER_MINUTE
    moving_speed: float = 30 * KNOT  # above it, an exactly repeated position is stale
    stale_velocity_window: float = 10.0  # s after a stale position in which the same velocity is stale too
    cruise_band: tuple[float, float] = (20000 * FOOT, 50000 * FOOT)  # where fixed-wing aircraft cannot be slow
    cruise_speed_min: float = 90 * KNOT
    position_margin: float = 1000.0  # m of position error allowed in the reachability test
    jump_horizon: float = plausibility.JUMP_HORIZON  # s after a position up to which it is judged
    spike_rate: float = 500 * FOOT  # m/s (30,000 ft/min) up and straight back down is a spike
    spike_floor: float = 1000 * FOOT


SINCE = "_since"
"""Optional float column, one value for all of an aircraft's rows: when its established segment began, before the
rows given (Unix s; NaN: at its first row). A fold of cleaning (:mod:`skyfence.live.cleaning`) that starts an
aircraft's rules again on a settled row gives it, so that the position-jump rule answers as on the whole track."""

SPEED_MEMORY = 30  # whole s: how long a reported speed stands for the reports after it without one (spoofing test)

OWNED = "_owned"
"""Optional boolean column: when the table has it, removals are counted only on its True rows (a cluster
task cleans its hour with neighbouring data around it and counts only its hour)."""


def clean(df: pl.DataFrame, report: ReadReport | None = None, limits: Limits = Limits(),
          flight_gap: float = 600.0) -> tuple[pl.DataFrame, ReadReport]:
    """A cleaned, ordered copy of the table with ``flight_id``, and the counts of what was removed."""
    report = report if report is not None else ReadReport(rows_read=df.height)
    df = clean_rows(df, report, limits)
    back = out_of_order(df)
    if back:
        report.corrected["out of order (reordered)"] += back
    return clean_tracks(df, report, limits, flight_gap), report


def clean_rows(df: pl.DataFrame, report: ReadReport, limits: Limits = Limits()) -> pl.DataFrame:
    """The checks that look at one row alone: rows without time, identity or a valid position dropped,
    impossible values removed (counted in ``report``)."""
    def drop(frame: pl.DataFrame, bad: pl.Expr, reason: str) -> pl.DataFrame:
        mask = frame.select(bad.fill_null(False)).to_series()
        n = _tally(frame, mask)
        if n:
            report.dropped[reason] += n
        return frame.filter(~mask) if mask.any() else frame

    df = drop(df, pl.col("time").is_null(), "missing time")
    df = drop(df, pl.col("track_id").is_null(), "missing aircraft id")
    df = drop(df, pl.col("lat").is_null() | pl.col("lon").is_null() | pl.col("lat").is_nan() | pl.col("lon").is_nan(),
              "missing position")
    df = drop(df, (pl.col("lat").abs() > 90) | (pl.col("lon").abs() > 180), "position out of range")
    df = drop(df, (pl.col("lat") == 0) & (pl.col("lon") == 0), "position out of range")

    checks = {
        "altitude": (pl.col("altitude") < limits.altitude_min) | (pl.col("altitude") > limits.altitude_max)
        | pl.col("altitude").is_nan(),
        "ground_speed": (pl.col("ground_speed") < 0) | (pl.col("ground_speed") > limits.speed_max)
        | pl.col("ground_speed").is_nan(),
        "track": pl.col("track").is_nan() | (pl.col("track") < -360) | (pl.col("track") > 720),
        "vertical_rate": (pl.col("vertical_rate").abs() > limits.vertical_rate_max) | pl.col("vertical_rate").is_nan(),
    }
    owned = pl.col(OWNED) if OWNED in df.columns else pl.lit(True)
    counts = df.select([(c.fill_null(False) & owned).sum().alias(k) for k, c in checks.items()]).row(0, named=True)
    present = df.select([c.fill_null(False).any().alias(k) for k, c in checks.items()]).row(0, named=True)
    fixes = []
    for name, bad in checks.items():
        if counts[name]:
            report.values_removed[f"impossible {name.replace('_', ' ')}"] += int(counts[name])
        if present[name]:
            fixes.append(pl.when(bad.fill_null(False)).then(None).otherwise(pl.col(name)).alias(name))
    if fixes:
        df = df.with_columns(fixes)
    return df.with_columns((pl.col("track") % 360.0).alias("track"))


def out_of_order(df: pl.DataFrame) -> int:
    """Rows earlier than the previous row of the same aircraft, in the order given."""
    return int(df.select((pl.col("time").diff().over("track_id") < pl.duration(microseconds=0)).sum()).item() or 0)


def clean_tracks(df: pl.DataFrame, report: ReadReport, limits: Limits = Limits(),
                 flight_gap: float = 600.0) -> pl.DataFrame:
    """The checks that look along each aircraft's track (after :func:`clean_rows`): ordered, duplicates,
    stale and implausible positions dropped, altitude spikes removed; then flights numbered."""
    return assign_flights(clean_along(df, report, limits), flight_gap)


def clean_along(df: pl.DataFrame, report: ReadReport, limits: Limits = Limits(),
                trace: Trace | None = None) -> pl.DataFrame:
    """:func:`clean_tracks` without the flights. ``trace``: filled with what each rule answered of each row of
    the ordered table (``trace.table``), for :mod:`skyfence.tracks.settle`."""
    before = _tally(df)
    # stable, so that of two reports at the same time the first given is kept whoever cleans them
    df = df.sort(["track_id", "time"], maintain_order=True)
    first = (pl.int_range(pl.len()) == 0) | pl.col("track_id").ne_missing(pl.col("track_id").shift(1)) \
        | pl.col("time").ne_missing(pl.col("time").shift(1))
    if trace is not None:
        trace.table = df
        df = df.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW))
        trace.start(df.height)
        trace.duplicate = ~df.select(first).to_series().to_numpy()
    df = df.filter(first)  # the first of each (aircraft, time) in that order: sorted, a duplicate follows its first
    if _tally(df) < before:
        report.dropped["duplicate"] += before - _tally(df)
    df = _plausible(df, report, limits, trace)
    df = _consistent(df, report)
    if trace is not None:
        trace.kept[df[_ROW].to_numpy()] = True
        df = df.drop(_ROW)
    return df


_ROW = "_row"  # a traced row's place in the ordered table


@dataclass
class Trace:
    """What cleaning along each track answered of each row of the ordered table (``table``), row for row: what a
    fold of cleaning needs to tell which answers no later report can change (:mod:`skyfence.tracks.settle`)."""

    table: pl.DataFrame | None = None
    duplicate: np.ndarray | None = None  # a later report of the same aircraft and time
    stale: np.ndarray | None = None  # a stale position (dropped)
    spike_input: np.ndarray | None = None  # the altitude the spike rule read (NaN where none, or not reaching it)
    spike_first: np.ndarray | None = None  # a spike by the first pass
    spike: np.ndarray | None = None  # a spike by both
    slow_input: np.ndarray | None = None  # reached the too-slow rule (not a duplicate, not stale)
    slow_alone: np.ndarray | None = None  # too slow by that rule, had it been the aircraft's first report
    jump_input: np.ndarray | None = None  # reached the position-jump rule
    settled: np.ndarray | None = None  # of those: the track settled after it (plausibility.position_contests)
    kept: np.ndarray | None = None  # in the cleaned table

    def start(self, n: int) -> None:
        for name in ("stale", "spike_first", "spike", "slow_input", "slow_alone", "jump_input", "settled", "kept"):
            setattr(self, name, np.zeros(n, dtype=bool))
        self.spike_input = np.full(n, np.nan)


def _tally(df: pl.DataFrame, mask: pl.Series | np.ndarray | None = None) -> int:
    """How many rows (of ``mask``) count: all, or those of the ``OWNED`` column."""
    if OWNED in df.columns:
        owned = df[OWNED].to_numpy()
        return int(owned.sum() if mask is None else (np.asarray(mask) & owned).sum())
    return df.height if mask is None else int(np.asarray(mask).sum())


def _plausible(df: pl.DataFrame, report: ReadReport, limits: Limits, trace: Trace | None = None) -> pl.DataFrame:
    """Stale and implausible positions dropped, altitude spikes removed (table sorted by aircraft and time)."""
    if df.height == 0:
        return df
    ids = df["track_id"].cast(pl.Categorical).to_physical().to_numpy()
    t = df["time"].dt.epoch("us").to_numpy() / 1e6
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    rows = df[_ROW].to_numpy() if trace is not None else None
    # the speed each aircraft last reported (up to 30 s before), kept for the spoofing test: stale
    # velocities are removed below, and a spoofer's speed is one of them
    reported = pl.when(pl.col("ground_speed").is_not_null()).then(pl.col("time")).forward_fill().over("track_id")
    last_speed = df.select(pl.when((pl.col("time") - reported).dt.total_seconds() <= SPEED_MEMORY)
                           .then(pl.col("ground_speed").forward_fill().over("track_id"))).to_series()

    def drop(mask: np.ndarray, reason: str) -> None:
        nonlocal df, ids, t, lat, lon, last_speed, rows
        if mask.any():
            n = _tally(df, mask)
            if n:
                report.dropped[reason] += n
            keep = ~mask
            df, last_speed = df.filter(pl.Series(keep)), last_speed.filter(pl.Series(keep))
            ids, t, lat, lon = ids[keep], t[keep], lat[keep], lon[keep]
            if rows is not None:
                rows = rows[keep]

    speed = floats(df["ground_speed"])
    ground = df["on_ground"].fill_null(False).to_numpy()
    stale = plausibility.stale_positions(plausibility.group_starts(ids), lat, lon, speed, ground,
                                         limits.moving_speed)
    if trace is not None:
        trace.stale[rows] = stale
    if stale.any():
        df = _remove_stale_velocity(df, stale, report, limits)
    drop(stale, "stale position")

    alt = floats(df["altitude"]).copy()
    spikes, first_pass = plausibility.altitude_spike_passes(plausibility.group_starts(ids), t, alt, limits.spike_rate,
                                                             limits.spike_floor)
    if trace is not None:
        trace.spike_input[rows], trace.spike_first[rows], trace.spike[rows] = alt, first_pass, spikes
        trace.slow_input[rows] = True
    if spikes.any():
        if _tally(df, spikes):
            report.values_removed["altitude spike"] += _tally(df, spikes)
        df = df.with_columns(pl.when(pl.Series(spikes)).then(None).otherwise(pl.col("altitude")).alias("altitude"))
        alt[spikes] = np.nan

    # the reported speed, or where there is none the speed the positions imply
    low, high = limits.cruise_band
    before, after = plausibility.leg_speeds(plausibility.group_starts(ids), t, lat, lon)
    reported = floats(last_speed)
    speed = np.where(np.isnan(reported), np.fmax(before, after), reported)
    cruising = (alt >= low) & (alt <= high)
    if trace is not None:  # too slow had it been the aircraft's first report
        trace.slow_alone[rows] = cruising & (np.where(np.isnan(reported), after, reported) < limits.cruise_speed_min)
    drop(cruising & (speed < limits.cruise_speed_min), "too slow for its altitude (spoofed or bad altitude)")
    starts = plausibility.group_starts(ids)
    since = floats(df[SINCE])[starts[:-1]] if SINCE in df.columns else None
    jumps, settled = plausibility.position_contests(starts, t, lat, lon, limits.speed_max, limits.position_margin,
                                                    horizon=limits.jump_horizon, since=since)
    if trace is not None:
        trace.jump_input[rows], trace.settled[rows] = True, settled
    drop(jumps, "position jump")
    return df


def _consistent(df: pl.DataFrame, report: ReadReport) -> pl.DataFrame:
    """Reported vertical rates, speeds and tracks the aircraft's own altitudes and positions do not show, removed."""
    if df.height == 0:
        return df
    starts = plausibility.group_starts(df["track_id"].cast(pl.Categorical).to_physical().to_numpy())
    t = df["time"].dt.epoch("us").to_numpy() / 1e6

    def col(name: str) -> np.ndarray:
        return floats(df[name])

    bad = {"vertical_rate": consistency.vertical_rate_errors(starts, t, col("altitude"), col("vertical_rate"))}
    bad["ground_speed"], bad["track"] = consistency.velocity_errors(starts, t, col("lat"), col("lon"),
                                                                      col("ground_speed"), col("track"))
    reasons = {"vertical_rate": "vertical rate the altitude does not show",
               "ground_speed": "ground speed the positions do not show", "track": "track the positions do not show"}
    fixes = []
    for name, mask in bad.items():
        if mask.any():
            if _tally(df, mask):
                report.values_removed[reasons[name]] += _tally(df, mask)
            fixes.append(pl.when(pl.Series(mask)).then(None).otherwise(pl.col(name)).alias(name))
    return df.with_columns(fixes) if fixes else df


def _remove_stale_velocity(df: pl.DataFrame, stale: np.ndarray, report: ReadReport, limits: Limits) -> pl.DataFrame:
    """A velocity repeated along with a stale position is stale too on the next positions that still carry it
    (within ``stale_velocity_window`` seconds)."""
    run = (pl.col("track_id").ne_missing(pl.col("track_id").shift(1))
           | pl.col("track").ne_missing(pl.col("track").shift(1))
           | pl.col("ground_speed").ne_missing(pl.col("ground_speed").shift(1))).cum_sum()
    since = pl.when(pl.col("_stale")).then(pl.col("time")).otherwise(None).forward_fill().over(run)
    old = (df.with_columns(pl.Series("_stale", stale))
           .select(~pl.col("_stale") & ((pl.col("time") - since).dt.total_seconds(fractional=True)
                                        <= limits.stale_velocity_window).fill_null(False))
           .to_series())
    if not old.any():
        return df
    if _tally(df, old.to_numpy()):
        report.values_removed["stale velocity"] += _tally(df, old.to_numpy())
    return df.with_columns([pl.when(old).then(None).otherwise(pl.col(c)).alias(c)
                            for c in ("ground_speed", "track", "vertical_rate")])


def assign_flights(df: pl.DataFrame, flight_gap: float) -> pl.DataFrame:
    """Number the flights (``flight_id``): a new one at each new aircraft or gap over ``flight_gap`` s.

    The table must be sorted by track_id and time.
    """
    gap_us = int(flight_gap * 1e6)
    new = (pl.col("track_id") != pl.col("track_id").shift(1)) | (
        pl.col("time").diff().dt.total_microseconds() > gap_us)
    return df.with_columns(new.fill_null(True).cum_sum().sub(1).cast(pl.UInt32).alias("flight_id"))
