"""A new user's own agreement on the real Swiss en-route day: events checked against independent computations.

The agreement (tests/data/swiss-line.yaml) puts a line across Switzerland, parties by airline callsign and
ICAO country, and a time-limited block of airspace with a floor and ceiling. Crossings are recomputed here
from the states with shapely (point in polygon and distance to the line, on the agreement's geometry, whose
edges are straight in its projection) and a plain loop over each flight; closest approaches from the raw
reports with pyproj's geodesic distances.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
import shapely
from pyproj import Geod

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.detect.encounter_table import EncounterSettings, detect_encounters
from tests.conftest import ROOT

AGREEMENT = ROOT / "tests" / "data" / "swiss-line.yaml"
GEOD = Geod(ellps="WGS84")
NM, FT = 1852.0, 0.3048


@pytest.fixture(scope="module")
def swiss(samples, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("swiss")
    path = tmp / "swiss.parquet"
    samples.filter(pl.col("scenario") == "enroute_rvsm_traffic").write_parquet(path)
    ag = load_agreement(AGREEMENT)
    result = analyze([path], ag, tmp / "out", encounters=EncounterSettings(pairs="all"))
    return ag, result, tmp / "out"


def _inside(ag, area, df: pl.DataFrame, window: bool = True) -> np.ndarray:
    """States inside an area, by shapely, with the band (compared at the reports' own float32 precision:
    a report of exactly FL380 is at a FL380 ceiling) and the window."""
    inside = shapely.contains_xy(area.polygon_xy, *ag.projection.forward(df["lon"].to_numpy(), df["lat"].to_numpy()))
    alt = df["altitude"].cast(pl.Float32).fill_null(np.nan).to_numpy()
    if area.floor > 0 or np.isfinite(area.ceiling):
        with np.errstate(invalid="ignore"):
            inside &= (alt >= np.float32(area.floor)) & (alt <= np.float32(area.ceiling))
    if not window:
        return inside
    t = df["time"].dt.epoch("us").to_numpy() / 1e6
    lo, hi = area.window_seconds()
    return inside & (t >= lo) & (t <= hi)


def _independent(ag, df: pl.DataFrame) -> dict:
    """Per area, by a plain loop over each flight's states: every step from a state outside to one inside
    (``steps``), and the events the agreement's hysteresis makes of the stays: stays that never reach half
    of min_depth dropped, stays joined across a return shorter than min_duration or never min_depth back
    out (over the area: never min_vertical_depth beyond its floor or ceiling), events kept that reach min_depth and last min_duration. Each event: flight, whether its first
    state is the flight's first, whether the state before it lies in the region, the times of the state
    before and the first inside, its depth and its duration (from state times)."""
    th = ag.thresholds.crossing
    region = ag.projection.geometry_forward(ag.region)
    out = {}
    for area in ag.areas:
        rows = df.filter(pl.col("party").is_in(list(area.closed_to)))
        inside = _inside(ag, area, rows)
        in_space = _inside(ag, area, rows, window=False)  # inside but for the window
        x, y = ag.projection.forward(rows["lon"].to_numpy(), rows["lat"].to_numpy())
        in_region = shapely.contains_xy(region, x, y)
        depth = shapely.distance(area.depth_xy, shapely.points(x, y))
        over = shapely.contains_xy(area.polygon_xy, x, y)
        alt = rows["altitude"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        t = rows["time"].dt.epoch("us").to_numpy() / 1e6
        flight = rows["flight_id"].to_numpy()
        n = rows.height
        steps = [(int(flight[k]), t[k - 1], t[k]) for k in range(1, n)
                 if inside[k] and not inside[k - 1] and flight[k] == flight[k - 1]]
        stays, k = [], 0
        while k < n:
            if not inside[k]:
                k += 1
                continue
            e = k
            while e + 1 < n and inside[e + 1] and flight[e + 1] == flight[k]:
                e += 1
            if depth[k:e + 1].max() >= 0.5 * th.min_depth:
                stays.append([k, e])
            k = e + 1
        merged = []
        for k, e in stays:
            if merged and flight[merged[-1][0]] == flight[k]:
                pk, pe = merged[-1]
                brief = t[k] - t[pe] < th.min_duration
                # out by min_depth across the edge, or over the area by min_vertical_depth beyond floor or ceiling
                gap = slice(pe + 1, k)
                with np.errstate(invalid="ignore"):
                    beyond = (alt[gap] > area.ceiling + th.min_vertical_depth) | \
                        (alt[gap] < area.floor - th.min_vertical_depth)
                shallow = not np.where(over[gap], beyond, depth[gap] >= th.min_depth).any()
                if brief or shallow:
                    merged[-1][1] = e
                    continue
            merged.append([k, e])
        events = []
        for k, e in merged:
            first = k == 0 or flight[k - 1] != flight[k]
            last = e + 1 >= n or flight[e + 1] != flight[k]
            end = t[e] if last else t[e + 1]
            reach = np.where(inside[k:e + 1], depth[k:e + 1], 0.0).max()
            events.append({"flight": int(flight[k]), "first": first,
                           "from_region": (not first) and bool(in_region[k - 1]),
                           "opened": (not first) and bool(in_space[k - 1]),
                           "t_prev": t[k] if first else t[k - 1], "t_first": t[k], "depth": reach,
                           "duration": end - t[k]})
        out[area.id] = {"steps": steps, "events": events}
    return out


def test_every_observed_crossing_is_found_and_no_first_seen_inside_is_counted(swiss):
    ag, r, _ = swiss
    th = ag.thresholds.crossing
    truth = _independent(ag, r.tracks)
    c = r.crossings
    checked = 0
    for area in ag.areas:
        mine = c.filter(pl.col("zone") == area.id)
        crossed = mine.filter(pl.col("entry_kind") == "crossed")
        t_in = crossed["entry_time"].dt.epoch("us").to_numpy() / 1e6
        f_in = crossed["flight_id"].to_numpy()
        # clear cases only: an event a report or so from a threshold may fall either way of it
        clear = [ev for ev in truth[area.id]["events"]
                 if ev["depth"] >= th.min_depth + 100 and ev["duration"] >= th.min_duration + 10]
        # every crossing seen (a state in the region on the allowed side, then one inside) is found, entered
        # between the two states
        opened = set(mine.filter(pl.col("entry_kind") == "zone_opened")["flight_id"].to_list())
        for ev in clear:
            if ev["opened"]:  # inside the zone's space as its window began
                assert ev["flight"] in opened, (area.id, ev)
            elif ev["from_region"]:
                hit = (f_in == ev["flight"]) & (t_in >= ev["t_prev"] - 1e-3) & (t_in <= ev["t_first"] + 1e-3)
                assert hit.any(), (area.id, ev)
                checked += 1
        # every crossing was seen to happen: its flight stepped from outside to inside around the entry
        steps = truth[area.id]["steps"]
        for f, t in zip(f_in, t_in):
            assert any(g == f and t0 - 1e-3 <= t <= t1 + 1e-3 for g, t0, t1 in steps), (area.id, f, t)
        # no aircraft already inside at its first report is counted as crossing, and each is counted apart
        first_seen = {ev["flight"] for ev in clear if ev["first"]}
        detected_first = set(mine.filter(pl.col("entry_kind") == "first_seen_inside")["flight_id"].to_list())
        assert first_seen <= detected_first, area.id
        for ev in clear:
            if ev["first"]:
                at_start = (f_in == ev["flight"]) & (t_in <= ev["t_first"] + 1e-3)
                assert not at_start.any(), (area.id, ev)
    assert checked > 200
    kinds = dict(c.group_by("entry_kind").len().iter_rows())
    assert kinds["first_seen_inside"] > 300 and kinds["region_edge"] > 5 and kinds["zone_opened"] >= 1
    assert kinds["crossed"] == c.filter(pl.col("entry_kind") == "crossed").height > 200


def test_summary_and_console_count_only_crossings_seen(swiss):
    ag, r, out = swiss
    doc = json.loads((out / "summary.json").read_text())
    crossed = r.crossings.filter(pl.col("entry_kind") == "crossed")
    cr = doc["crossings"]
    assert cr["total"] == crossed.height == sum(d["count"] for d in cr["per_day"])
    assert cr["by_entry_kind"] == dict(r.crossings.group_by("entry_kind").len().iter_rows()) | {
        k: 0 for k in ("crossed", "first_seen_inside", "region_edge", "zone_opened")
        if k not in r.crossings["entry_kind"].to_list()}
    for kind in ("first_seen_inside", "region_edge", "zone_opened"):
        assert cr["other_entries"][kind]["total"] == cr["by_entry_kind"][kind]
    assert cr["warning"]["with_warning"] + cr["warning"]["without_warning"] == cr["total"]
    # the zone's altitudes stay within its band
    block = r.crossings.filter(pl.col("zone") == "east-block")
    assert block["alt_max_ft"].max() <= 38_000 + 1e-6 and block["alt_min_ft"].min() >= 34_000 - 1e-6


def test_intent_is_judged_on_crossings_seen_and_speaks_of_this_agreement(swiss):
    _, r, _ = swiss
    c = r.crossings
    assert c.filter(pl.col("entry_kind") != "crossed")["intent"].null_count() == c.filter(
        pl.col("entry_kind") != "crossed").height
    judged = c.filter(pl.col("entry_kind") == "crossed")
    assert judged["intent"].null_count() == 0
    reasons = " ".join(judged["intent_reasons"].to_list())
    assert "river" not in reasons and "Euphrates" not in reasons
    assert "the line" in reasons and "East block" in reasons
    # airliners on airways under an arbitrary line: not flagged en masse
    deliberate = judged.filter(pl.col("intent") == "likely deliberate").height
    assert deliberate <= 0.06 * judged.height, deliberate


def test_hfy312p_false_dive_is_a_data_error(swiss, samples):
    _, r, _ = swiss
    assert r.manoeuvres.filter(pl.col("callsign") == "HFY312P").height == 0
    removed = r.report.values_removed
    assert removed["vertical rate the altitude does not show"] >= 3
    row = r.tracks.filter((pl.col("callsign") == "HFY312P")
                          & (pl.col("time").dt.strftime("%H:%M:%S") == "11:40:40"))
    assert row.height == 1 and row["vertical_rate"][0] is None
    raw = samples.filter((pl.col("callsign") == "HFY312P") & (pl.col("timestamp").dt.strftime("%H:%M:%S") == "11:40:40"))
    assert raw["vertical_rate"][0] == pytest.approx(-16512)


def _at(reports: pl.DataFrame, t: float) -> tuple[float, float, float, float]:
    """A flight's position and altitude at time t, linear between its two reports around it; and their gap."""
    ts = reports["time"].dt.epoch("us").to_numpy() / 1e6
    k = int(np.searchsorted(ts, t, side="right")) - 1
    k = min(max(k, 0), len(ts) - 2)
    f = (t - ts[k]) / (ts[k + 1] - ts[k])
    lon, lat, alt = (reports[c].cast(pl.Float64).to_numpy() for c in ("lon", "lat", "altitude"))
    return (lon[k] + f * (lon[k + 1] - lon[k]), lat[k] + f * (lat[k + 1] - lat[k]),
            alt[k] + f * (alt[k + 1] - alt[k]), ts[k + 1] - ts[k] if 0 < f < 1 else 0.0)


def test_closest_approaches_against_geodesic_distances_on_the_reports(swiss):
    ag, r, _ = swiss
    enc = r.encounters.filter(pl.col("closest_time").is_not_null())
    assert enc.height > 50
    flights = {f: g for (f,), g in r.tracks.group_by("flight_id")}
    look = ag.thresholds.separation.lookahead
    for e in enc.sample(n=min(60, enc.height), seed=1).iter_rows(named=True):
        a, b = flights[e["flight_a"]].sort("time"), flights[e["flight_b"]].sort("time")
        t = e["closest_time"].timestamp()
        lon_a, lat_a, alt_a, gap_a = _at(a, t)
        lon_b, lat_b, alt_b, gap_b = _at(b, t)
        d = GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2] / NM
        assert e["closest_horizontal_nm"] == pytest.approx(d, abs=0.005 + 0.002 * d)
        assert e["closest_vertical_ft"] == pytest.approx(abs(alt_b - alt_a) / FT, abs=1.0)
        if abs(alt_b - alt_a) / FT > 13:
            assert e["closest_above"] == ("b" if alt_b > alt_a else "a")
        assert e["report_gap_s"] == pytest.approx(max(gap_a, gap_b), abs=1e-3)
        # nothing closer within the encounter and its look-ahead, on a 1 s grid over the reports
        lo = max(e["start_time"].timestamp() - look, a["time"].min().timestamp(), b["time"].min().timestamp())
        hi = min(e["end_time"].timestamp() + look, a["time"].max().timestamp(), b["time"].max().timestamp())
        grid = np.arange(np.ceil(lo), np.floor(hi) + 1)
        ta, tb = (x["time"].dt.epoch("us").to_numpy() / 1e6 for x in (a, b))
        ok = _covered(ta, grid) & _covered(tb, grid)
        pa = [np.interp(grid[ok], ta, a[c].to_numpy()) for c in ("lon", "lat")]
        pb = [np.interp(grid[ok], tb, b[c].to_numpy()) for c in ("lon", "lat")]
        brute = GEOD.inv(pa[0], pa[1], pb[0], pb[1])[2].min() / NM
        assert e["closest_horizontal_nm"] <= brute + 0.005 + 0.002 * brute


def _covered(ts: np.ndarray, grid: np.ndarray, max_gap: float = 30.0) -> np.ndarray:
    """Grid times between two reports no more than ``max_gap`` apart (where positions are interpolated)."""
    k = np.clip(np.searchsorted(ts, grid, side="right") - 1, 0, len(ts) - 2)
    return (grid >= ts[0]) & (grid <= ts[-1]) & ((ts[k + 1] - ts[k] <= max_gap) | (grid == ts[k]))


def test_afr55kx_tui7wc_closest_approach_is_the_one_the_reports_show(swiss):
    _, r, _ = swiss
    row = r.encounters.filter(pl.concat_list("callsign_a", "callsign_b").list.contains("AFR55KX")
                              & pl.concat_list("callsign_a", "callsign_b").list.contains("TUI7WC")).row(0, named=True)
    assert row["min_horizontal_nm"] > 14  # while the WARNING lasted
    assert row["closest_horizontal_nm"] == pytest.approx(2.77, abs=0.01)
    assert row["closest_vertical_ft"] == pytest.approx(1480, abs=5)
    assert 50 <= (row["closest_time"] - row["time_of_min"]).total_seconds() <= 60
    assert row["vertical_at_min_ft"] >= 0 and row["above_at_min"] in ("a", "b")


def test_an_alert_must_persist_m_of_n_instants(swiss):
    """With persistence off (1 of 1) the real day has alerts of a single instant; with the agreement's 2 of 3
    none is left, and every alert that stands was an alert without persistence too."""
    ag, r, _ = swiss
    sep = ag.thresholds.separation
    settings = EncounterSettings(pairs="all")
    flicker = detect_encounters(r.tracks, replace(sep, alerting_m=1, alerting_n=1), ag.thresholds.crossing.data_gap,
                                settings)
    persisted = r.encounters
    assert (sep.alerting_m, sep.alerting_n) == (2, 3)
    single = flicker.filter(pl.col("snapshots") == 1)
    assert single.height > 0
    assert persisted.height < flicker.height
    key = ["flight_a", "flight_b"]
    joined = persisted.join(flicker, on=key, suffix="_raw")
    overlaps = joined.filter((pl.col("start_time") <= pl.col("end_time_raw") + timedelta(seconds=4))
                             & (pl.col("end_time") >= pl.col("start_time_raw")))
    assert overlaps.select(key + ["start_time"]).unique().height == persisted.height
    # the one-instant alerts of the raw run are gone unless a neighbouring instant held it too
    assert (r.encounters["level_interpolated"] == (r.encounters["report_gap_at_min_s"] > sep.interpolation_gap)).all()
