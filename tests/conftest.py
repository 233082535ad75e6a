"""Shared fixtures: the real data in ../shared/data and the built-in agreement."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, settings

from skyfence.agreement import load_agreement

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def samples(shared) -> pl.DataFrame:
    """The ~490k real ADS-B state vectors (traffic / OpenSky Network)."""
    return pl.read_parquet(shared / "adsb_samples.parquet")


@pytest.fixture(scope="session")
def euphrates():
    return load_agreement("euphrates-2017")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by playwright (swiftshader WebGL); skipped, with the reason, without it."""
    from tests.web_helpers import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def sim_slice(tmp_path_factory, euphrates):
    """Two hours of the simulated day with two crossings (warned) and an encounter between parties."""
    from skyfence.sim.run import simulate
    from skyfence.sim.scenario import load_scenario

    tmp = tmp_path_factory.mktemp("sim")
    scenario, base = load_scenario("euphrates-2017")
    sim = simulate(scenario, base, 24.0, 7, None)
    t = pl.col("time")
    lo, hi = datetime(2017, 11, 1, 5, 30, tzinfo=timezone.utc), datetime(2017, 11, 1, 7, 40, tzinfo=timezone.utc)
    part = sim.tracks.filter((t >= lo) & (t < hi))
    path = tmp / "slice.parquet"
    part.write_parquet(path)
    return path
