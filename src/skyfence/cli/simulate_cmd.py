"""``skyfence simulate``: a scenario flown as state vectors, with its ground truth."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import out_console, steps
from skyfence.scenarios import BUILTIN

if TYPE_CHECKING:
    import polars as pl

    from skyfence.sim.run import Simulation

out = out_console()


def write_tracks(df: pl.DataFrame, path: Path) -> None:
    """Parquet or CSV by the file's extension."""
    from skyfence.analysis.outputs import ISO

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        df.write_csv(path, datetime_format=ISO)
    elif path.suffix.lower() in (".parquet", ".pq"):
        df.write_parquet(path, compression="zstd")
    else:
        raise SkyfenceError(f"{path}: write .parquet or .csv")


def run_simulation(scenario: str, hours: float, seed: int, aircraft: int | None, quiet: bool,
                   agreement: str | None = None, start: str | None = None) -> Simulation:
    from skyfence.sim.run import simulate, simulate_load
    from skyfence.sim.scenario import load_scenario

    when = _start_time(start) if start is not None else None
    if agreement is not None:
        from skyfence.agreement import load_agreement
        from skyfence.sim.generic import first_day, scenario_for

        ag = load_agreement(agreement)
        sc, base = scenario_for(ag, when or first_day(ag)), Path.cwd()
    else:
        if when is not None:
            raise SkyfenceError("--start goes with --agreement: a scenario gives its own start (its 'start' field)")
        sc, base = load_scenario(scenario)
    if aircraft is not None:
        if aircraft < 1:
            raise SkyfenceError("--aircraft must be at least 1")
        return simulate_load(sc, base, aircraft, hours, seed)
    with steps(not quiet) as progress:
        return simulate(sc, base, hours, seed, progress)


@app.command("simulate")
def simulate_cmd(
    scenario: str = typer.Option("euphrates-2017", "--scenario", "-s",
                                 help=f"Built-in scenario ({', '.join(BUILTIN)}) or a scenario YAML file."),
    agreement: str = typer.Option(None, "--agreement", "-a",
                                  help="Instead of a scenario: a day of generic traffic over this agreement (built-in "
                                       "name or YAML file): patrols, strikes and tankers from bases on each party's "
                                       "side, civil overflights, and crossings of the line by the second party."),
    hours: float = typer.Option(24.0, "--hours", help="How long to simulate from the scenario's start."),
    seed: int = typer.Option(2017, "--seed", help="Random seed: the same seed gives the same traffic."),
    tracks: Path = typer.Option(Path("tracks.parquet"), "--out", "-o", help="State vectors (.parquet or .csv)."),
    truth_path: Path = typer.Option(Path("truth.csv"), "--truth", help="Ground truth of the injected events (CSV)."),
    aircraft: int = typer.Option(None, "--aircraft", help="Instead of the scenario's day: N aircraft airborne at "
                                 "once for the whole period (a benchmark load; empty truth)."),
    start: str = typer.Option(None, "--start", help="When the simulated day begins (ISO 8601 UTC, or a day "
                              "YYYY-MM-DD), with --agreement. Default: the day its first zone opens (a zone valid on "
                              "some day is active in the simulated one), else 2018-08-01."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Simulate traffic over the agreement's area, with crossings, intercepts and manoeuvres injected.

    Writes state vectors in skyfence's track schema (read back by every reader)
    and a ground-truth CSV: one row per injected or measured event (crossing,
    close_approach, near_collision, intercept, mock_engagement, hard_turn,
    speed_brake, weave, dive, climb, orbit) with event_type, track_id,
    other_track_id, start_time, end_time (ISO 8601 UTC), intent (crossings).
    """
    sim = run_simulation(scenario, hours, seed, aircraft, quiet, agreement, start)
    write_tracks(sim.tracks, tracks)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    from skyfence.analysis.outputs import ISO

    sim.truth.write_csv(truth_path, datetime_format=ISO)
    print_simulation(sim)
    out.print(f"Tracks: {tracks}\nTruth: {truth_path}")


def _start_time(text: str) -> str:
    """``--start`` as the ISO 8601 UTC time a scenario takes (one line if it is not a time)."""
    from datetime import datetime, timezone

    from skyfence.analysis.inputs import parse_time

    return datetime.fromtimestamp(parse_time(text, "--start"), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_simulation(sim: Simulation) -> None:
    import polars as pl

    parties = sim.tracks.group_by("party").agg(pl.col("track_id").n_unique()).sort("party").rows()
    out.print(f"{sim.tracks.height:,} state vectors from {sim.tracks['track_id'].n_unique():,} aircraft ("
              + ", ".join(f"{p} {n}" for p, n in parties) + ")")
    if sim.truth.height:
        t = Table(title="Ground truth")
        t.add_column("event")
        t.add_column("count", justify="right")
        for kind, n in sim.truth.group_by("event_type").len().sort("event_type").rows():
            t.add_row(kind, str(n))
        out.print(t)
