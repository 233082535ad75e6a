"""Synthetic tracks with known geometry, for tests, benchmarks and quick demonstrations.

Tracks here fly geodesics at constant speed (``straight_track``) or straight
lines in a projection (``random_traffic``), so the exact answer to a geometric
question can be computed independently of the detectors.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import polars as pl
from pyproj import Geod

from skyfence.geo.projection import LocalProjection
from skyfence.tracks.schema import TRACK_SCHEMA, conform, times

WGS84 = Geod(ellps="WGS84")
EPOCH_2017 = datetime(2017, 11, 1, tzinfo=timezone.utc).timestamp()


def straight_track(lon: float, lat: float, heading: float, speed: float, duration: float, interval: float = 5.0,
                   t0: float = EPOCH_2017, track_id: str = "778001", callsign: str | None = "SYR101",
                   altitude: float = 6000.0, vertical_rate: float = 0.0) -> pl.DataFrame:
    """A geodesic at constant ground speed (m/s) from (lon, lat) on an initial heading, sampled every ``interval`` s."""
    t = np.arange(0.0, duration + 1e-9, interval)
    plon, plat, back = WGS84.fwd(np.full(len(t), lon), np.full(len(t), lat), np.full(len(t), heading), speed * t)
    track = (np.asarray(back) + 180.0) % 360.0
    return table(t0 + t, track_id, callsign, plon, plat, altitude + vertical_rate * t, speed, track, vertical_rate)


def position_at(lon: float, lat: float, heading: float, speed: float, t: float) -> tuple[float, float]:
    """Where :func:`straight_track` is ``t`` seconds after its start."""
    plon, plat, _ = WGS84.fwd(lon, lat, heading, speed * t)
    return float(plon), float(plat)


def table(t, track_id, callsign, lon, lat, altitude, speed, track, vertical_rate, party=None,
          source: str = "synthetic") -> pl.DataFrame:
    """A canonical track table from arrays (scalars broadcast)."""
    n = len(t)

    def col(v, dtype=float):
        return np.broadcast_to(np.asarray(v, dtype=dtype), (n,))

    df = pl.DataFrame({
        "time": times(np.asarray(t, dtype=float)),
        "track_id": col(track_id, object).astype(str),
        "callsign": col(callsign if callsign is not None else "", object).astype(str),
        "lon": col(lon), "lat": col(lat), "altitude": col(altitude), "ground_speed": col(speed),
        "track": col(track), "vertical_rate": col(vertical_rate),
    })
    if party is not None:
        df = df.with_columns(pl.Series("party", col(party, object).astype(str)))
    df = df.with_columns(pl.lit(source).alias("source"))
    return conform(df).cast({k: v for k, v in TRACK_SCHEMA.items()})


def random_traffic(n_states: int, projection: LocalProjection, extent: float = 600e3, states_per_flight: int = 2000,
                   interval: float = 4.0, seed: int = 0, party_hex: tuple[str, ...] = ("778", "a0", "100")
                   ) -> pl.DataFrame:
    """Straight flights at random across a square of ``extent`` metres around the projection centre.

    Used by the benchmark: ``n_states`` rows in flights of ``states_per_flight``,
    identities drawn from the given hex prefixes (Syria, United States and
    Russia by default), deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    n_flights = max(1, n_states // states_per_flight)
    k = np.arange(n_states) % states_per_flight
    f = np.minimum(np.arange(n_states) // states_per_flight, n_flights - 1)
    x0 = rng.uniform(-extent / 2, extent / 2, n_flights)
    y0 = rng.uniform(-extent / 2, extent / 2, n_flights)
    heading = rng.uniform(0, 2 * np.pi, n_flights)
    speed = rng.uniform(120, 280, n_flights)
    turn = rng.normal(0, 0.0005, n_flights)  # gentle curvature, rad/s
    t_rel = k * interval
    ang = heading[f] + turn[f] * t_rel
    # position of a constant-rate turn (straight when turn is ~0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = speed[f] / np.where(np.abs(turn[f]) > 1e-9, turn[f], np.nan)
        xs = np.where(np.isfinite(r), x0[f] + r * (np.cos(heading[f]) - np.cos(ang)),
                      x0[f] + speed[f] * t_rel * np.sin(heading[f]))
        ys = np.where(np.isfinite(r), y0[f] + r * (np.sin(ang) - np.sin(heading[f])),
                      y0[f] + speed[f] * t_rel * np.cos(heading[f]))
    xs += rng.normal(0, 30, n_states)
    ys += rng.normal(0, 30, n_states)
    lon, lat = projection.inverse(xs, ys)
    prefix = np.array(party_hex)[rng.integers(0, len(party_hex), n_flights)]
    ids = np.char.add(prefix, np.char.zfill(np.arange(n_flights).astype(str), 6 - max(len(p) for p in party_hex)))
    t0 = EPOCH_2017 + rng.uniform(0, 86400, n_flights)
    track = np.degrees(ang) % 360.0
    return pl.DataFrame({
        "time": times(t0[f] + t_rel),
        "track_id": pl.Series(ids[f]),
        "callsign": pl.Series(np.char.add("SYN", np.char.mod("%04d", f % 10000))),
        "lon": lon, "lat": lat,
        "altitude": pl.Series(np.full(n_states, 8000.0, dtype=np.float32)),
        "ground_speed": pl.Series(speed[f].astype(np.float32)),
        "track": pl.Series(track.astype(np.float32)),
        "vertical_rate": pl.Series(np.zeros(n_states, dtype=np.float32)),
    }).with_columns(pl.lit("unknown").alias("party"), pl.lit(False).alias("on_ground"),
                    pl.lit("synthetic").alias("source")).pipe(conform)
