"""``simulate``: a scenario flown for some hours, as state vectors and ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from skyfence.agreement import load_agreement
from skyfence.agreement.load import BUILTIN as BUILTIN_AGREEMENTS
from skyfence.agreement.model import Agreement
from skyfence.detect.conflicts import ConflictRules
from skyfence.errors import SkyfenceError
from skyfence.progress import Steps
from skyfence.sim import truth
from skyfence.sim.aircraft import aircraft_type
from skyfence.sim.flight import LEG, T, fly
from skyfence.sim.geography import Airfield, Theatre, airfields
from skyfence.sim.identity import Addresses, Callsigns
from skyfence.sim.injected import nearest_aircraft, plan_crossing, plan_intercept
from skyfence.sim.missions import Sortie, plan_civil, plan_military
from skyfence.sim.scenario import Scenario
from skyfence.sim.sensor import Sensor, observe
from skyfence.tracks.schema import time_from_seconds
from skyfence.units import parse_altitude, parse_length


@dataclass
class Simulation:
    tracks: pl.DataFrame
    truth: pl.DataFrame
    sorties: list[Sortie]
    agreement: Agreement


def scenario_agreement(scenario: Scenario, base_dir: Path) -> Agreement:
    ref = scenario.agreement
    if ref not in BUILTIN_AGREEMENTS and not Path(ref).is_absolute():
        ref = str(base_dir / ref)
    return load_agreement(ref)


def simulate(scenario: Scenario, base_dir: Path, hours: float, seed: int, progress: Steps | None = None) -> Simulation:
    """Fly the scenario for ``hours`` from its start; deterministic for a seed."""
    progress = progress or Steps(None)
    if not hours > 0:
        raise SkyfenceError("--hours must be positive")
    agreement = scenario_agreement(scenario, base_dir)
    rng = np.random.default_rng(seed)
    t0 = scenario.start.timestamp()
    t_end = t0 + hours * 3600
    fields = airfields()
    theatres = {p: Theatre(agreement, p) for p in scenario.parties}
    taken: set[int] = set()
    addresses = {p: Addresses(f.identity, rng, taken) for p, f in scenario.parties.items()}
    civil_addresses = Addresses(scenario.civil.identity, rng, taken)
    callsigns = Callsigns(rng)
    bases = {p: _bases(p, f.bases, fields, theatres[p]) for p, f in scenario.parties.items()}
    sorties: list[Sortie] = []

    def fly_sortie(s: Sortie, target: np.ndarray | None = None) -> Sortie:
        s.traj = fly(s.leg_array(), s.ac, s.start, target=target)
        return s

    with progress.step("flying routine sorties"):
        for spec in scenario.sorties:
            ac = aircraft_type(spec.type)
            theatre = theatres[spec.party]
            for t in _start_times(rng, spec.per_day, hours, t0):
                base = bases[spec.party][int(rng.integers(len(bases[spec.party])))]
                for _ in range(10):  # a routine sortie keeps 2 km clear of the areas closed to it, or is re-planned
                    s = plan_military(len(sorties), spec.party, spec.mission, ac, "", "", base, theatre, t, rng,
                                      scenario.manoeuvres.hard_turns, scenario.manoeuvres.attack_dives)
                    fly_sortie(s)
                    if theatre.clear_of(s.traj[:, 1], s.traj[:, 2], 2000.0):
                        s.callsign, s.icao24 = callsigns.next(spec.callsign), addresses[spec.party].next()
                        sorties.append(s)
                        break
        levels = (parse_altitude(scenario.civil.levels[0]), parse_altitude(scenario.civil.levels[1]))
        any_theatre = next(iter(theatres.values()))
        for t in _start_times(rng, scenario.civil.per_day, hours, t0 - 1800):
            ac = aircraft_type(scenario.civil.types[int(rng.integers(len(scenario.civil.types)))])
            prefix = scenario.civil.callsigns[int(rng.integers(len(scenario.civil.callsigns)))]
            s = plan_civil(len(sorties), ac, callsigns.next(prefix), civil_addresses.next(), any_theatre, t, rng, levels)
            sorties.append(fly_sortie(s))

    if scenario.crossings is not None:
        with progress.step("injecting crossings and intercepts"):
            _inject(scenario, agreement, theatres, bases, addresses, callsigns, sorties, rng, t0, hours,
                               fly_sortie)

    with progress.step("measuring ground truth"):
        for s in sorties:
            if s.traj is not None:
                s.traj = s.traj[s.traj[:, T] <= t_end]
        by_id = {s.id: s for s in sorties}
        events = []
        for s in sorties:
            events += truth.crossings(s, agreement)
            events += truth.manoeuvres(s, by_id, agreement.thresholds.manoeuvres)
        events += truth.interactions(sorties, agreement)
        events += truth.separations(sorties, ConflictRules.from_thresholds(agreement.thresholds.separation))
    with progress.step("observing (ADS-B-like reports)"):
        party_of = {s.id: s.party or "unknown" for s in sorties}
        tracks = observe(sorties, Sensor.from_spec(scenario.surveillance), agreement.projection, rng, party_of)
        tracks = tracks.filter(pl.col("time") <= time_from_seconds(pl.lit(t_end)))
    return Simulation(tracks, with_report_counts(truth_table(events, by_id), tracks), sorties, agreement)


def _start_times(rng, per_day: float, hours: float, t0: float) -> np.ndarray:
    """Take-off times: spread through the period (relays, as squadrons plan them), with jitter."""
    n = rng.poisson(per_day * hours / 24)
    slot = hours * 3600 / max(n, 1)
    return np.sort(t0 + (np.arange(n) + rng.uniform(0.0, 1.0, n)) * slot)


def _bases(party: str, codes: list, fields, theatre: Theatre):
    out = []
    for i, code in enumerate(codes):
        f = _airfield(f"parties.{party}.bases[{i}]", code, fields)
        x, y = theatre.xy(f.lon, f.lat)
        if not theatre.clear_of(np.array([x]), np.array([y]), 4000.0):
            continue  # too close to the line to route from: left out
        out.append(f)
    if not out:
        raise SkyfenceError(f"parties.{party}.bases: every base is inside or next to an area closed to {party}")
    return out


def _airfield(where: str, spec, fields) -> Airfield:
    """A base: an ICAO code of the bundled airport list, ``[lon, lat]`` or ``{name, lon, lat, elevation}``."""
    if isinstance(spec, str):
        if spec not in fields:
            raise SkyfenceError(f"{where}: unknown airfield {spec!r} (the bundled list covers the Euphrates "
                                "region; elsewhere give the base's position: [lon, lat] or {name, lon, lat})")
        return fields[spec]
    if isinstance(spec, tuple):
        lon, lat = spec
        return Airfield(f"{lon:.3f},{lat:.3f}", f"base at {lon:.3f} E {lat:.3f} N", float(lon), float(lat), 0.0)
    return Airfield(spec.name, spec.name, spec.lon, spec.lat, parse_altitude(spec.elevation))


def _inject(scenario, agreement, theatres, bases, addresses, callsigns, sorties, rng, t0, hours, fly_sortie):
    spec = scenario.crossings
    party = spec.party
    theatre = theatres[party]
    th = agreement.thresholds.crossing
    types = [s for s in scenario.sorties if s.party == party and aircraft_type(s.type).fast_mover]
    if not types:
        raise SkyfenceError(f"crossings.party: {party} flies no fighter or attack sorties to cross with")
    interceptor_party = spec.interceptor_party
    for k, t in enumerate(_start_times(rng, spec.per_day, hours, t0)):
        deliberate = bool(rng.random() < spec.deliberate)
        depth_range = spec.deliberate_depth if deliberate else spec.inadvertent_depth
        chosen = types[int(rng.integers(len(types)))]
        ac = aircraft_type(chosen.type)
        base = bases[party][int(rng.integers(len(bases[party])))]
        for attempt in range(30):
            sub = np.random.default_rng([rng.integers(2**32), k, attempt])
            depth = sub.uniform(parse_length(depth_range[0]), parse_length(depth_range[1]))
            state = sub.bit_generator.state
            try:
                s = plan_crossing(len(sorties), party, ac, "", "", base, theatre, t, sub, deliberate, depth)
            except SkyfenceError:
                continue
            fly_sortie(s)
            if deliberate and interceptor_party:
                deep_leg = len(s.legs) - 1 - next(i for i, leg in enumerate(reversed(s.legs)) if int(leg[0]) == 3)
                hit = s.traj[s.traj[:, LEG] == deep_leg]
                if len(hit):
                    near = nearest_aircraft(sorties, interceptor_party, hit[0, T], hit[0, 1:3])
                    if near is not None:
                        sub.bit_generator.state = state
                        s = plan_crossing(len(sorties), party, ac, "", "", base, theatre, t, sub, deliberate, depth,
                                          toward=near[1])
                        s.notes["toward_id"] = near[0].id
                        fly_sortie(s)
            closed = [a for a in agreement.areas if party in a.closed_to]
            entered = [a for a in closed if truth.stays(s, a)]
            if len(entered) == 1 and truth.clean_crossing(s, entered[0], th):
                found = truth.crossings(s, agreement)
                break
        else:
            continue  # could not fly a clean crossing here: leave it out
        s.callsign = callsigns.next(chosen.callsign)
        s.icao24 = addresses[party].next()
        sorties.append(s)
        if deliberate and interceptor_party and rng.random() < spec.intercepted:
            _intercept(s, found[0], sorties, interceptor_party, rng, spec.near_collision, agreement, fly_sortie)


def _intercept(intruder: Sortie, crossing: dict, sorties, party, rng, p_near, agreement, fly_sortie):
    """Send the nearest patrolling fighter of ``party`` after the intruder; keep it off the far side."""
    t_in, t_out = crossing["start_time"], crossing["end_time"]
    t_divert = t_in - rng.uniform(60, 180)  # sent as the intruder nears the line
    weave = [(a, b) for _, kind, a, b in truth.leg_windows(intruder) if kind == 6]
    t_break = weave[0][0] if weave else t_out - 90
    if t_break - t_divert < 60:
        return None
    k = int(np.searchsorted(intruder.traj[:, T], t_divert))
    if k >= len(intruder.traj):
        return None
    where = intruder.traj[k, 1:3]
    # the interceptor dashes to where the intruder will be a minute after it crosses, on its own side
    cut = intruder.traj[min(int(np.searchsorted(intruder.traj[:, T], t_in + 60.0)), len(intruder.traj) - 1), 1:3]
    candidates = [s for s in sorties if s.party == party and s.mission == "cap" and s.ac.fast_mover
                  and s.traj is not None and len(s.traj) and s.traj[0, T] < t_divert < s.traj[-1, T]
                  and "target" not in s.notes]
    def distance(s):
        return float(np.hypot(*(s.traj[min(int(np.searchsorted(s.traj[:, T], t_divert)), len(s.traj) - 1), 1:3]
                                - where)))

    candidates = sorted((c for c in candidates if distance(c) <= 150e3), key=distance)
    near_collision = bool(rng.random() < p_near)
    for c in candidates[:4]:
        for cut_short in (0.0, 60.0, 120.0):  # break off earlier if the pursuit would carry it over the line
            legs = plan_intercept(c, t_divert, t_break - cut_short, near_collision, bool(weave), rng, cut)
            if legs is None:
                break
            original = (c.legs, c.traj)
            c.legs = list(legs)
            fly_sortie(c, target=intruder.traj)
            if truth.crossings(c, agreement) or c.traj[-1, T] < original[1][-1, T] - 3600:
                c.legs, c.traj = original  # it must stay on its own side (and still get home)
                continue
            c.notes["target"] = intruder.id
            c.notes["near_collision"] = near_collision
            return c, crossing
    return None


def with_report_counts(truth_df: pl.DataFrame, tracks: pl.DataFrame) -> pl.DataFrame:
    """Add ``reports``: how many reports of the (first) aircraft fall inside each event, so that events a
    sensor outage hid completely can be told apart."""
    if truth_df.height == 0:
        return truth_df.with_columns(pl.lit(0, dtype=pl.Int64).alias("reports"))
    ev = truth_df.with_row_index("event").select("event", "track_id", "start_time",
                                                 pl.col("end_time").fill_null(pl.col("start_time")))
    hits = (tracks.select("track_id", "time").join(ev, on="track_id")
            .filter((pl.col("time") >= pl.col("start_time")) & (pl.col("time") <= pl.col("end_time")))
            .group_by("event").len("reports"))
    return (truth_df.with_row_index("event").join(hits, on="event", how="left")
            .with_columns(pl.col("reports").fill_null(0).cast(pl.Int64)).sort("event").drop("event"))


def truth_table(events: list[dict], by_id) -> pl.DataFrame:
    """The ground truth as a table, times ISO 8601 UTC, sorted by start."""
    cols = {c: [e.get(c) for e in events] for c in truth.TRUTH_COLUMNS}
    df = pl.DataFrame({c: pl.Series(v, dtype=pl.Float64 if c in ("start_time", "end_time") else pl.String)
                       for c, v in cols.items()}) if events else pl.DataFrame(
        {c: pl.Series([], dtype=pl.Float64 if c in ("start_time", "end_time") else pl.String)
         for c in truth.TRUTH_COLUMNS})
    to_time = {c: time_from_seconds(pl.col(c)) for c in ("start_time", "end_time")}
    return df.with_columns(**to_time).sort(["start_time", "event_type", "track_id"])


def simulate_load(scenario: Scenario, base_dir: Path, aircraft: int, hours: float, seed: int,
                  interval: float | None = None) -> Simulation:
    """A benchmark load: ``aircraft`` flying at once for ``hours`` (no injected events, empty truth); with
    ``interval``, every aircraft reports every ``interval`` seconds instead of the scenario's range."""
    from dataclasses import replace

    from skyfence.sim.load import synthetic_load

    agreement = scenario_agreement(scenario, base_dir)
    rng = np.random.default_rng(seed + 1)
    sensor = Sensor.from_spec(scenario.surveillance)
    if interval is not None:
        sensor = replace(sensor, interval=(interval, interval))
    parts, batch = [], []
    for s in synthetic_load(scenario, agreement, aircraft, hours, seed):
        batch.append(s)
        if len(batch) == 500:
            parts.append(observe(batch, sensor, agreement.projection, rng, {b.id: b.party or "unknown" for b in batch}))
            batch = []
    if batch:
        parts.append(observe(batch, sensor, agreement.projection, rng, {b.id: b.party or "unknown" for b in batch}))
    tracks = pl.concat(parts) if parts else observe([], sensor, agreement.projection, rng, {})
    return Simulation(tracks, truth_table([], {}), [], agreement)
