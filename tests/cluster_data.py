"""Archives for the cluster tests: synthetic flights with hour boundaries inside events, real data as an
OpenSky ``state_vectors_data4`` dataset partitioned by hour, and helpers to compare results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal
from pyproj import Geod

from skyfence import synthetic
from skyfence.synthetic import EPOCH_2017 as T0

HOUR = 3600.0
TABLES = ("crossings", "encounters", "manoeuvres", "interactions")
GEOD = Geod(ellps="WGS84")


def legs(track_id: str, callsign: str, t0: float, lon: float, lat: float, parts, interval: float = 4.0,
         altitude: float = 6000.0) -> pl.DataFrame:
    """Straight legs flown one after another: ``parts`` is ``[(heading, speed m/s, seconds), ...]``."""
    frames, t = [], t0
    for heading, speed, seconds in parts:
        leg = synthetic.straight_track(lon, lat, heading, speed, seconds, interval, t, track_id, callsign, altitude)
        frames.append(leg if not frames else leg.slice(1))
        lon, lat = synthetic.position_at(lon, lat, heading, speed, seconds)
        t += seconds
    return pl.concat(frames)


def circling(track_id: str, callsign: str, t0: float, lon: float, lat: float, radius: float, speed: float,
             seconds: float, interval: float = 2.0, altitude: float = 5000.0) -> pl.DataFrame:
    """Circles (clockwise) round a point at constant speed."""
    t = np.arange(0.0, seconds, interval)
    azimuth = np.degrees(speed * t / radius) % 360.0
    plon, plat, _ = GEOD.fwd(np.full(len(t), lon), np.full(len(t), lat), azimuth, np.full(len(t), radius))
    return synthetic.table(t0 + t, track_id, callsign, plon, plat, altitude, speed, (azimuth + 90.0) % 360.0, 0.0)


def boundary_tracks() -> pl.DataFrame:
    """Flights whose events straddle whole hours: a Syrian jet across the Euphrates from about 00:58 to 01:01
    (and across again at 02:33), a coalition and a Russian jet in conflict from before 02:00 to after it (the
    Russian crossing the line meanwhile), a coalition jet circling hard (a hard turn and an orbit, longer than
    a task's halo) from 02:20 to 03:40, an airliner through it all, and a Russian jet east of the line for over an hour."""
    out_and_back = [(95, 120, 480), (275, 120, 900)]
    return pl.concat([
        legs("778b01", "SYR202", T0 + 52 * 60, 39.90, 35.25, out_and_back),
        legs("778b01", "SYR202", T0 + 2 * HOUR + 27 * 60, 39.90, 35.25, out_and_back),
        legs("ae2b01", "HOMER31", T0 + 2 * HOUR - 600, 40.30, 35.50, [(90, 200, 1200)], altitude=7000.0),
        legs("150b02", "RFF3102", T0 + 2 * HOUR - 600, 42.95, 35.51, [(270, 200, 1200)], altitude=7100.0),
        circling("ae3c01", "REACH77", T0 + 3 * HOUR - 2400, 41.2, 36.2, 900.0, 150.0, 4800.0),
        legs("ae4d01", "RCH10", T0 + 10, 41.5, 34.6, [(10, 180, 4 * HOUR - 30)], interval=10.0),
        legs("150c03", "RFF4400", T0 + 40 * 60, 39.5, 35.6,
             [(90, 150, 600), *[(0, 150, 300), (270, 150, 300), (180, 150, 300), (90, 150, 300)] * 4,
              (270, 150, 900)], interval=5.0),
    ]).sort(["track_id", "time"])


def write_hourly(df: pl.DataFrame, folder: Path) -> Path:
    """One Parquet file per UTC hour of data, named as ingest names them."""
    folder.mkdir(parents=True, exist_ok=True)
    hours = df.with_columns(pl.col("time").dt.strftime("%Y%m%dT%H").alias("_h"))
    for (hour,), part in hours.group_by("_h"):
        part.drop("_h").write_parquet(folder / f"tracks-{hour}.parquet")
    return folder


def write_opensky_dataset(df: pl.DataFrame, folder: Path, lag: float = 4.0) -> Path:
    """Canonical states as an OpenSky ``state_vectors_data4`` export partitioned by hour: ``time`` is the
    snapshot second, ``lastposupdate`` the position's time (up to ``lag`` s earlier, so states near a whole
    hour are filed under the next one)."""
    t = df["time"].dt.epoch("us").to_numpy() / 1e6
    snap = np.ceil(t + np.random.default_rng(1).uniform(0, lag, len(t)))
    table = pl.DataFrame({
        "time": snap.astype(np.int64), "icao24": df["track_id"], "lat": df["lat"], "lon": df["lon"],
        "velocity": df["ground_speed"].cast(pl.Float64), "heading": df["track"].cast(pl.Float64),
        "vertrate": df["vertical_rate"].cast(pl.Float64), "callsign": df["callsign"],
        "onground": df["on_ground"].fill_null(False), "alert": False, "spi": False, "squawk": None,
        "baroaltitude": df["altitude"].cast(pl.Float64), "geoaltitude": df["altitude"].cast(pl.Float64),
        "lastposupdate": t, "lastcontact": snap.astype(np.float64),
    }).with_columns(pl.col("squawk").cast(pl.String))
    hours = table.with_columns((pl.col("time") // 3600 * 3600).alias("hour"))
    for (hour,), part in hours.group_by("hour"):
        (folder / f"hour={hour}").mkdir(parents=True, exist_ok=True)
        part.drop("hour").write_parquet(folder / f"hour={hour}" / "part-00000.parquet")
    return folder


def assert_same(single, cluster) -> None:
    """Every event table row for row and column for column, the states round the events, and the summary, as
    one machine gives them."""
    from skyfence.analysis.event_tracks import event_tracks

    for name in TABLES:
        assert_frame_equal(getattr(single, name), getattr(cluster, name), check_exact=True)
    around = event_tracks(single.tracks, single.crossings, single.encounters, single.interactions)
    assert_frame_equal(around, cluster.tracks, check_exact=True, categorical_as_str=True)
    assert json.dumps(single.summary, sort_keys=True, default=str) == \
        json.dumps(cluster.summary, sort_keys=True, default=str)
