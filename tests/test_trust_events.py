"""Events to trust: how an aircraft came to be inside, alert persistence, closest approach, velocity checks, intent
wording, rounding. Synthetic geometry with known answers, and brute-force references."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyfence import synthetic
from skyfence.agreement import load_agreement
from skyfence.agreement.model import SeparationThresholds
from skyfence.analysis.outputs import decimals, rounded
from skyfence.analysis.run import analyze
from skyfence.detect.alerting import m_of_n
from skyfence.detect.conflicts import CAUTION, LOSS, NMAC, WARNING
from skyfence.detect.encounter_table import EncounterSettings, detect_encounters
from skyfence.detect.intent import Boundary, CrossingSigns, assess
from skyfence.sources.tabular import ReadReport
from skyfence.tracks import consistency
from skyfence.tracks.clean import clean
from skyfence.units import FOOT, NAUTICAL_MILE
from tests.agreements import simple, write

T0 = synthetic.EPOCH_2017
RED = "778123"  # Syrian: the west side (blue's) is closed to it


def kinds(tmp_path, tracks: pl.DataFrame, **changes) -> pl.DataFrame:
    path = tmp_path / "tracks.parquet"
    tracks.write_parquet(path)
    ag = load_agreement(write(tmp_path, simple(**changes)))
    return analyze([path], ag, None).crossings


def test_how_each_aircraft_came_inside(tmp_path):
    tracks = pl.concat([
        synthetic.straight_track(40.3, 35.5, 270, 200, 600, 5, T0, "778001", "ACROSS"),    # over the line
        synthetic.straight_track(39.6, 35.5, 270, 200, 300, 5, T0, "778002", "INSIDE"),    # starts west of it
        synthetic.straight_track(39.5, 36.7, 180, 200, 600, 5, T0, "778003", "NORTH"),     # in from the north edge
    ])
    c = kinds(tmp_path, tracks).sort("callsign")
    assert dict(zip(c["callsign"], c["entry_kind"])) == {"ACROSS": "crossed", "INSIDE": "first_seen_inside",
                                                         "NORTH": "region_edge"}
    assert c.filter(pl.col("entry_kind") != "crossed")["intent"].null_count() == 2
    assert c.filter(pl.col("entry_kind") != "crossed")["warning_lead_s"].null_count() == 2


def test_zone_floor_and_window_entries(tmp_path):
    zone = {"id": "box", "shape": {"bbox": [40.2, 35.0, 40.8, 36.0]}, "floor": "FL100", "ceiling": "8000 m",
            "owner": "blue", "closed_to": ["red"], "valid_from": "2017-11-01T00:10:00Z"}
    climber = synthetic.straight_track(40.5, 35.2, 0, 150, 700, 5, T0 + 900, "778010", "CLIMB",
                                       altitude=2000.0, vertical_rate=10.0)   # up through the floor, then the ceiling
    waiting = synthetic.straight_track(40.5, 35.2, 0, 100, 900, 5, T0, "778011", "EARLY", altitude=5000.0)
    c = kinds(tmp_path, pl.concat([climber, waiting]), zones=[zone], sides=[]).sort("callsign")
    assert dict(zip(c["callsign"], c["entry_kind"])) == {"CLIMB": "crossed", "EARLY": "zone_opened"}
    climb = c.filter(pl.col("callsign") == "CLIMB").row(0, named=True)
    assert climb["entry_time"].timestamp() - (T0 + 900) == pytest.approx((10_000 * FOOT - 2000) / 10.0, abs=0.5)
    # the altitudes while inside stay within the band, however the states around the event lie
    assert 10_000 - 1 <= climb["alt_min_ft"] and climb["alt_max_ft"] <= 8000 / FOOT + 1e-6
    early = c.filter(pl.col("callsign") == "EARLY").row(0, named=True)
    assert early["entry_time"].timestamp() == pytest.approx(T0 + 600, abs=1e-3)


def _naive_m_of_n(level, a, b, g, m, n):
    out = []
    for i in range(len(level)):
        if level[i] >= LOSS:
            out.append(level[i])
            continue
        window = [level[j] for j in range(len(level)) if a[j] == a[i] and b[j] == b[i] and 0 <= g[i] - g[j] < n]
        best = 0
        for lv in (CAUTION, WARNING):
            if sum(x >= lv for x in window) >= m:
                best = lv
        out.append(best)
    return out


@given(rows=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 12), st.integers(CAUTION, NMAC)), max_size=40),
       mn=st.sampled_from([(1, 1), (2, 3), (2, 2), (3, 5)]))
def test_m_of_n_against_a_brute_force_reference(rows, mn):
    keyed = sorted({(p, g): lv for p, g, lv in rows}.items())
    if not keyed:
        return
    pair = np.array([k[0] for k, _ in keyed])
    g = np.array([k[1] for k, _ in keyed])
    level = np.array([lv for _, lv in keyed], dtype=np.int8)
    got = m_of_n(level, pair, pair * 0, g, *mn)
    assert got.tolist() == _naive_m_of_n(level, pair, pair * 0, g, *mn)


def _prepared(df, ag):
    df, _ = clean(df, ReadReport())
    return df.with_columns(ag.identifier.assign(df["track_id"], df["callsign"]))


def test_warning_time_from_the_first_warning_at_any_encounter_level(tmp_path):
    ag = load_agreement(write(tmp_path, simple()))
    lon_b, lat_b = synthetic.position_at(39.5, 35.5, 90.0, 60_000.0, 1.0)
    back = synthetic.WGS84.inv(lon_b, lat_b, 39.5, 35.5)[0]
    df = _prepared(pl.concat([
        synthetic.straight_track(39.5, 35.5, 90.0, 200.0, 400.0, 1.0, track_id="a00001", callsign="BLUE1"),
        synthetic.straight_track(lon_b, lat_b, back, 200.0, 400.0, 1.0, track_id="778001", callsign="RED1")]), ag)
    th = ag.thresholds.separation
    warn = detect_encounters(df, th, 30.0, EncounterSettings(level="warning")).row(0, named=True)
    caution = detect_encounters(df, th, 30.0, EncounterSettings(level="caution")).row(0, named=True)
    assert caution["start_time"] <= warn["start_time"]
    assert caution["warning_time_s"] == pytest.approx(warn["warning_time_s"], abs=1e-6)
    assert caution["warning_time_s"] <= th.lookahead


def test_closest_approach_after_the_alert_with_who_is_above(tmp_path):
    """Converging at 90 degrees, 1,500 ft apart: warned (a climb is predicted) while closing; the least separation
    comes after the alert, at the known crossing geometry."""
    ag = load_agreement(write(tmp_path, simple()))
    speed, t_meet, offset = 200.0, 300.0, 0.5 * NAUTICAL_MILE
    lon_m, lat_m = 40.0, 35.5
    lon_a, lat_a = synthetic.position_at(lon_m, lat_m, 270.0, speed, t_meet)
    lon_b, lat_b = synthetic.position_at(lon_m, lat_m + offset / 111_000, 180.0, speed, t_meet)
    a = synthetic.straight_track(lon_a, lat_a, 90.0, speed, 600.0, 2.0, track_id="a00001", callsign="LOW",
                                 altitude=9000.0)
    b = synthetic.straight_track(lon_b, lat_b, 0.0, speed, 600.0, 2.0, track_id="778001", callsign="HIGH",
                                 altitude=9000.0 + 1500 * FOOT)
    b = b.with_columns(pl.when((pl.col("time").dt.epoch("s") - int(T0)) < 200).then(-2.0).otherwise(0.0)
                       .alias("vertical_rate").cast(pl.Float32))  # a descent reported early on: a predicted loss
    enc = detect_encounters(_prepared(pl.concat([a, b]), ag), ag.thresholds.separation, 30.0,
                            EncounterSettings(level="warning"))
    row = enc.row(0, named=True)
    names = {"a": row["callsign_a"], "b": row["callsign_b"]}
    assert names[row["closest_above"]] == "HIGH"
    assert row["closest_vertical_ft"] == pytest.approx(1500, abs=1)
    # the reference: both geodesics sampled every 0.05 s, distances by pyproj
    tt = np.arange(t_meet - 30, t_meet + 30, 0.05)
    pa = [synthetic.position_at(lon_a, lat_a, 90.0, speed, x) for x in tt]
    pb = [synthetic.position_at(lon_b, lat_b, 0.0, speed, x) for x in tt]
    d = synthetic.WGS84.inv([p[0] for p in pa], [p[1] for p in pa], [p[0] for p in pb], [p[1] for p in pb])[2]
    k = int(np.argmin(d))
    assert row["closest_time"].timestamp() - T0 == pytest.approx(tt[k], abs=0.1)
    assert row["closest_horizontal_nm"] * NAUTICAL_MILE == pytest.approx(d[k], abs=1.0)
    assert row["min_horizontal_nm"] > row["closest_horizontal_nm"]
    assert row["report_gap_s"] <= 2.0 and not row["level_interpolated"]


def test_a_rate_the_altitude_does_not_show_is_a_data_error():
    t = np.arange(0.0, 120.0, 10.0)
    starts = np.array([0, len(t)])
    level = np.full(len(t), 10_000.0)
    rate = np.zeros(len(t))
    rate[5] = -16_500 * FOOT / 60  # the HFY312P kind: a dive the altitude never shows
    assert consistency.vertical_rate_errors(starts, t, level, rate).tolist() == [k == 5 for k in range(len(t))]
    climb = 10_000 + 15.0 * t  # a steady 3,000 ft/min climb, reported as such, in 25 ft steps
    assert not consistency.vertical_rate_errors(starts, t, np.round(climb / 7.62) * 7.62, np.full(len(t), 15.0)).any()
    # the zero-gravity flight's kind: the altitude holds for 25 s and jumps 500 m, the rate runs smoothly: the
    # altitude is stale, so within 30 s of the jump the rate is not judged by it
    t1 = np.arange(0.0, 50.0, 1.0)
    stepped = np.where(t1 < 25, 10_000.0, 10_500.0)
    assert not consistency.vertical_rate_errors(np.array([0, len(t1)]), t1, stepped, np.full(len(t1), 20.0)).any()


def test_speed_and_track_the_positions_do_not_show():
    df = synthetic.straight_track(40.0, 35.0, 45.0, 220.0, 200.0, 5.0)
    t = df["time"].dt.epoch("us").to_numpy() / 1e6
    noise = np.random.default_rng(3).normal(0, 10.0 / 111_000, (2, df.height))  # 10 m, as measured positions have
    lat, lon = df["lat"].to_numpy() + noise[0], df["lon"].to_numpy() + noise[1]
    speed = df["ground_speed"].cast(pl.Float64).to_numpy().copy()
    track = df["track"].cast(pl.Float64).to_numpy().copy()
    speed[10], track[20] = 120.0, track[20] + 140.0
    starts = np.array([0, len(t)])
    bad_speed, bad_track = consistency.velocity_errors(starts, t, lat, lon, speed, track)
    assert np.flatnonzero(bad_speed).tolist() == [10] and np.flatnonzero(bad_track).tolist() == [20]
    # positions carried forward by the feed along a straight line (identical legs, as in the real Swiss data)
    # are not held against the track of an aircraft that is turning
    lat_dr, lon_dr = df["lat"].to_numpy(), df["lon"].to_numpy()
    turning = track[0] - 3.0 * np.arange(len(t))
    assert not consistency.velocity_errors(starts, t, lat_dr, lon_dr, speed, turning % 360)[1].any()


def test_intent_reasons_name_this_agreement_and_never_a_river_it_does_not_have():
    grazing = CrossingSigns(2.0, 60.0, 15.0, 1.0, np.nan, 0.0, True, None, (), 0)
    _, _, plain = assess(grazing, Boundary.of("side", "", None))
    _, _, river = assess(grazing, Boundary.of("side", "", "the Euphrates"))
    _, _, zone = assess(grazing, Boundary.of("zone", "East block", None))
    assert "the line" in plain and "river" not in plain
    assert "the Euphrates" in river and "the line" not in river
    assert "East block" in zone and "river" not in zone
    transit = CrossingSigns(150.0, 900.0, 70.0, 0.0, 3.0, 3.0, False, None, (), 0)
    assert assess(transit)[0] == "unclear"  # deep and long, but a steady course: a route, not an intrusion
    raid = CrossingSigns(30.0, 480.0, 80.0, 0.0, 90.0, 200.0, True, "RAPTOR1", ("weave",), 0)
    label, score, why = assess(raid)
    assert label == "likely deliberate" and score == 5 and "turned around" in why
    # a stay cut short by the end of the data was not "back out" (AFR982 over Paris; user trial)
    assert "back out within 60 s" in assess(grazing)[2]
    cut = CrossingSigns(2.0, 60.0, 15.0, 1.0, np.nan, 0.0, False, None, (), 0, still_inside=True)
    assert "back out" not in assess(cut)[2] and assess(cut)[1] == assess(grazing)[1] + 1


def test_values_are_rounded_to_their_unit():
    assert [decimals(c) for c in ("alt_max_ft", "closest_horizontal_nm", "max_depth_km", "duration_s",
                                  "lat_at_min", "entry_lon", "intent_score", "flight_a")] == [0, 3, 2, 1, 5, 5, None, None]
    df = pl.DataFrame({"alt_max_ft": [1999.999878], "entry_lat": [35.1234567891], "flight_id": [3]})
    assert rounded(df).row(0) == (2000.0, 35.12346, 3)


def test_separation_defaults_hold_m_of_n_and_interpolation_gap():
    th = SeparationThresholds()
    assert (th.alerting_m, th.alerting_n, th.interpolation_gap) == (2, 3, 15.0)
