"""The compiled numerical kernels: compiled once, cached on disk, and said so when it happens.

skyfence's hot loops are numba functions compiled on first use and cached
(``cache=True``) beside their modules (or in ``NUMBA_CACHE_DIR``). Compiling
them all takes about half a minute, more on a loaded machine, so ``make
install`` does it ahead of time (``python -m skyfence.kernels``), and a run
that finds them not yet compiled says so in its progress display instead of
sitting silently on its first step.

Whether they are compiled is kept in a stamp file next to numba's cache, named
by a fingerprint of the kernels' source files and the numba version: editing a
kernel, or upgrading numba, makes the next run compile (and say so) again.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from skyfence.progress import Steps

KERNEL_MODULES = ("detect/closest.py", "detect/conflicts.py", "detect/interactions.py", "detect/manoeuvres.py",
                  "detect/pairs.py", "detect/search_memo.py", "order.py", "geo/boundary.py", "sim/flight.py", "tracks/align.py",
                  "tracks/consistency.py", "tracks/kinematics.py", "tracks/plausibility.py",
                  "tracks/row_memo.py", "tracks/settle.py")


def as_kernel_array(a, dtype=None):
    """``a`` as a C-contiguous, writeable array (copied only when it is not): a read-only array (polars
    hands out zero-copy views) is another type to numba, compiled and cached again."""
    import numpy as np

    return np.require(a, dtype=dtype or np.float64, requirements=["C", "W"])


NOTICE = "compiling the numerical kernels (first run after installing; cached for later runs)"


def fingerprint() -> str:
    """A hash of the kernels' sources and the numba version."""
    import numba

    h = hashlib.sha256(numba.__version__.encode())
    root = resources.files("skyfence")
    for name in KERNEL_MODULES:
        h.update(root.joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def stamp_path() -> Path:
    """Where the stamp goes: numba's cache folder for skyfence's kernels (it honours ``NUMBA_CACHE_DIR``)."""
    from skyfence.tracks import plausibility

    return Path(plausibility._jumps._cache._cache_path) / f"skyfence-kernels-{fingerprint()}.ok"


def ready() -> bool:
    """Whether the kernels were compiled and cached for this source and numba version."""
    try:
        return stamp_path().exists()
    except (OSError, AttributeError):
        return False


def compile_all() -> float:
    """Compile (or load from the cache) every kernel on a small synthetic day: the batch pipeline on
    tracks that cross, conflict, turn and climb, and an hour of the simulator. Returns the seconds taken."""
    from skyfence import synthetic
    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.detect.encounter_table import EncounterSettings
    from skyfence.sim.run import simulate
    from skyfence.sim.scenario import load_scenario

    import polars as pl

    t0 = time.perf_counter()
    ag = load_agreement("euphrates-2017")
    e = synthetic.EPOCH_2017
    lon_b, lat_b = synthetic.position_at(39.9, 35.0, 90.0, 60_000.0, 1.0)
    tracks = pl.concat([
        synthetic.straight_track(39.90, 35.00, 45, 220, 600, 4, e, "778a01", "SYR101"),
        synthetic.straight_track(39.90, 35.00, 90, 200, 400, 2, e, "778a02", "SYR102", vertical_rate=20.0),
        synthetic.straight_track(lon_b, lat_b, 270, 200, 400, 2, e, "ae1c01", "RCH331"),
        synthetic.straight_track(40.30, 35.60, 225, 230, 700, 4, e + 100, "ae1c02", "HOMER21"),
    ])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warm.parquet"
        tracks.write_parquet(path)
        analyze([path], ag, None, encounters=EncounterSettings(pairs="all", level="caution"), warm=False)
        _warm_monitor_kernels(path, ag)
    scenario, base = load_scenario("euphrates-2017")
    simulate(scenario, base, 1.0, 1)
    return time.perf_counter() - t0


def _warm_monitor_kernels(path: Path, agreement) -> None:
    """The kernels only the live monitor's runs call (what a run keeps for the next, the cleaning fold): the
    tracks replayed through the monitor, runs a minute apart, so that each run keeps something for the next."""
    from skyfence.live.monitor import Monitor
    from skyfence.live.sources import open_source

    Monitor([open_source(str(path))], agreement, tick=60.0, speed=0.0).run()


def ensure(progress: Steps | None = None) -> bool:
    """Compile the kernels if they are not cached yet, saying so; True if it had to."""
    if ready():
        return False
    progress = progress or Steps(None)
    if not progress.shown:
        print(f"skyfence: {NOTICE} ...", file=sys.stderr, flush=True)
    with progress.step(NOTICE):
        compile_all()
    _write_stamp()
    return True


def _write_stamp() -> None:
    try:
        path = stamp_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("skyfence-kernels-*.ok"):
            old.unlink(missing_ok=True)
        path.write_text("compiled\n", encoding="utf-8")
    except (OSError, AttributeError):
        pass  # a cache folder we cannot write: the kernels compile on each run, and each run says so


def main() -> None:
    """``python -m skyfence.kernels``: compile and cache every kernel now (``make install`` runs it)."""
    if ready() and "--force" not in sys.argv[1:]:
        print("skyfence: numerical kernels already compiled and cached", file=sys.stderr)
        return
    print(f"skyfence: {NOTICE} ...", file=sys.stderr, flush=True)
    seconds = compile_all()
    _write_stamp()
    print(f"skyfence: kernels compiled and cached in {seconds:.0f} s ({stamp_path().parent})", file=sys.stderr)


if __name__ == "__main__":
    main()
