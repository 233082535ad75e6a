"""Crossing detection: exact timing on straight tracks, hysteresis, gaps, zones, warnings, a brute-force reference."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod
from scipy.optimize import brentq, minimize_scalar

from skyfence import synthetic
from skyfence.agreement import load_agreement
from skyfence.detect.crossing_table import detect_crossings
from skyfence.detect.crossings import detect_area
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.arrays import to_arrays
from skyfence.tracks.clean import clean
from tests.agreements import simple, write

GEOD = Geod(ellps="WGS84")
BLUE, RED = "a01234", "778123"  # a US and a Syrian address


@pytest.fixture(scope="module")
def line_agreement(tmp_path_factory):
    return load_agreement(write(tmp_path_factory.mktemp("a"), simple()))


def run(df: pl.DataFrame, agreement) -> pl.DataFrame:
    df, _ = clean(df, ReadReport(), flight_gap=agreement.thresholds.crossing.flight_gap)
    df = df.with_columns(agreement.identifier.assign(df["track_id"], df["callsign"]))
    return detect_crossings(df, to_arrays(df, agreement.projection), agreement).table


def crossing_time_of_meridian(lon, lat, heading, speed, meridian=40.0):
    def f(t):
        return synthetic.position_at(lon, lat, heading, speed, t)[0] - meridian
    return brentq(f, 0.0, 20000.0 / speed * 10, xtol=1e-6)


def distance_to_meridian(lon, lat, meridian=40.0):
    res = minimize_scalar(lambda p: GEOD.inv(lon, lat, meridian, p)[2], bounds=(lat - 1, lat + 1), method="bounded",
                          options={"xatol": 1e-10})
    return res.fun


@given(lat=st.floats(35.0, 36.0), dlon=st.floats(0.05, 0.6), heading=st.floats(60.0, 120.0),
       speed=st.floats(80.0, 320.0), interval=st.sampled_from([1.0, 2.0, 4.0, 5.0, 10.0, 12.0]),
       offset=st.floats(0.0, 1.0))
def test_entry_time_within_half_a_second_of_the_exact_answer(line_agreement, lat, dlon, heading, speed, interval,
                                                             offset):
    lon = 40.0 - dlon
    t_cross = crossing_time_of_meridian(lon, lat, heading, speed)
    duration = t_cross + 600.0
    df = synthetic.straight_track(lon, lat, heading, speed, duration, interval, t0=synthetic.EPOCH_2017 + offset,
                                  track_id=BLUE, callsign="BLUE1")
    out = run(df, line_agreement)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["party"] == "blue" and row["zone"] == "red-side"
    entry = row["entry_time"].timestamp() - synthetic.EPOCH_2017 - offset
    assert abs(entry - t_cross) < 0.5
    exact_lon, exact_lat = synthetic.position_at(lon, lat, heading, speed, t_cross)
    assert GEOD.inv(row["entry_lon"], row["entry_lat"], exact_lon, exact_lat)[2] < 0.5 * speed
    # depth of the deepest state agrees with the geodesic distance to the line
    assert row["max_depth_km"] * 1000 == pytest.approx(distance_to_meridian(row["deepest_lon"], row["deepest_lat"]),
                                                       rel=0.005)
    area = line_agreement.area("red-side")
    last_inside = area.polygon.contains(shapely.Point(df["lon"][-1], df["lat"][-1]))
    x, y = line_agreement.projection.forward(np.array([df["lon"][-1]]), np.array([df["lat"][-1]]))
    if shapely.distance(area.polygon_xy.boundary, shapely.Point(x[0], y[0])) > 1.0:  # on the region's edge, either
        assert row["open"] == last_inside and (row["exit_time"] is None) == last_inside


def test_entry_and_exit_on_the_real_euphrates(euphrates):
    """A Syrian jet crosses the river near Deir ez-Zor and comes back; times match a dense geodesic reference."""
    lon, lat, heading, speed, interval = 40.0, 35.15, 40.0, 230.0, 4.0
    out_leg = synthetic.straight_track(lon, lat, heading, speed, 400, interval, track_id=RED, callsign="SYR1")
    end_lon, end_lat = out_leg["lon"][-1], out_leg["lat"][-1]
    back = synthetic.straight_track(end_lon, end_lat, heading + 180, speed, 400, interval,
                                    t0=synthetic.EPOCH_2017 + 400 + interval, track_id=RED, callsign="SYR1")
    out = run(pl.concat([out_leg, back]), euphrates)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["zone"] == "coalition-side" and row["party"] == "russia_syria" and not row["open"]
    east = euphrates.area("coalition-side").polygon

    def inside(t):
        if t <= 400:
            p = synthetic.position_at(lon, lat, heading, speed, t)
        else:
            p = synthetic.position_at(end_lon, end_lat, heading + 180, speed, t - 400 - interval)
        return east.contains(shapely.Point(p))

    ts = np.arange(0, 800, 0.05)
    flags = np.array([inside(t) for t in ts])
    first, last = ts[np.argmax(flags)], ts[len(flags) - 1 - np.argmax(flags[::-1])]
    assert abs(row["entry_time"].timestamp() - synthetic.EPOCH_2017 - first) < 0.5
    # the turn-around is not a straight line: the exit is judged against the return leg alone
    assert abs(row["exit_time"].timestamp() - synthetic.EPOCH_2017 - last) < 0.5 + interval
    assert row["duration_s"] == pytest.approx(last - first, abs=0.5 + interval)


def zigzag(amplitude_m: float, period: float, duration: float, base_lon=40.0, lat=35.5, interval=2.0, ident=BLUE,
           t0=synthetic.EPOCH_2017):
    """A track flying north along the line, swinging across it by ``amplitude_m``."""
    t = np.arange(0, duration, interval)
    dlon = amplitude_m * np.sin(2 * np.pi * t / period) / (111320 * np.cos(np.radians(lat)))
    lat_t = lat + 200.0 * t / 111000
    return synthetic.table(t0 + t, ident, "ZIG", base_lon + dlon, lat_t, 6000.0, 200.0, 0.0, 0.0)


def test_jitter_along_the_line_is_not_a_crossing(line_agreement):
    assert run(zigzag(300, 60, 1200), line_agreement).height == 0


def test_brief_shallow_return_is_one_event_and_real_return_is_two(line_agreement):
    t0 = synthetic.EPOCH_2017
    planned = np.r_[np.full(30, -5000.0), np.full(30, 4000.0), np.full(15, -300.0), np.full(30, 4000.0),
                    np.full(60, -6000.0), np.full(30, 5000.0)]
    depth = planned.copy()  # across the line at 500 m/s: a faster jump would be a position no aircraft reaches
    for i in range(1, len(depth)):
        depth[i] = np.clip(planned[i], depth[i - 1] - 1000.0, depth[i - 1] + 1000.0)
    t = np.arange(len(depth)) * 2.0
    lon = 40.0 + depth / (111320 * np.cos(np.radians(35.5)))
    df = synthetic.table(t0 + t, BLUE, "B", lon, 35.5 + t * 1e-5, 6000.0, 200.0, 90.0, 0.0)
    out = run(df, line_agreement)
    assert out.height == 2
    assert out["max_depth_km"].to_list() == pytest.approx([4.0, 5.0], rel=0.005)


def test_open_event_data_gap_and_start_inside(line_agreement):
    t0 = synthetic.EPOCH_2017
    inside_from_start = synthetic.straight_track(40.2, 35.5, 90, 200, 300, 5, t0, BLUE, "B1")
    gappy = synthetic.straight_track(39.8, 35.0, 90, 200, 900, 5, t0, "a0abcd", "B2")
    gappy = gappy.filter((pl.col("time").dt.epoch("s") - int(t0) <= 300) | (pl.col("time").dt.epoch("s") - int(t0) > 420))
    out = run(pl.concat([inside_from_start, gappy]), line_agreement).sort("callsign")
    first, second = out.row(0, named=True), out.row(1, named=True)
    assert not first["entry_observed"] and first["open"]
    assert second["entry_observed"] and second["data_gap"] and second["max_gap_s"] == pytest.approx(125.0)


def test_unknown_aircraft_and_own_side_are_not_crossings(line_agreement):
    t0 = synthetic.EPOCH_2017
    civil = synthetic.straight_track(39.5, 35.5, 90, 220, 900, 5, t0, "4b1803", "SWR1")  # Swiss, unknown
    red_home = synthetic.straight_track(40.2, 35.5, 90, 220, 600, 5, t0, RED, "R1")  # red stays east
    assert run(pl.concat([civil, red_home]), line_agreement).height == 0


def test_zone_band_and_validity_window(tmp_path):
    zone = {"id": "box", "shape": {"bbox": [39.3, 35.3, 39.7, 35.7]}, "floor": "FL200", "ceiling": "FL400",
            "owner": "red", "closed_to": ["blue"], "valid_from": "2017-11-01T00:05:00Z"}
    a = load_agreement(write(tmp_path, simple(zones=[zone])))
    t0 = synthetic.EPOCH_2017
    low = synthetic.straight_track(39.2, 35.5, 90, 200, 400, 2, t0 + 600, BLUE, "LOW", altitude=15000 * 0.3048)
    high = synthetic.straight_track(39.2, 35.5, 90, 200, 400, 2, t0 + 600, "a00002", "HIGH", altitude=25000 * 0.3048)
    # climbs through the floor inside the box: entry at the exact time it passes FL200
    climb = synthetic.straight_track(39.45, 35.45, 0, 50, 300, 4, t0 + 600, "a00003", "CLIMB",
                                     altitude=19000 * 0.3048, vertical_rate=10.0)
    early = synthetic.straight_track(39.2, 35.5, 90, 200, 400, 2, t0 + 200, "a00004", "EARLY", altitude=25000 * 0.3048)
    out = run(pl.concat([low, high, climb, early]), a).filter(pl.col("zone") == "box").sort("callsign")
    assert out["callsign"].to_list() == ["CLIMB", "EARLY", "HIGH"]
    climb_row = out.row(0, named=True)
    exact = (20000 - 19000) * 0.3048 / 10.0
    assert abs(climb_row["entry_time"].timestamp() - (t0 + 600) - exact) < 0.01
    assert abs(out.row(1, named=True)["entry_time"].timestamp() - (t0 + 300)) < 0.01  # the window opened



def test_a_zone_closing_puts_the_aircraft_out_at_its_closing_time(tmp_path):
    """A report exactly at a zone's valid_to is inside; the aircraft is out from then, not from its next report
    (four Swiss crossings of a user's zone left at 14:00:10 for a 14:00:00 closing, and one of 11.3 s inside was
    counted as 21.3 s, over min_duration; user trial)."""
    zone = {"id": "box", "shape": {"bbox": [39.3, 35.3, 39.7, 35.7]}, "owner": "red", "closed_to": ["blue"],
            "valid_to": "2017-11-01T00:10:00Z"}
    a = load_agreement(write(tmp_path, simple(zones=[zone])))
    t0 = synthetic.EPOCH_2017
    # in at about t0+445, reports every 2 s, one of them at t0+600 exactly
    long = synthetic.straight_track(39.2, 35.5, 90, 200, 300, 2, t0 + 400, BLUE, "LONG", altitude=25000 * 0.3048)
    # in about 11 s before the closing, reports every 10 s (t0+590, t0+600, t0+610)
    late = synthetic.straight_track(39.2, 35.4, 90, 200, 200, 10, t0 + 540, "a00002", "LATE",
                                    altitude=25000 * 0.3048)
    out = run(pl.concat([long, late]), a).filter(pl.col("zone") == "box")
    assert out["callsign"].to_list() == ["LONG"]  # LATE was in for under min_duration (20 s)
    assert out.row(0, named=True)["exit_time"].timestamp() == pytest.approx(t0 + 600, abs=1e-3)


def test_level_keeping_at_a_zone_ceiling_is_one_crossing_and_a_climb_out_is_two(tmp_path):
    """An airliner cruising at a zone's ceiling reports FL380 and 38,025 ft in turn, minutes of each: it never
    left the zone by more than a reporting step, and is one crossing (EZY63RK over a user's Swiss zone was three,
    and "had crossed 2 times before"; user trial). Out by min_vertical_depth (100 ft) or more, it left."""
    zone = {"id": "box", "shape": {"bbox": [39.3, 35.3, 39.9, 35.7]}, "ceiling": "FL380", "owner": "red",
            "closed_to": ["blue"]}
    a = load_agreement(write(tmp_path, simple(zones=[zone])))
    t0 = synthetic.EPOCH_2017
    FT = 0.3048

    def cruise(track_id, callsign, above_ft):
        df = synthetic.straight_track(39.2, 35.5, 90, 200, 360, 5, t0, track_id, callsign, altitude=38000 * FT)
        step = ((df["time"].dt.epoch("s") - int(t0)) // 90) % 2 == 1  # 90 s at FL380, then 90 s above, ...
        return df.with_columns(pl.when(step).then(pl.lit((38000 + above_ft) * FT)).otherwise(pl.col("altitude"))
                               .alias("altitude"))

    out = run(pl.concat([cruise(BLUE, "STEPS", 25), cruise("a00002", "LEVELS", 25 + 1000)]), a)
    out = out.filter(pl.col("zone") == "box")
    assert out.filter(pl.col("callsign") == "STEPS").height == 1
    assert out.filter(pl.col("callsign") == "LEVELS").height == 2

@given(speed=st.floats(100, 300), interval=st.sampled_from([1.0, 4.0, 5.0]))
def test_warning_lead_is_the_look_ahead(line_agreement, speed, interval):
    lookahead = line_agreement.thresholds.crossing.warning_lookahead
    df = synthetic.straight_track(39.0, 35.5, 90, speed, 1200 * 200 / speed, interval, track_id=BLUE, callsign="W")
    out = run(df, line_agreement)
    lead = out["warning_lead_s"][0]
    assert lookahead - interval - 0.5 < lead <= lookahead + 0.5


# --- a brute-force reference: the same rules, state by state, with shapely ----------------------------------------

def reference_events(df, area, th):
    """Events as (first, last) row pairs, computed sample by sample with shapely."""
    events = []
    for _, g in df.with_row_index("row").group_by("flight_id", maintain_order=True):
        rows = g["row"].to_numpy()
        x, y = g["x"].to_numpy(), g["y"].to_numpy()
        t = g["t"].to_numpy()
        inside = shapely.contains_xy(area.polygon_xy, x, y)
        depth = shapely.distance(area.depth_xy, shapely.points(x, y))
        runs, k = [], 0
        while k < len(rows):
            if inside[k]:
                j = k
                while j + 1 < len(rows) and inside[j + 1]:
                    j += 1
                runs.append([k, j])
                k = j + 1
            else:
                k += 1
        runs = [r for r in runs if max(depth[i] for i in range(r[0], r[1] + 1)) >= 0.5 * th.min_depth]  # jitter
        merged = []
        for r in runs:
            if merged:
                gap = range(merged[-1][1] + 1, r[0])
                brief = t[r[0]] - t[merged[-1][1]] < th.min_duration
                shallow = max(depth[i] for i in gap) < th.min_depth
                if brief or shallow:
                    merged[-1][1] = r[1]
                    continue
            merged.append(list(r))
        for a, b in merged:
            d = max(depth[i] for i in range(a, b + 1) if inside[i])
            start = t[a - 1] if a > 0 else t[a]
            end = t[b + 1] if b + 1 < len(rows) else t[b]
            # the detector interpolates; the reference brackets the duration by the neighbouring samples
            if d >= th.min_depth and end - start >= th.min_duration:
                events.append((rows[a], rows[b], d, t[b] - t[a] >= th.min_duration))
    return events


@given(seed=st.integers(0, 100_000))
def test_detector_matches_brute_force_reference(line_agreement, seed):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(4):
        n = 300
        heading = np.cumsum(rng.normal(0, 0.15, n)) + rng.uniform(0, 2 * np.pi)
        step = rng.uniform(150, 250) * 4.0
        x = np.cumsum(step * np.sin(heading)) + rng.uniform(-20e3, 20e3)
        y = np.cumsum(step * np.cos(heading)) + rng.uniform(-50e3, 50e3)
        lon, lat = line_agreement.projection.inverse(x, y)
        frames.append(synthetic.table(synthetic.EPOCH_2017 + np.arange(n) * 4.0, f"a0{k:04d}", "R", lon, lat, 6000.0,
                                      step / 4, np.degrees(heading) % 360, 0.0))
    df, _ = clean(pl.concat(frames), ReadReport())
    df = df.with_columns(line_agreement.identifier.assign(df["track_id"], df["callsign"]))
    tr = to_arrays(df, line_agreement.projection)
    area = line_agreement.area("red-side")
    th = line_agreement.thresholds.crossing
    ev, _ = detect_area(tr, area, th)
    ref = reference_events(df.with_columns(pl.Series("x", tr.x), pl.Series("y", tr.y), pl.Series("t", tr.t)), area, th)
    got = {(int(a), int(b)): d for a, b, d in zip(ev.first_row, ev.last_row, ev.max_depth)}
    sure = {(int(a), int(b)): d for a, b, d, certain in ref if certain}
    maybe = {(int(a), int(b)) for a, b, _, _ in ref}
    # every event the reference is sure of is found, with the same depth; nothing outside the reference is found
    for key, d in sure.items():
        assert key in got and got[key] == pytest.approx(d, abs=1e-6)
    assert set(got) <= maybe


# --- exit_final: an exit the data settles is never changed by later reports ----------------------------------------

def _wander(rng, n: int, projection, k: int) -> pl.DataFrame:
    """A track flying north that wanders to and fro across the line (up to 250 m/s across it), 2 km either
    side: brief, shallow and real returns."""
    across = np.clip(np.cumsum(rng.normal(0, 80.0, n)), -250.0, 250.0)
    x = rng.uniform(-2e3, 2e3) + np.cumsum(across * 2.0)
    x = np.abs((x + 2e3) % 8e3 - 4e3) - 2e3  # folded into 2 km west .. 2 km east of the line
    y = rng.uniform(-50e3, 50e3) + np.arange(n) * 2.0 * 150.0
    lon, lat = projection.inverse(x, y)
    return synthetic.table(synthetic.EPOCH_2017 + np.arange(n) * 2.0, f"a0{k:04d}", "R", lon, lat, 6000.0, 200.0,
                           90.0, 0.0)


def _exits(df: pl.DataFrame, agreement) -> list[tuple]:
    tr = to_arrays(df, agreement.projection)
    ev, _ = detect_area(tr, agreement.area("red-side"), agreement.thresholds.crossing)
    return [(float(a), float(b), bool(f), bool(o)) for a, b, f, o in zip(ev.entry_time, ev.exit_time, ev.exit_final,
                                                                          ev.open)]


@given(seed=st.integers(0, 100_000), which=st.integers(0, 1000), after=st.floats(0.0, 60.0))
def test_a_final_exit_stays_with_more_reports(line_agreement, seed, which, after):
    rng = np.random.default_rng(seed)
    df, _ = clean(pl.concat([_wander(rng, 300, line_agreement.projection, k) for k in range(4)]), ReadReport())
    df = df.with_columns(line_agreement.identifier.assign(df["track_id"], df["callsign"]))
    t = df["time"].dt.epoch("us") / 1e6
    full = _exits(df, line_agreement)
    exits = [x for _, x, _, o in full if not o] + [float(t.max())]
    t_cut = exits[which % len(exits)] + after  # soon after an exit: while a return may or may not still join it
    for entry, exit_, final, is_open in _exits(df.filter(t <= t_cut), line_agreement):
        assert not (final and is_open)
        if final:  # the same stay, with the same entry and exit, in all the data
            assert any(abs(e - entry) < 1e-6 and abs(x - exit_) < 1e-6 for e, x, _, _ in full), (entry, exit_)


def _to_and_fro(at: list[tuple[float, float]]) -> pl.DataFrame:
    """A track flying north, ``(seconds, metres east of the line)`` between waypoints, a report every 2 s."""
    t = np.arange(0.0, at[-1][0] + 1.0, 2.0)
    depth = np.interp(t, [a for a, _ in at], [d for _, d in at])
    lon = 40.0 + depth / (111320 * np.cos(np.radians(35.5)))
    return synthetic.table(synthetic.EPOCH_2017 + t, BLUE, "B", lon, 35.5 + t * 150.0 / 111000, 6000.0, 200.0, 0.0,
                           0.0)


def _final_and_open(df: pl.DataFrame, until: float, agreement) -> list[tuple[bool, bool]]:
    """Each stay's (exit_final, open) on the reports of its first ``until`` seconds."""
    out = run(df.filter(pl.col("time").dt.epoch("s") - int(synthetic.EPOCH_2017) <= until), agreement)
    return list(zip(out["exit_final"].to_list(), out["open"].to_list()))


def test_an_exit_is_final_once_the_aircraft_is_out_deep_and_long_enough(line_agreement):
    # metres beyond the line (east, red's side) over time: flown at up to 200 m/s, so that every cut is plausible
    df = _to_and_fro([(0, -5000), (45, 4000), (110, 4000), (132, -300), (150, -300), (172, 4000), (220, 4000),
                      (270, -6000), (350, -6000), (405, 5000), (460, 5000)])

    def seen(until: float) -> list[tuple[bool, bool]]:
        return _final_and_open(df, until, line_agreement)

    assert seen(140.0) == [(False, False)]  # out 300 m since 130 s: a return may still join the stay
    assert seen(150.0) == [(False, False)]  # out 20 s, but never 1 km: shallow
    assert seen(160.0) == [(False, True)]  # back in: one stay, still open
    assert seen(250.0) == [(False, False)]  # out 2 km, but for 10 s only
    assert seen(270.0) == [(True, False)]  # out by more than min_depth, for more than min_duration
    assert seen(1e9) == [(True, False), (False, True)]  # the next stay kept apart; the last one open


def test_a_shallow_stay_at_the_end_of_the_data_may_yet_deepen_into_the_same_crossing(line_agreement):
    # out 1.5 km and back in 16 s later, then 300 m inside (too shallow to count yet), then deeper
    df = _to_and_fro([(0, -3000), (30, 3000), (90, 3000), (104, -500), (110, -1500), (118, 300), (140, 300),
                      (160, 3000), (200, 3000)])
    # out deep, but a stay that began 16 s after the exit may deepen yet; it does: the return was brief, one crossing
    assert _final_and_open(df, 136.0, line_agreement) == [(False, False)]
    assert _final_and_open(df, 1e9, line_agreement) == [(False, True)]


def test_a_last_report_that_may_be_a_spike_or_a_closed_zone_decide_an_exit_as_they_should(tmp_path):
    """Two cases of the review: above a zone's ceiling by 50 ft (a shallow return), one report 45,000 ft, then back
    at 38,000: at that report the exit read final, but the next one made it an altitude spike, and the stay one
    (the flight's last report no longer counts as out). And a zone whose validity ended with the aircraft still
    over it: no stay can begin any more, so the exit at the closing is final (it waited for ever)."""
    feet = 0.3048
    zone = {"id": "box", "shape": {"bbox": [39.3, 35.3, 39.9, 35.7]}, "ceiling": "FL380", "owner": "red",
            "closed_to": ["blue"]}
    ag = load_agreement(write(tmp_path, simple(zones=[zone])))
    t0 = synthetic.EPOCH_2017
    df = synthetic.straight_track(39.4, 35.5, 90, 50, 400, 5, t0, BLUE, "SPIKE", altitude=38000 * feet)
    s = df["time"].dt.epoch("s") - int(t0)
    alt = (pl.when(s < 100).then(38000.0).when(s < 200).then(38050.0).when(s == 200).then(45000.0)
           .when(s < 250).then(38050.0).otherwise(38000.0)) * feet
    df = df.with_columns(alt.alias("altitude"))

    def box(out: pl.DataFrame) -> list[tuple]:
        return out.filter(pl.col("zone") == "box").select("open", "exit_final").rows()

    assert box(run(df.filter(s <= 200), ag)) == [(False, False)]  # out by 7,000 ft at the last report: not yet
    assert box(run(df, ag)) == [(True, False)]  # a spike: one stay, open at the end
    zone = {**zone, "ceiling": None, "valid_to": "2017-11-01T00:05:00Z"}
    del zone["ceiling"]
    closing = load_agreement(write(tmp_path, simple(zones=[zone]), "closing.yaml"))
    slow = synthetic.straight_track(39.35, 35.5, 90, 50, 900, 5, t0, BLUE, "SLOW", altitude=25000 * feet)
    assert box(run(slow.filter(slow["time"].dt.epoch("s") - int(t0) <= 400), closing)) == [(False, True)]
