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

BENCHES = ("crossings",)


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


def _generate_in_child(rows: int, seed: int, path: Path) -> None:
    code = ("import sys; from skyfence import synthetic; from skyfence.agreement import load_agreement; "
            "ag = load_agreement('euphrates-2017'); "
            f"df = synthetic.random_traffic({rows}, ag.projection, extent=500e3, seed={seed}); "
            "df = df.sort(['track_id', 'time']); "
            f"df.write_parquet(r'{path}')")
    subprocess.run([sys.executable, "-c", code], check=True)


def _run_child(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    cmd = [sys.executable, "-m", "skyfence.bench", "--child", name, "--rows", str(args.rows), "--seed",
           str(args.seed), "--workdir", str(workdir)]
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
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        fn = {"crossings": bench_crossings}[args.child]
        print(json.dumps(fn(args.rows, args.seed, args.workdir)))
        return
    workdir = args.workdir or Path(tempfile.gettempdir()) / "skyfence-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    for name in args.benches:
        if name not in BENCHES:
            raise SystemExit(f"unknown benchmark {name!r} (known: {', '.join(BENCHES)})")
        result = _run_child(name, args, workdir)
        print(json.dumps(result))
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
