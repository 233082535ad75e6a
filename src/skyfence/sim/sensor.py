"""How the simulated traffic is seen: ADS-B-like reports with noise, quantisation and losses.

Each aircraft reports at its own interval (drawn from the scenario's range)
with a little jitter; reports are lost at random (``dropout``) and in longer
outages; positions carry noise, speed and track too; altitude comes in 25 ft
steps and vertical rate in 64 ft/min steps, as Mode S and ADS-B give them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from skyfence.geo.projection import LocalProjection
from skyfence.sim.flight import H, PSI, T, V, VZ, X, Y
from skyfence.sim.missions import Sortie
from skyfence.sim.scenario import Surveillance
from skyfence.tracks.schema import conform, empty_tracks, times as to_times
from skyfence.units import parse_duration, parse_length, parse_speed


@dataclass(frozen=True)
class Sensor:
    interval: tuple[float, float]
    position_noise: float
    speed_noise: float
    track_noise: float
    altitude_step: float
    vertical_rate_step: float
    dropout: float
    gaps_per_hour: float
    gap_length: tuple[float, float]

    @classmethod
    def from_spec(cls, s: Surveillance) -> "Sensor":
        return cls((parse_duration(s.interval[0]), parse_duration(s.interval[1])), parse_length(s.position_noise),
                   parse_speed(s.speed_noise), s.track_noise, parse_length(s.altitude_step),
                   parse_speed(s.vertical_rate_step), s.dropout, s.gaps_per_hour,
                   (parse_duration(s.gap_length[0]), parse_duration(s.gap_length[1])))


def observe(sorties: list[Sortie], sensor: Sensor, projection: LocalProjection, rng: np.random.Generator,
            party_of: dict[int, str]) -> pl.DataFrame:
    """The reports of every sortie, in the canonical track schema (sorted by aircraft and time)."""
    parts = []
    for s in sorties:
        tr = s.traj
        if tr is None or len(tr) < 2:
            continue
        u = rng.uniform(*sensor.interval)
        times = tr[0, T] + rng.uniform(0, u) + np.arange(0.0, tr[-1, T] - tr[0, T], u)
        times = np.sort(times + rng.normal(0, 0.05 * u, len(times)))
        times = times[(times >= tr[0, T]) & (times <= tr[-1, T])]
        keep = rng.random(len(times)) >= sensor.dropout
        hours = (tr[-1, T] - tr[0, T]) / 3600
        for _ in range(rng.poisson(sensor.gaps_per_hour * hours)):
            g0 = rng.uniform(tr[0, T], tr[-1, T])
            keep &= ~((times >= g0) & (times < g0 + rng.uniform(*sensor.gap_length)))
        times = times[keep]
        if len(times) == 0:
            continue
        cols = {c: np.interp(times, tr[:, T], tr[:, c]) for c in (X, Y, H, V, VZ)}
        psi = np.interp(times, tr[:, T], np.unwrap(tr[:, PSI]))
        n = len(times)
        parts.append((s, times, cols[X] + rng.normal(0, sensor.position_noise, n),
                      cols[Y] + rng.normal(0, sensor.position_noise, n), cols[H],
                      cols[V] + rng.normal(0, sensor.speed_noise, n),
                      np.degrees(psi) + rng.normal(0, sensor.track_noise, n), cols[VZ]))
    if not parts:
        return empty_tracks()
    times = np.concatenate([p[1] for p in parts])
    x = np.concatenate([p[2] for p in parts])
    y = np.concatenate([p[3] for p in parts])
    lon, lat = projection.inverse(x, y)
    track = (np.concatenate([p[6] for p in parts]) + projection.convergence(lon, lat)) % 360.0
    alt = np.round(np.concatenate([p[4] for p in parts]) / sensor.altitude_step) * sensor.altitude_step
    vz = np.round(np.concatenate([p[7] for p in parts]) / sensor.vertical_rate_step) * sensor.vertical_rate_step
    counts = [len(p[1]) for p in parts]
    df = pl.DataFrame({
        "time": to_times(times),
        "track_id": np.repeat([p[0].icao24 for p in parts], counts),
        "callsign": np.repeat([p[0].callsign for p in parts], counts),
        "party": np.repeat([party_of.get(p[0].id, "unknown") for p in parts], counts),
        "lon": lon, "lat": lat, "altitude": alt, "ground_speed": np.maximum(np.concatenate([p[5] for p in parts]), 0),
        "track": track, "vertical_rate": vz,
    }).with_columns(pl.lit(False).alias("on_ground"), pl.lit("simulator").alias("source"))
    return conform(df).sort(["track_id", "time"])
