"""The scenario simulator: deterministic, physically plausible, identified right, and the detector held to its truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.cli import app
from skyfence.errors import SkyfenceError
from skyfence.evaluate.run import evaluate
from skyfence.sim.flight import BANK, DIVE, FLAGS, G, LEG, PSI, T, V, VZ
from skyfence.sim.run import simulate, simulate_load
from skyfence.sim.scenario import builtin_scenario_path, load_scenario
from skyfence.units import FOOT

runner = CliRunner()


@pytest.fixture(scope="module")
def day():
    scenario, base = load_scenario("euphrates-2017")
    return simulate(scenario, base, 24, 11)


def test_same_seed_same_traffic():
    scenario, base = load_scenario("euphrates-2017")
    a = simulate(scenario, base, 4, 5)
    b = simulate(scenario, base, 4, 5)
    assert a.tracks.equals(b.tracks) and a.truth.equals(b.truth)
    c = simulate(scenario, base, 4, 6)
    assert not a.tracks.equals(c.tracks)


def test_the_day_looks_like_2017(day):
    truth = day.truth
    crossings = truth.filter(pl.col("event_type") == "crossing")
    assert 3 <= crossings.height <= 12
    assert set(crossings["intent"].to_list()) <= {"inadvertent", "deliberate"}  # nothing unplanned
    assert (crossings["party"] == "russia_syria").all()
    parties = day.tracks.group_by("party").agg(pl.col("track_id").n_unique()).rows()
    assert {p for p, _ in parties} == {"coalition", "russia_syria", "unknown"}
    for kind in ("hard_turn", "dive", "orbit"):
        assert truth.filter(pl.col("event_type") == kind).height > 5


def test_aircraft_fly_within_their_limits(day):
    for s in day.sorties:
        tr = s.traj
        if tr is None or len(tr) < 3:
            continue
        ac = s.ac
        assert tr[:, V].min() >= ac.min_speed - 1e-6 or tr[0, V] < ac.min_speed
        assert tr[:, V].max() <= ac.max_speed + 1e-6
        turn_rate = np.abs(np.diff(np.unwrap(tr[:, PSI]))) / np.diff(tr[:, T])
        limit = G * np.sqrt(ac.max_g ** 2 - 1) / np.maximum(tr[1:, V], 1)
        assert np.all(turn_rate <= limit * 1.01 + 1e-9)
        assert np.all(np.abs(np.degrees(tr[:, BANK])) <= np.degrees(np.arccos(1 / ac.max_g)) + 0.5)
        accel = np.diff(tr[:, V]) / np.diff(tr[:, T])
        assert accel.max() <= ac.accel + 1e-6 and accel.min() >= -ac.decel - 1e-6
        diving = s.leg_array()[tr[:, LEG].astype(int), 0] == DIVE
        assert np.all(tr[~diving, VZ] <= ac.climb + 1e-6) and np.all(tr[~diving, VZ] >= -ac.descent - 1e-6)
        assert np.all(tr[tr[:, FLAGS] > 0, V] > 0)


def test_reports_are_quantised_and_identities_real(day, euphrates):
    alt_ft = day.tracks["altitude"].to_numpy() / FOOT
    assert np.allclose(alt_ft / 25, np.round(alt_ft / 25), atol=1e-3)
    fpm = day.tracks["vertical_rate"].to_numpy() * 60 / FOOT
    assert np.allclose(fpm / 64, np.round(fpm / 64), atol=1e-3)
    identified = euphrates.identifier.assign(day.tracks["track_id"], day.tracks["callsign"])
    assert identified.cast(pl.String).equals(day.tracks["party"].cast(pl.String), check_names=False)
    intervals = day.tracks.group_by("track_id").agg(pl.col("time").diff().dt.total_seconds().median())
    assert intervals["time"].max() <= 7 and intervals["time"].min() >= 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_detector_finds_every_injected_crossing(tmp_path, seed):
    scenario, base = load_scenario("euphrates-2017")
    sim = simulate(scenario, base, 24, seed)
    tracks = tmp_path / "tracks.parquet"
    sim.tracks.write_parquet(tracks)
    analyze([tracks], load_agreement("euphrates-2017"), tmp_path)
    doc = evaluate(sim.truth, tmp_path)
    cross = next(r for r in doc["events"] if r["event_type"] == "crossing")
    assert cross["truth"] >= 3
    assert cross["recall"] == 1.0
    assert cross["precision"] >= 0.99
    assert cross["entry_error_s"]["max"] <= 2.0 and cross["exit_error_s"]["max"] <= 2.0
    loss = next(r for r in doc["events"] if r["event_type"] == "loss_of_separation")
    assert loss["recall"] in (None, 1.0)


def test_large_loads():
    scenario, base = load_scenario("euphrates-2017")
    sim = simulate_load(scenario, base, 300, 0.25, 1)
    per = sim.tracks.group_by("track_id").agg(pl.col("time").min().alias("a"), pl.col("time").max().alias("b"))
    assert per.height == 300
    assert per["a"].max() < per["b"].min()  # all airborne at once
    assert sim.truth.height == 0


def test_load_reporting_once_a_second():
    """The monitor's load benchmark needs each aircraft once a second (the scenario's sensor reports every
    2-6 s), less the sensor's dropouts and outages."""
    scenario, base = load_scenario("euphrates-2017")
    sim = simulate_load(scenario, base, 50, 0.1, 1, interval=1.0)
    gaps = sim.tracks.sort("track_id", "time").select(
        pl.col("time").diff().over("track_id").dt.total_milliseconds().alias("gap")).drop_nulls()["gap"]
    assert 0.9 * 50 * 360 < sim.tracks.height <= 50 * 360
    assert 900 <= gaps.median() <= 1100


def test_user_scenario_file(tmp_path):
    doc = yaml.safe_load(builtin_scenario_path("euphrates-2017").read_text())
    doc["sorties"] = [s for s in doc["sorties"] if s["type"] in ("F-22", "Su-25")]
    doc["crossings"]["per_day"] = 20
    doc["civil"]["per_day"] = 0
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc))
    scenario, base = load_scenario(path)
    sim = simulate(scenario, base, 6, 3)
    types = {s.ac.name for s in sim.sorties}
    assert types <= {"F-22", "Su-25"}
    assert sim.truth.filter(pl.col("event_type") == "crossing").height >= 2


@pytest.mark.parametrize("change, words", [
    (lambda d: d["sorties"][0].update(party="blue"), "unknown party 'blue'"),
    (lambda d: d["sorties"][0].update(mission="bombing"), "sorties.0.mission"),
    (lambda d: d["parties"]["coalition"].update(bases=["XXXX"]), "unknown airfield 'XXXX'"),
    (lambda d: d.update(start="2017-11-01T00:00:00"), "time zone"),
])
def test_bad_scenarios_say_what_is_wrong(tmp_path, change, words):
    doc = yaml.safe_load(builtin_scenario_path("euphrates-2017").read_text())
    change(doc)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SkyfenceError, match=words):
        scenario, base = load_scenario(path)
        simulate(scenario, base, 1, 1)


def test_cli_simulate_and_evaluate(tmp_path):
    tracks, truth = tmp_path / "t.csv", tmp_path / "truth.csv"
    r = runner.invoke(app, ["simulate", "--hours", "6", "--seed", "4", "--out", str(tracks), "--truth", str(truth), "-q"])
    assert r.exit_code == 0, r.output
    head = pl.read_csv(truth)
    assert {"event_type", "track_id", "other_track_id", "start_time", "end_time", "intent"} <= set(head.columns)
    r = runner.invoke(app, ["analyze", str(tracks), "-o", str(tmp_path / "out"), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evaluate", "--truth", str(truth), "--results", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "crossing" in r.output and "time covered" in r.output and (tmp_path / "out" / "evaluation.json").exists()
    orbit = next(e for e in json.loads((tmp_path / "out" / "evaluation.json").read_text())["events"]
                 if e["event_type"] == "orbit")
    assert "coverage" in orbit
    r = runner.invoke(app, ["evaluate", "--truth", str(tmp_path / "nope.csv"), "--results", str(tmp_path / "out")])
    assert r.exit_code != 0


def test_a_generic_day_is_the_day_the_agreement_s_first_zone_opens(tmp_path):
    """simulate --agreement always simulated 2018-08-01, so that a zone valid on another day was never active and
    could not be tried (user trial). It starts on the day the first zone opens, or where --start says."""
    from typer.testing import CliRunner

    from skyfence.agreement import load_agreement
    from skyfence.cli import app
    from skyfence.sim.generic import first_day, scenario_for

    paris = load_agreement(Path(__file__).parent / "data" / "paris-meridian.yaml")
    assert first_day(paris) == "2021-10-07T00:00:00Z"
    assert scenario_for(paris, first_day(paris)).start.isoformat() == "2021-10-07T00:00:00+00:00"
    assert first_day(load_agreement("euphrates-2017")).startswith("2017-")  # its zone opens in 2017
    runner = CliRunner()
    out = tmp_path / "t.parquet"
    r = runner.invoke(app, ["simulate", "-a", str(Path(__file__).parent / "data" / "paris-meridian.yaml"), "--hours",
                            "0.5", "--start", "2021-10-07T13:00:00Z", "-o", str(out), "--truth",
                            str(tmp_path / "t.csv"), "-q"])
    assert r.exit_code == 0, r.output
    import polars as pl

    t = pl.read_parquet(out)["time"]
    assert t.min().isoformat() >= "2021-10-07T13:00" and t.max().isoformat() < "2021-10-07T13:31"
    r = runner.invoke(app, ["simulate", "--start", "2021-10-07", "-o", str(out), "-q"])
    assert r.exit_code != 0 and "--start goes with --agreement" in str(r.exception)
