"""Kinematics, manoeuvres, interactions and intent: against simulated truth and on real flights."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.evaluate.run import evaluate
from skyfence.sim.aircraft import aircraft_type
from skyfence.sim.flight import Leg, Start, fly
from skyfence.sim.missions import Sortie
from skyfence.sim.run import simulate
from skyfence.sim.scenario import builtin_scenario_path, load_scenario
from skyfence.sim.sensor import Sensor, observe
from skyfence.tracks.arrays import to_arrays
from skyfence.tracks.clean import clean
from skyfence.tracks.kinematics import kinematics
from skyfence.sim.scenario import Surveillance


def observed(legs, ac="F-16", seed=0, interval=("2 s", "4 s")):
    """One flight through the legs, seen by the ADS-B-like sensor."""
    euphrates = load_agreement("euphrates-2017")
    s = Sortie(0, "coalition", aircraft_type(ac), "test", "T1", "ae0001", Start(0.0, 0.0, 0.0, 6000.0, 220.0, 0.0),
               [np.asarray(leg) for leg in legs])
    s.traj = fly(s.leg_array(), s.ac, s.start)
    sensor = Sensor.from_spec(Surveillance(interval=interval, dropout=0.05, gaps_per_hour=0))
    df, _ = clean(observe([s], sensor, euphrates.projection, np.random.default_rng(seed), {0: "coalition"}))
    return s, df, to_arrays(df, euphrates.projection)


@pytest.mark.parametrize("n", [3.0, 5.0, 7.0])
def test_load_factor_of_a_hard_turn_from_noisy_reports(n):
    s, df, tr = observed([Leg.heading(0.0, 6000.0, 220.0, 60.0), Leg.turn(2 * np.pi, n),
                          Leg.heading(0.0, 6000.0, 220.0, 60.0)])
    k = kinematics(tr)
    assert np.nanmax(k.turn_load) == pytest.approx(n, rel=0.12)
    level = tr.t < s.traj[0, 0] + 50
    assert np.nanmax(k.turn_load[level]) < 1.2


def test_altitude_steps_and_dropouts_do_not_make_manoeuvres():
    s, df, tr = observed([Leg.heading(0.0, 6000.0, 220.0, 900.0)], interval=("4 s", "6 s"))
    k = kinematics(tr)
    assert np.nanmax(np.abs(k.vertical_accel)) < 0.5
    assert np.nanmax(k.load_factor) < 1.15
    assert np.nanmax(np.abs(k.excess_accel)) < 1.0


def heavy_scenario(tmp_path):
    doc = yaml.safe_load(builtin_scenario_path("euphrates-2017").read_text())
    doc["crossings"].update(per_day=24, deliberate=0.7, intercepted=1.0)
    path = tmp_path / "heavy.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_scenario(path)


@pytest.fixture(scope="module")
def heavy_days(tmp_path_factory):
    """Two simulated days with many deliberate crossings and intercepts, analysed and evaluated."""
    tmp = tmp_path_factory.mktemp("heavy")
    scenario, base = heavy_scenario(tmp)
    docs = []
    for seed in (1, 2):
        sim = simulate(scenario, base, 24, seed)
        out = tmp / f"s{seed}"
        out.mkdir()
        sim.tracks.write_parquet(out / "tracks.parquet")
        analyze([out / "tracks.parquet"], load_agreement("euphrates-2017"), out)
        docs.append(evaluate(sim.truth, out))
    return docs


def test_manoeuvres_and_interactions_score_f1_of_at_least_0_9(heavy_days):
    totals: dict[str, list[float]] = {}
    for doc in heavy_days:
        for row in doc["events"]:
            t = totals.setdefault(row["event_type"], [0, 0, 0.0, 0.0, 0, 0.0])
            t[0] += row["truth"]
            t[1] += row["detected"]
            t[2] += (row["precision"] or 0) * row["detected"]
            t[4] += row.get("observable") or 0
            t[5] += (row.get("recall_observable") or 0) * (row.get("observable") or 0)
    checked = []
    for kind in ("hard_turn", "speed_brake", "weave", "dive", "orbit", "intercept", "mock_engagement"):
        n_truth, n_det, right, _, observable, found = totals[kind]
        if observable < 5:
            continue
        precision, recall = right / n_det, found / observable
        f1 = 2 * precision * recall / (precision + recall)
        assert f1 >= 0.9, (kind, precision, recall)
        checked.append(kind)
    assert {"hard_turn", "weave", "dive", "orbit", "intercept"} <= set(checked)


def test_intent_agrees_with_the_injected_one(heavy_days):
    values = [r["intent_agreement"] for doc in heavy_days for r in doc["events"] if r["event_type"] == "crossing"]
    assert np.mean(values) >= 0.9


def real(samples, tmp_path, scenario, pairs="all"):
    path = tmp_path / f"{scenario}.parquet"
    samples.filter(pl.col("scenario") == scenario).write_parquet(path)
    return analyze([path], load_agreement("euphrates-2017"), None, encounters=EncounterSettings(pairs=pairs))


def test_real_zero_gravity_parabolas_are_found(samples, tmp_path):
    r = real(samples, tmp_path, "zero_gravity_parabolas")
    kinds = r.manoeuvres["manoeuvre"].value_counts()
    counts = dict(kinds.iter_rows())
    assert counts.get("climb", 0) >= 20 and counts.get("dive", 0) >= 20
    peak = r.manoeuvres.filter(pl.col("manoeuvre") == "climb")["peak"].max() * 60 / 0.3048
    assert peak > 15_000  # ft/min: the pull-ups reach about 20,000


@pytest.mark.parametrize("scenario", ["dense_tma_traffic", "enroute_rvsm_traffic"])
def test_real_airliners_raise_no_hard_turns_or_engagements(samples, tmp_path, scenario):
    r = real(samples, tmp_path, scenario)
    assert r.manoeuvres.filter(pl.col("manoeuvre").is_in(["hard_turn", "weave"])).height == 0
    assert r.interactions.filter(pl.col("interaction") == "mock_engagement").height == 0


def test_real_formation_is_shadowing_not_an_intercept(samples, tmp_path):
    r = real(samples, tmp_path, "formation_photo_shoot")
    kinds = r.interactions["interaction"].to_list()
    assert "shadowing" in kinds and "intercept" not in kinds
    total = r.interactions.filter(pl.col("interaction") == "shadowing")["duration_s"].sum()
    assert total >= 10 * 60  # minutes of the photo flight in formation


def test_analyze_writes_manoeuvres_interactions_and_intent(tmp_path):
    scenario, base = load_scenario("euphrates-2017")
    sim = simulate(scenario, base, 8, 4)
    sim.tracks.write_parquet(tmp_path / "t.parquet")
    analyze([tmp_path / "t.parquet"], load_agreement("euphrates-2017"), tmp_path)
    man = pl.read_csv(tmp_path / "manoeuvres.csv")
    assert {"track_id", "manoeuvre", "start_time", "end_time", "peak", "peak_unit"} <= set(man.columns)
    inter = pl.read_csv(tmp_path / "interactions.csv")
    assert {"interaction", "track_id", "other_track_id", "start_time", "end_time", "closest_nm"} <= set(inter.columns)
    cross = pl.read_csv(tmp_path / "crossings.csv")
    assert {"intent", "intent_score", "intent_reasons"} <= set(cross.columns)
    assert set(cross["intent"].to_list()) <= {"likely deliberate", "likely inadvertent", "unclear"}
    assert all(len(r) > 10 for r in cross["intent_reasons"].to_list())


@given(data=st.data())
def test_the_course_between_neighbours_is_the_written_out_one_bit_for_bit(data):
    """The course over the ground from the reports either side of each (its own at a flight's ends), worked out in
    one compiled pass: bit for bit the whole-table array form it replaced, float32 and float64 positions, repeated
    positions (no course) included."""
    from types import SimpleNamespace

    from skyfence.tracks.kinematics import _course

    n = data.draw(st.integers(1, 60))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    values = st.one_of(st.just(5.0), st.floats(-1e6, 1e6, allow_nan=False))
    x = np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype)
    y = np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype)
    starts = np.array([0, *sorted(data.draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=4)) - {n}), n])
    xf, yf = x.astype(np.float64), y.astype(np.float64)
    prev, nxt = np.arange(n) - 1, np.arange(n) + 1
    prev[starts[:-1]] = starts[:-1]
    nxt[starts[1:] - 1] = starts[1:] - 1
    dx, dy = xf[nxt] - xf[prev], yf[nxt] - yf[prev]
    want = np.arctan2(dx, dy)
    want[(dx == 0) & (dy == 0)] = np.nan
    got = _course(SimpleNamespace(x=x, y=y, starts=starts))
    assert np.array_equal(got, want, equal_nan=True)


@given(data=st.data())
def test_the_loads_from_the_fits_are_the_written_out_arithmetic_bit_for_bit(data):
    """What the kinematics make of the fits (the turn kept where the track and the positions agree, figures
    beyond any aircraft dropped, the loads, the excess of thrust, the bank; NaN for aircraft still or on the
    ground), in one compiled pass: bit for bit the whole-array arithmetic it replaced, with NaNs, infinities,
    zero path speeds and values either side of every limit."""
    from skyfence.tracks.kinematics import G, MAX_ACCEL, MIN_SPEED, _loads

    n = data.draw(st.integers(1, 40))
    edge = [0.0, np.nan, np.inf, -np.inf, 12 * G, -12 * G, MAX_ACCEL, -MAX_ACCEL, np.radians(3.0), MIN_SPEED]
    value = st.one_of(st.sampled_from(edge), st.floats(-400.0, 400.0), st.floats(-0.5, 0.5))

    def column():
        return np.array(data.draw(st.lists(value, min_size=n, max_size=n)), np.float64)

    turn, turn_pos, acc, vacc, speed, vz = (column() for _ in range(6))
    speed = np.abs(speed)
    path_speed = np.hypot(speed, np.nan_to_num(vz))
    on_ground = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    # the arithmetic as it was written over whole arrays
    w, a, va = turn.copy(), acc.copy(), vacc.copy()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        w[np.abs(w - turn_pos) > np.maximum(np.radians(3.0), 0.5 * np.abs(w))] = np.nan
        w[np.abs(speed * w) > 12 * G] = np.nan
        a[np.abs(a) > MAX_ACCEL] = np.nan
        va[np.abs(va) > 12 * G] = np.nan
        sin_climb = np.nan_to_num(vz) / path_speed
        excess = np.where(np.abs(sin_climb) <= np.sin(np.radians(15.0)), a + G * sin_climb, np.nan)
        lateral = speed * w / G
        bank = np.arctan(lateral)
        vertical = 1.0 + np.nan_to_num(va) / G
        turn_load = np.sqrt(1.0 + lateral * lateral)
        load = np.sqrt(lateral * lateral + vertical * vertical)
    still = (speed < MIN_SPEED) | on_ground
    for x in (w, bank, turn_load, load, a, excess, va):
        x[still] = np.nan
    got = _loads(turn, turn_pos, acc, vacc, speed, vz, path_speed, still)
    got_turn, got_acc, got_vacc, got_load, got_all, got_excess, got_lateral = got
    with np.errstate(invalid="ignore"):
        got_bank = np.arctan(got_lateral)
    for got, want in ((got_turn, w), (got_acc, a), (got_vacc, va), (got_load, turn_load), (got_all, load),
                      (got_excess, excess), (got_bank, bank)):
        assert np.array_equal(got, want, equal_nan=True)


@given(data=st.data())
def test_the_pair_geometry_is_the_written_out_vector_arithmetic_bit_for_bit(data):
    """Range, range rate and the three angles of each pair (what intercepts, engagements and shadowing read), in
    one compiled pass: bit for bit the (n, 3) vector arithmetic it replaced, over the whole globe, with pairs of
    one state (no range, no angle) and aircraft standing still."""
    from skyfence.detect.conflicts import StateVectors
    from skyfence.detect.interactions import pair_geometry

    n = data.draw(st.integers(1, 30))

    def column(lo, hi):
        return np.array(data.draw(st.lists(st.one_of(st.sampled_from([0.0, -0.0]), st.floats(lo, hi)), min_size=n,
                                           max_size=n)))

    sv = StateVectors.from_arrays(column(-180, 180), column(-89.9, 89.9), column(0, 15000), column(0, 600),
                                  column(0, 360), column(-100, 100))
    m = data.draw(st.integers(0, 40))
    a = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int64)
    b = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int64)
    if data.draw(st.booleans()):  # aircraft flying together (no closing: a range rate of zero, its sign kept)
        sv.vel[:] = sv.vel[0]
    u = sv.up[a] + sv.up[b]
    u /= np.linalg.norm(u, axis=1)[:, None]

    def flat(v):
        return v - (v * u).sum(1)[:, None] * u

    def angle(p, q):
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (p * q).sum(1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(q, axis=1))
            return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))

    d = flat(sv.pos[b] - sv.pos[a])
    va, vb = flat(sv.vel[a]), flat(sv.vel[b])
    rng = np.linalg.norm(d, axis=1)
    want = (rng, ((vb - va) * d).sum(1) / np.maximum(rng, 1e-9), angle(va, d), angle(vb, -d), angle(va, vb))
    g = pair_geometry(sv, a, b)
    for got, w in zip((g.range, g.range_rate, g.off_nose_a, g.off_nose_b, g.heading_diff), want):
        assert np.array_equal(got, w, equal_nan=True)
        known = ~np.isnan(w)
        assert np.array_equal(np.signbit(got[known]), np.signbit(w[known]))  # the sign of zero too


@given(data=st.data())
def test_the_heading_held_back_to_is_the_last_report_with_one_in_its_flight(data):
    """What a report's fits read back to (the last report of its flight up to it with a heading, else the flight's
    first), in one compiled pass: held to the rule written out."""
    from skyfence.tracks.kinematics import _last_heading

    n = data.draw(st.integers(1, 40))
    heading = np.array(data.draw(st.lists(st.sampled_from([np.nan, np.inf, 0.5, -1.0]), min_size=n, max_size=n)))
    starts = np.array([0, *sorted(data.draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=4)) - {n}), n])
    want = []
    for f in range(len(starts) - 1):
        for i in range(starts[f], starts[f + 1]):
            known = [j for j in range(starts[f], i + 1) if np.isfinite(heading[j])]
            want.append(known[-1] if known else starts[f])
    assert _last_heading(heading, starts).tolist() == want


@given(data=st.data(), wide=st.booleans())
def test_interaction_runs_are_ordered_and_their_nearest_found_as_the_three_key_sorts_do(data, wide):
    """An interaction's rows by flight pair and instant (one sort of one number per row; three sorts where the
    numbers would not fit), and each run's nearest row (the first of equals, an unknown range last): the same
    rows as the sorts by three and two keys they replaced."""
    from skyfence.detect.interactions import _by_pair_and_instant, _nearest_of_each

    m = data.draw(st.integers(1, 40))
    top = 10**9 if wide else 5  # (beyond 63 bits: the three sorts)
    fa = np.array(data.draw(st.lists(st.integers(0, top), min_size=m, max_size=m)), np.int64)
    fb = np.array(data.draw(st.lists(st.integers(0, top), min_size=m, max_size=m)), np.int64)
    g = np.array(data.draw(st.lists(st.integers(0, 6), min_size=m, max_size=m)), np.int64)
    order = _by_pair_and_instant(fa, fb, g)
    assert order.tolist() == np.lexsort((g, fb, fa)).tolist()
    r = np.array(data.draw(st.lists(st.sampled_from([np.nan, np.inf, 1.0, 2.0, 0.5]), min_size=m, max_size=m)))
    first = np.flatnonzero(np.r_[True, data.draw(st.lists(st.booleans(), min_size=m - 1, max_size=m - 1))])
    seg = np.cumsum(np.isin(np.arange(m), first)) - 1
    by = np.lexsort((r, seg))
    firsts = np.r_[True, seg[by][1:] != seg[by][:-1]]
    want = np.full(len(first), -1)
    want[seg[by][firsts]] = by[firsts]
    assert _nearest_of_each(r, first).tolist() == want.tolist()


@settings(max_examples=400)
@given(data=st.data())
def test_a_manoeuvres_peak_is_the_first_largest_value_of_its_run(data):
    """The peak of each manoeuvre (the first of its largest values, unknown ones lowest), read over its own
    reports in one compiled pass: the rows the whole-table form gave (unknowns made minus infinity first, and
    infinities the largest finite numbers, as ``np.nan_to_num`` does: a review found them told apart)."""
    from skyfence.detect.manoeuvres import _peaks

    n = data.draw(st.integers(1, 30))
    big = np.finfo(np.float64).max
    v = np.array(data.draw(st.lists(st.sampled_from([np.nan, -np.inf, np.inf, big, -big, 0.0, -0.0, 1.0, 2.5]),
                                    min_size=n, max_size=n)))
    runs = sorted(data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 5)), max_size=6)))
    a = np.array([r[0] for r in runs], np.int64)
    b = np.minimum(a + np.array([r[1] for r in runs], np.int64), n - 1)
    filled = np.nan_to_num(v, nan=-np.inf)
    want = [int(a[k] + np.flatnonzero(filled[a[k]:b[k] + 1] == filled[a[k]:b[k] + 1].max())[0]) for k in range(len(a))]
    assert _peaks(v, a, b).tolist() == want
