"""Cleaning: impossible values, duplicates, order, flights; on real data."""

import numpy as np
import polars as pl
from hypothesis import example, given
from hypothesis import strategies as st

from skyfence.sources.tabular import from_frame
from skyfence.tracks import plausibility
from skyfence.tracks.clean import clean
from skyfence.units import FOOT, KNOT

T0 = 1_509_530_400  # 2017-11-01: times before 1980 are no receiver's and are dropped by the readers


def test_real_altitude_spike_is_removed_and_counted(samples):
    """FAF4011's recording has altitude outliers up to 107,700 ft."""
    raw = samples.filter(pl.col("scenario") == "military_tanker_racetrack")
    assert raw["altitude"].max() > 100_000
    df, report = from_frame(raw, "test")
    df, report = clean(df, report)
    assert df["altitude"].max() < 75_000 * FOOT
    removed = report.values_removed["impossible altitude"]
    assert removed == raw.filter(pl.col("altitude") > 75_000).height > 0
    # spikes below the limit (22,975 -> 400 -> 22,975 ft within 2 s) go too; the positions stay
    assert report.values_removed["altitude spike"] >= 10
    assert set(report.dropped) <= {"stale position", "duplicate"}
    alt = df.filter(pl.col("altitude").is_not_null())
    step = alt.select((pl.col("altitude").diff().abs() / pl.col("time").diff().dt.total_seconds(fractional=True))
                      .max()).item()
    assert step < 200  # m/s: nothing left that no aircraft could climb


def test_duplicates_order_and_flights():
    raw = pl.DataFrame({
        "time": [T0 + t for t in (30, 10, 10, 20, 5000, 5010, 7)],
        "icao24": ["aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "aaaaaa", "bbbbbb"],
        "lat": [35.02, 35.0, 35.0, 35.01, 35.3, 35.31, 0.0], "lon": [40.0] * 6 + [0.0],
    })
    df, report = from_frame(raw, "t")
    df, report = clean(df, report, flight_gap=600)
    assert report.dropped == {"duplicate": 1, "position out of range": 1}
    assert report.corrected == {"out of order (reordered)": 1}
    assert df["time"].dt.epoch("s").to_list() == [T0 + t for t in (10, 20, 30, 5000, 5010)]
    assert df["flight_id"].to_list() == [0, 0, 0, 1, 1]


def test_missing_position_and_out_of_range():
    raw = pl.DataFrame({"time": [T0 + t for t in (1, 2, 3, 4)], "icao24": ["a1", "a1", "a1", None],
                        "lat": [35.0, None, 95.0, 35.0], "lon": [40.0, 40.0, 40.0, 40.0]})
    df, report = clean(*from_frame(raw, "t"))
    assert df.height == 1
    assert report.dropped == {"missing position": 1, "position out of range": 1, "missing aircraft id": 1}


def test_real_gnss_spoofing_is_dropped_and_the_true_track_kept(samples):
    """THY9BP (2024): from 09:24:25 to 09:47:45 the positions are a spoofer's, crawling at 50 kt at FL380."""
    raw = samples.filter(pl.col("scenario") == "gnss_spoofing")
    df, report = clean(*from_frame(raw, "test"))
    t = pl.col("time")
    spoofed = df.filter((t >= pl.datetime(2024, 9, 17, 9, 24, 25, time_zone="UTC"))
                        & (t <= pl.datetime(2024, 9, 17, 9, 47, 45, time_zone="UTC")))
    assert spoofed.height == 0
    assert report.dropped["too slow for its altitude (spoofed or bad altitude)"] > 500
    assert df.filter(t < pl.datetime(2024, 9, 17, 9, 5, time_zone="UTC")).height > 1000
    assert df.filter(t > pl.datetime(2024, 9, 17, 9, 58, time_zone="UTC")).height > 1000
    assert _max_implied_speed(df) < 700 * KNOT  # over legs of 10 s or more: no jump left


def test_real_stale_positions_are_dropped(samples):
    """The Paris TMA recording repeats positions of moving aircraft; none survives cleaning."""
    raw = samples.filter(pl.col("scenario") == "dense_tma_traffic")
    df, report = clean(*from_frame(raw, "test"))
    repeated = df.filter((pl.col("lat") == pl.col("lat").shift(1)) & (pl.col("lon") == pl.col("lon").shift(1))
                         & (pl.col("track_id") == pl.col("track_id").shift(1)) & (pl.col("ground_speed") > 30 * KNOT))
    assert repeated.height == 0
    assert report.dropped["stale position"] > 10_000
    assert report.values_removed["stale velocity"] > 0


def _max_implied_speed(df: pl.DataFrame) -> float:
    lat, lon = np.radians(df["lat"].to_numpy()), np.radians(df["lon"].to_numpy())
    t = df["time"].dt.epoch("us").to_numpy() / 1e6
    same = df["track_id"].to_numpy()[1:] == df["track_id"].to_numpy()[:-1]
    d = 6_371_000 * np.hypot(np.diff(lat), np.diff(lon) * np.cos(lat[1:]))
    dt = np.diff(t)
    return float(np.max(np.where(same & (dt >= 10), d / np.maximum(dt, 1e-3), 0.0)))


def _track(n: int, speed: float, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(n) * dt
    lat = 35.0 + speed * t / 111_195.0
    return t, lat, np.full(n, 40.0)


@given(n=st.integers(20, 200), outliers=st.sets(st.integers(1, 199), max_size=8),
       offset=st.floats(0.5, 5.0), dt=st.sampled_from([1.0, 5.0, 10.0]))
def test_position_jumps_drop_exactly_the_outliers(n, outliers, offset, dt):
    """Brute force reference: outliers are the displaced points, everything else flies at 250 m/s."""
    outliers = {i for i in outliers if i < n}
    t, lat, lon = _track(n, 250.0, dt)
    lon = lon.copy()
    for i in outliers:
        lon[i] += offset  # 40 to 400 km sideways
    bad = plausibility.position_jumps(np.array([0, n]), t, lat, lon, 1500 * KNOT, 1000.0)
    if len(outliers) < n // 2:
        assert set(np.flatnonzero(bad)) == outliers


def test_excursion_away_and_back_is_dropped_but_a_long_tail_after_one_jump_stays():
    t, lat, lon = _track(300, 200.0, 1.0)
    away = lon.copy()
    away[100:160] += 1.0  # 60 s somewhere else, then back
    bad = plausibility.position_jumps(np.array([0, 300]), t, lat, away, 1500 * KNOT, 1000.0)
    assert set(np.flatnonzero(bad)) == set(range(100, 160))
    jump = lon.copy()
    jump[200:] += 0.1  # one 9 km discontinuity, then a long self-consistent tail
    assert not plausibility.position_jumps(np.array([0, 300]), t, lat, jump, 1500 * KNOT, 1000.0).any()


def _stepped_by_scan(t, alt, a, b, i, window, rate_max) -> bool:
    """Reference: the scan each row once made over the rows within ``window`` s of it."""
    lo = i
    while lo > a and t[i] - t[lo - 1] <= window:
        lo -= 1
    prev = -1
    for j in range(lo, b):
        if t[j] - t[i] > window:
            break
        if not np.isfinite(alt[j]):
            continue
        if prev >= 0 and t[j] > t[prev] and abs(alt[j] - alt[prev]) > rate_max * (t[j] - t[prev]) + 7.62:
            return True
        prev = j
    return False


@given(gaps=st.lists(st.sampled_from([0.5, 1.0, 1.0, 2.0, 5.0, 12.0, 31.0, 45.0]), min_size=1, max_size=80),
       alts=st.lists(st.one_of(st.sampled_from([np.nan]), st.integers(0, 40).map(lambda k: 7000.0 + 100.0 * k)),
                     min_size=80, max_size=80),
       cuts=st.sets(st.integers(1, 79), max_size=3), window=st.sampled_from([10.0, 30.0]))
@example(gaps=[5.0] * 12, alts=[7000.0] * 6 + [11000.0] + [np.nan] * 73, cuts=set(), window=10.0)  # rows exactly
def test_altitude_steps_are_found_near_every_row_as_a_scan_finds_them(gaps, alts, cuts, window):
    """The one-pass marking of the rows near an altitude step against the scan around each row (several
    aircraft, missing altitudes, steps at the window's edge)."""
    from skyfence.tracks import consistency

    t = np.concatenate([[0.0], np.cumsum(gaps)])
    n = len(t)
    alt = np.asarray(alts[:n], dtype=float)
    starts = np.array(sorted({0, n} | {c for c in cuts if c < n}), dtype=np.int64)
    rate = consistency.STEP_RATE
    got = consistency._stepped_rows(starts, t, alt, window, rate)
    want = [_stepped_by_scan(t, alt, starts[g], starts[g + 1], i, window, rate)
            for g in range(len(starts) - 1) for i in range(starts[g], starts[g + 1])]
    assert got.tolist() == want
