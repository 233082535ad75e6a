"""Results folders for the report, export and compare tests: simulated traffic analysed by the CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from skyfence import synthetic
from skyfence.cli import app
from skyfence.sim.run import simulate
from skyfence.sim.scenario import load_scenario

runner = CliRunner()
SIM_HOURS, SIM_SEED = 8.0, 3  # 6 crossings (deliberate and inadvertent), an NMAC, an intercept, a mock engagement


def simulated_tracks(folder: Path) -> Path:
    """Eight hours of the built-in scenario as a track file."""
    scenario, base = load_scenario("euphrates-2017")
    path = folder / "tracks.parquet"
    simulate(scenario, base, SIM_HOURS, SIM_SEED).tracks.write_parquet(path)
    return path


def analysed(tracks: Path, out: Path, *options: str) -> Path:
    result = runner.invoke(app, ["analyze", str(tracks), "--out", str(out), "-q", *options])
    assert result.exit_code == 0, result.output
    return out


def quiet_day(folder: Path) -> Path:
    """A day on which nothing happens: two aircraft of one party, far apart, on their own side."""
    t0 = synthetic.EPOCH_2017
    tracks = pl.concat([
        synthetic.straight_track(39.0, 35.0, 270, 200, 300, 4, t0 + 3600, "778a01", "SYR101"),
        synthetic.straight_track(38.9, 35.4, 270, 200, 300, 4, t0 + 7200, "778a02", "SYR102"),
    ])
    path = folder / "quiet.parquet"
    tracks.write_parquet(path)
    return path
