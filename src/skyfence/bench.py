"""``make bench``: the speed figures the issues name, measured on generated, seeded data.

Each benchmark runs in a fresh process so that its peak memory (max RSS) is
its own. Run ``python -m skyfence.bench --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCHES = ("crossings", "manoeuvres", "conflicts", "conflicts-stress", "swiss-day", "simulate", "ingest", "report",
           "swiss-user", "cluster", "incidents", "hotline", "monitor-day", "monitor-load", "monitor-window", "web")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_crossings(rows: int, seed: int, workdir: Path) -> dict:
    """Crossing detection over ``rows`` generated state vectors (the table already in memory)."""
    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.detect.crossing_table import detect_crossings
    from skyfence.tracks.arrays import to_arrays
    from skyfence.tracks.clean import assign_flights

    ag = load_agreement("euphrates-2017")
    path = workdir / f"crossings-{rows}-{seed}.parquet"
    if not path.exists():
        _generate_in_child(rows, seed, path)
    t_read = time.perf_counter()
    df = pl.read_parquet(path)
    df = assign_flights(df.with_columns(ag.identifier.assign(df["track_id"], df["callsign"])),
                        ag.thresholds.crossing.flight_gap)
    t_read = time.perf_counter() - t_read
    # warm the compiled kernels on a small slice so that compile time is not counted
    small = df.head(50_000)
    detect_crossings(small, to_arrays(small, ag.projection), ag)
    t0 = time.perf_counter()
    tr = to_arrays(df, ag.projection)
    t1 = time.perf_counter()
    result = detect_crossings(df, tr, ag)
    t2 = time.perf_counter()
    return {
        "bench": "crossings", "rows": df.height, "flights": int(df["flight_id"].n_unique()),
        "crossings": result.table.height,
        "seconds_read_identify_untimed": round(t_read, 3), "seconds_projection": round(t1 - t0, 3), "seconds_detection": round(t2 - t1, 3),
        "seconds_total": round(t2 - t0, 3), "rows_per_second": round(df.height / (t2 - t0)),
        "peak_memory_mb": round(peak_rss_mb()),
    }


def random_states(n: int, seed: int, area_km2: float | None = None, box_km: float | None = None):
    """``n`` aircraft spread uniformly over ``area_km2`` (a spherical cap centred at 45 N 10 E) or a square box."""
    from skyfence.geo.ecef import A

    rng = np.random.default_rng(seed)
    if box_km is not None:
        lat = 45.0 + rng.uniform(-0.5, 0.5, n) * box_km / 111.2
        lon = 10.0 + rng.uniform(-0.5, 0.5, n) * box_km / (111.2 * np.cos(np.radians(45.0)))
    else:
        r = A / 1000.0
        cos_max = 1.0 - area_km2 / (2 * np.pi * r * r)
        z = rng.uniform(cos_max, 1.0, n)
        phi = rng.uniform(0, 2 * np.pi, n)
        s = np.sqrt(1 - z * z)
        v = np.column_stack([s * np.cos(phi), s * np.sin(phi), z])
        tilt = np.radians(45.0)  # rotate the cap from the pole down to 45 N
        rot = np.array([[np.cos(tilt), 0, np.sin(tilt)], [0, 1, 0], [-np.sin(tilt), 0, np.cos(tilt)]])
        v = v @ rot.T
        lat = np.degrees(np.arcsin(v[:, 2]))
        lon = 10.0 + np.degrees(np.arctan2(v[:, 1], v[:, 0]))
    alt = rng.choice(np.arange(100, 410, 10), n) * 30.48
    speed = rng.uniform(100, 280, n)
    track = rng.uniform(0, 360, n)
    vz = np.where(rng.random(n) < 0.2, rng.normal(0, 8, n), 0.0)
    return lon, lat, alt, speed, track, vz


def bench_conflicts(n: int, seed: int, box_km: float | None = None) -> dict:
    """One detection step, all levels, all pairs, on ``n`` random aircraft."""
    from skyfence.agreement.model import SeparationThresholds
    from skyfence.detect.conflicts import ConflictRules, StateVectors, find_conflicts

    rules = ConflictRules.from_thresholds(SeparationThresholds())
    states = random_states(n, seed, area_km2=None if box_km else n * 1000.0, box_km=box_km)
    warm = StateVectors.from_arrays(*(a[:500] for a in states))
    find_conflicts(warm, rules)
    base = peak_rss_mb()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        figs = find_conflicts(StateVectors.from_arrays(*states), rules)
        times.append(time.perf_counter() - t0)
    levels = np.bincount(figs.level, minlength=5)
    return {"bench": "conflicts", "aircraft": n, "layout": f"{box_km:g} km box" if box_km else "1 per 1000 km2",
            "seconds": round(min(times), 4), "pairs_caution_or_more": int(levels[1:].sum()),
            "by_level": {"caution": int(levels[1]), "warning": int(levels[2]), "loss": int(levels[3]),
                         "nmac": int(levels[4])},
            "peak_memory_mb": round(peak_rss_mb()), "memory_growth_mb": round(peak_rss_mb() - base)}


def bench_all_pairs(n: int, seed: int, box_km: float) -> dict:
    """The same step by brute force: every pair through the same compiled kernel, and in plain numpy."""
    from skyfence.agreement.model import SeparationThresholds
    from skyfence.detect.conflicts import ConflictRules, StateVectors, pair_levels

    rules = ConflictRules.from_thresholds(SeparationThresholds())
    states = random_states(n, seed, box_km=box_km)
    sv = StateVectors.from_arrays(*states)
    pair_levels(sv, np.array([0]), np.array([1]), rules)
    i_all, j_all = np.triu_indices(n, k=1)
    t0 = time.perf_counter()
    found = 0
    for s in range(0, len(i_all), 5_000_000):  # levels only, in blocks: the fastest brute force we have
        found += int((pair_levels(sv, i_all[s:s + 5_000_000], j_all[s:s + 5_000_000], rules) > 0).sum())
    compiled = time.perf_counter() - t0
    t0 = time.perf_counter()
    found_np = _numpy_all_pairs(states, rules)
    plain = time.perf_counter() - t0
    return {"bench": "all-pairs", "aircraft": n, "layout": f"{box_km:g} km box", "pairs": int(len(i_all)),
            "seconds_compiled_kernel": round(compiled, 3), "seconds_numpy": round(plain, 3),
            "pairs_caution_or_more": found, "numpy_flat_earth_caution_pairs": found_np}


def _numpy_all_pairs(states, rules) -> int:
    """All pairs in vectorised numpy, the way BlueSky's state-based detection does it: full matrices
    (in blocks of rows) of relative position and velocity in a local plane, the closest point of
    approach clamped to the look-ahead, and the caution test on the miss distance."""
    from skyfence.geo.projection import LocalProjection

    lon, lat, _, speed, track, _ = states
    proj = LocalProjection.fit(lon, lat)
    x, y = proj.forward(lon, lat)
    ve, vn = proj.velocity(lon, lat, speed, track)
    n, found, block = len(x), 0, 1000
    for a in range(0, n, block):
        rows = slice(a, min(a + block, n))
        dx, dy = x[None, :] - x[rows, None], y[None, :] - y[rows, None]
        du, dv = ve[None, :] - ve[rows, None], vn[None, :] - vn[rows, None]
        dv2 = du * du + dv * dv
        with np.errstate(invalid="ignore", divide="ignore"):
            tcpa = np.where(dv2 > 0, np.clip(-(du * dx + dv * dy) / dv2, 0.0, rules.lookahead), 0.0)
        dcpa2 = (dx + du * tcpa) ** 2 + (dy + dv * tcpa) ** 2
        upper = np.arange(a, min(a + block, n))[:, None] < np.arange(n)[None, :]
        found += int(((dcpa2 < rules.caution_h ** 2) & upper).sum())
    return found


def bench_swiss_day(shared: Path) -> dict:
    """``skyfence analyze`` on the real Swiss en-route day (842 aircraft), all pairs."""
    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.detect.encounter_table import EncounterSettings

    ag = load_agreement("euphrates-2017")
    raw = pl.read_parquet(shared / "adsb_samples.parquet").filter(pl.col("scenario") == "enroute_rvsm_traffic")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "swiss.parquet"
        raw.write_parquet(path)
        analyze([path], ag, None, encounters=EncounterSettings(pairs="all"))  # compile once
        t0 = time.perf_counter()
        result = analyze([path], ag, Path(tmp) / "out", encounters=EncounterSettings(pairs="all"))
        seconds = time.perf_counter() - t0
    enc = result.summary["encounters"]
    return {"bench": "swiss-day", "states": raw.height, "aircraft": raw["icao24"].n_unique(),
            "seconds_whole_analysis": round(seconds, 3), "encounters": enc["total"], "by_level": enc["by_level"],
            "losses_of_separation": enc["losses_of_separation"], "peak_memory_mb": round(peak_rss_mb())}


def bench_swiss_user(shared: Path, cold: str | None) -> dict:
    """The real Swiss day under a user's own agreement (tests/data/swiss-line.yaml: a line across Switzerland,
    parties by callsign and country, a time-limited block) against the built-in agreement, parties and all
    pairs: seconds for the whole analysis, warm (kernels compiled) or, with ``cold`` ("user" or "builtin"), the
    first run under that agreement in a fresh kernel cache (compiling included); and the counts a user reads."""
    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.detect.encounter_table import EncounterSettings

    user = load_agreement(Path(__file__).resolve().parents[2] / "tests" / "data" / "swiss-line.yaml")
    builtin = load_agreement("euphrates-2017")
    raw = pl.read_parquet(shared / "adsb_samples.parquet").filter(pl.col("scenario") == "enroute_rvsm_traffic")
    out: dict = {"bench": "swiss-user" + (f" (cold, {cold} agreement)" if cold else ""), "states": raw.height}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "swiss.parquet"
        raw.write_parquet(path)
        if cold:
            name = cold
            t0 = time.perf_counter()
            analyze([path], user if name == "user" else builtin, Path(tmp) / "out",
                    encounters=EncounterSettings(pairs="parties"))
            out[f"seconds_first_run_{name}_parties"] = round(time.perf_counter() - t0, 2)
            return out | {"peak_memory_mb": round(peak_rss_mb())}
        analyze([path], user, None)  # kernels compiled and cached, files in the page cache
        for name, ag in (("user", user), ("builtin", builtin)):
            for pairs in ("parties", "all"):
                t0 = time.perf_counter()
                result = analyze([path], ag, Path(tmp) / f"{name}-{pairs}", encounters=EncounterSettings(pairs=pairs))
                out[f"seconds_{name}_{pairs}"] = round(time.perf_counter() - t0, 2)
                if pairs == "parties":
                    c = result.crossings
                    out[f"entry_kind_{name}"] = dict(sorted(c.group_by("entry_kind").len().iter_rows()))
                    judged = c.filter(pl.col("intent").is_not_null())
                    out[f"intent_{name}"] = dict(sorted(judged.group_by("intent").len().iter_rows()))
                out[f"encounters_{name}_{pairs}"] = result.encounters.height
    out["ratio_user_all_to_builtin_all"] = round(out["seconds_user_all"] / out["seconds_builtin_all"], 2)
    out["ratio_user_all_to_builtin_parties"] = round(out["seconds_user_all"] / out["seconds_builtin_parties"], 2)
    return out | {"peak_memory_mb": round(peak_rss_mb())}


def bench_simulate(seed: int) -> dict:
    """24 h of the built-in scenario, and a load of 10,000 aircraft airborne at once for an hour."""
    from skyfence.sim.run import simulate, simulate_load
    from skyfence.sim.scenario import load_scenario

    scenario, base = load_scenario("euphrates-2017")
    simulate(scenario, base, 1, seed)  # compile once
    t0 = time.perf_counter()
    day = simulate(scenario, base, 24, seed)
    t_day = time.perf_counter() - t0
    t0 = time.perf_counter()
    load = simulate_load(scenario, base, 10_000, 1.0, seed)
    t_load = time.perf_counter() - t0
    return {"bench": "simulate", "seconds_24h_scenario": round(t_day, 2), "states_24h": day.tracks.height,
            "aircraft_24h": day.tracks["track_id"].n_unique(), "truth_events_24h": day.truth.height,
            "seconds_10000_aircraft_1h": round(t_load, 2), "states_10000_aircraft_1h": load.tracks.height,
            "peak_memory_mb": round(peak_rss_mb())}


def bench_manoeuvres(rows: int, seed: int, workdir: Path) -> dict:
    """Kinematics and every manoeuvre detector over ``rows`` generated state vectors."""
    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.detect.manoeuvres import detect_manoeuvres
    from skyfence.tracks.arrays import to_arrays
    from skyfence.tracks.clean import assign_flights
    from skyfence.tracks.kinematics import kinematics

    ag = load_agreement("euphrates-2017")
    path = workdir / f"crossings-{rows}-{seed}.parquet"
    if not path.exists():
        _generate_in_child(rows, seed, path)
    df = assign_flights(pl.read_parquet(path), ag.thresholds.crossing.flight_gap)
    tr = to_arrays(df, ag.projection)
    small = to_arrays(df.head(50_000), ag.projection)
    detect_manoeuvres(small, kinematics(small), ag.thresholds.manoeuvres)  # compile
    t0 = time.perf_counter()
    k = kinematics(tr)
    t1 = time.perf_counter()
    ev = detect_manoeuvres(tr, k, ag.thresholds.manoeuvres)
    t2 = time.perf_counter()
    return {"bench": "manoeuvres", "rows": len(tr), "events": len(ev), "seconds_kinematics": round(t1 - t0, 3),
            "seconds_detectors": round(t2 - t1, 3), "states_per_second": round(len(tr) / (t2 - t0)),
            "peak_memory_mb": round(peak_rss_mb())}


def _generate_in_child(rows: int, seed: int, path: Path) -> None:
    code = ("import sys; from skyfence import synthetic; from skyfence.agreement import load_agreement; "
            "ag = load_agreement('euphrates-2017'); "
            f"df = synthetic.random_traffic({rows}, ag.projection, extent=500e3, seed={seed}); "
            "df = df.sort(['track_id', 'time']); "
            f"df.write_parquet(r'{path}')")
    subprocess.run([sys.executable, "-c", code], check=True)


def _run_child(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    cmd = [sys.executable, "-m", "skyfence.bench", "--child", name, "--rows", str(args.rows), "--seed",
           str(args.seed), "--workdir", str(workdir), "--shared", str(args.shared),
           "--cluster-states", str(args.cluster_states), "--cluster-baseline-hours", str(args.cluster_baseline_hours),
           "--hotline-seconds", str(args.hotline_seconds),
           "--monitor-tick", str(args.monitor_tick), "--monitor-aircraft", str(args.monitor_aircraft),
           "--monitor-seconds", str(args.monitor_seconds),
           *(["--hours-per-task", str(args.hours_per_task)] if args.hours_per_task else []),
           *(["--cluster-hours", str(args.cluster_hours)] if args.cluster_hours else [])]
    if ":cold" in name:  # a fresh, empty kernel cache: the first run after installing
        import os

        with tempfile.TemporaryDirectory() as cache:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"NUMBA_CACHE_DIR": cache})
    else:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark {name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skyfence.bench", description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", default=list(BENCHES), help=f"which: {', '.join(BENCHES)}")
    parser.add_argument("--rows", type=int, default=10_000_000, help="state vectors for the crossing benchmark")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--workdir", type=Path, default=None, help="where generated data is kept between runs")
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data",
                        help="the shared data folder (for swiss-day)")
    parser.add_argument("--cluster-states", type=int, default=30_000_000,
                        help="states in the cluster benchmark's archive (a week of hourly files)")
    parser.add_argument("--cluster-baseline-hours", type=int, default=12,
                        help="hours of that archive one process analyses, for the cluster's overhead (one process "
                        "needed 9 GB for 12 hours of the default archive)")
    parser.add_argument("--cluster-hours", type=int, default=None,
                        help="only the first N hourly files of that archive on the cluster (default: the week)")
    parser.add_argument("--hours-per-task", type=int, default=None,
                        help="the cluster benchmark's task size (default: chosen from the archive)")
    parser.add_argument("--hotline-seconds", type=float, default=60.0,
                        help="how long the hotline benchmark feeds 1,000 updates a minute")
    parser.add_argument("--monitor-tick", type=float, default=1.0, help="the monitor benchmarks' tick (s of data)")
    parser.add_argument("--monitor-aircraft", type=int, default=10_000,
                        help="aircraft in monitor-load and monitor-window")
    parser.add_argument("--monitor-seconds", type=float, default=600.0, help="how long monitor-load runs")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "crossings":
            print(json.dumps(bench_crossings(args.rows, args.seed, args.workdir)))
        elif args.child == "manoeuvres":
            print(json.dumps(bench_manoeuvres(args.rows, args.seed, args.workdir)))
        elif args.child.startswith("conflicts:"):
            _, n, box = args.child.split(":")
            print(json.dumps(bench_conflicts(int(n), args.seed, float(box) if box else None)))
        elif args.child == "simulate":
            print(json.dumps(bench_simulate(args.seed)))
        elif args.child == "swiss-day":
            print(json.dumps(bench_swiss_day(args.shared)))
        elif args.child.startswith("swiss-user"):
            cold = args.child.split(":cold-")[1] if ":cold-" in args.child else None
            print(json.dumps(bench_swiss_user(args.shared, cold=cold)))
        elif args.child.startswith("ingest:"):
            from skyfence.bench_ingest import bench_ingest

            print(json.dumps(bench_ingest(args.child.split(":")[1], args.shared)))
        elif args.child == "incidents":
            from skyfence.bench_incidents import bench_incidents

            print(json.dumps(bench_incidents(args.workdir)))
        elif args.child == "report":
            from skyfence.bench_report import bench_report

            print(json.dumps(bench_report(args.workdir)))
        elif args.child.startswith("cluster:"):
            from skyfence import bench_cluster as bc

            folder = bc.archive_path(args.workdir, args.cluster_states, args.seed)
            what = args.child.split(":")[1]
            if what == "archive":
                print(json.dumps({"bench": "cluster-archive", **bc.generate_archive(folder, args.cluster_states,
                                                                                   args.seed)}))
            elif what == "single":
                print(json.dumps(bc.bench_single(folder, args.cluster_baseline_hours)))
            else:
                print(json.dumps(bc.bench_on_cluster(folder, int(what), args.hours_per_task, args.cluster_hours)))
        elif args.child == "hotline":
            from skyfence.bench_hotline import bench_hotline

            print(json.dumps(bench_hotline(args.hotline_seconds)))
        elif args.child == "monitor-day":
            from skyfence.bench_monitor import bench_monitor_day

            print(json.dumps(bench_monitor_day(args.workdir, args.seed, args.monitor_tick)))
        elif args.child == "monitor-window":
            from skyfence.bench_monitor import bench_monitor_window

            print(json.dumps(bench_monitor_window(args.workdir, args.seed, args.monitor_aircraft, args.monitor_tick)))
        elif args.child == "monitor-load":
            from skyfence.bench_monitor import bench_monitor_load

            print(json.dumps(bench_monitor_load(args.workdir, args.seed, args.monitor_aircraft, args.monitor_seconds,
                                                args.monitor_tick)))
        elif args.child.startswith("web:"):
            from skyfence import bench_web

            what = args.child.split(":")[1]
            bench = bench_web.bench_ws(5000, 50, 60.0, args.seed, args.workdir) if what == "ws" else \
                bench_web.bench_page(5000, 10.0, args.seed, args.workdir)
            print(json.dumps(bench))
        elif args.child.startswith("all-pairs:"):
            _, n, box = args.child.split(":")
            print(json.dumps(bench_all_pairs(int(n), args.seed, float(box))))
        return
    workdir = args.workdir or Path(tempfile.gettempdir()) / "skyfence-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    for name in args.benches:
        if name not in BENCHES:
            raise SystemExit(f"unknown benchmark {name!r} (known: {', '.join(BENCHES)})")
        if name in ("crossings", "manoeuvres"):
            children = [name]
        elif name == "conflicts":
            # 400,000 at 1 per 1000 km2 covers most of the Earth: the largest such layout that fits
            children = [f"conflicts:{n}:" for n in (1_000, 10_000, 100_000, 400_000)]
        elif name in ("swiss-day", "simulate", "report", "incidents", "monitor-day", "monitor-load",
                      "monitor-window"):
            children = [name]
        elif name == "ingest":
            children = ["ingest:sbs", "ingest:raw", "ingest:beast"]
        elif name == "swiss-user":
            children = ["swiss-user:cold-user", "swiss-user:cold-builtin", "swiss-user"]
        elif name == "hotline":
            children = ["hotline"]
        elif name == "cluster":
            children = ["cluster:archive", "cluster:1", "cluster:2", "cluster:single"]
        elif name == "web":
            children = ["web:ws", "web:page"]
        else:
            children = ["conflicts:10000:600", "all-pairs:10000:600"]
        for child in children:
            print(json.dumps(_run_child(child, args, workdir)), flush=True)
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
