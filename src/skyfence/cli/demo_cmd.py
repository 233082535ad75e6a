"""``skyfence demo``: the main job on built-in data, to see what skyfence does."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from skyfence import synthetic
from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.cli.analyze_cmd import print_summary
from skyfence.cli.app import app
from skyfence.progress import steps

out = Console()


@app.command("demo")
def demo(out_dir: Path = typer.Option(Path("out/demo"), "--out", "-o", help="Folder for the demo's files."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display.")) -> None:
    """Analyse a small built-in set of tracks against the Euphrates 2017 agreement."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tracks = out_dir / "tracks.parquet"
    demo_tracks().write_parquet(tracks)
    ag = load_agreement("euphrates-2017")
    with steps(not quiet) as progress:
        result = analyze([tracks], ag, out_dir, progress)
    print_summary(result.summary, result.crossings)
    out.print(f"Tracks: {tracks}\nResults in {out_dir}/: " + ", ".join(p.name for p in result.files))


def demo_tracks() -> pl.DataFrame:
    """A few straight flights over Deir ez-Zor, some crossing the Euphrates."""
    t0 = synthetic.EPOCH_2017
    flights = [
        synthetic.straight_track(39.90, 35.00, 45, 220, 600, 4, t0, "778a01", "SYR101"),       # deep, across
        synthetic.straight_track(40.60, 34.80, 300, 200, 500, 4, t0 + 3600, "150a02", "RFF2041"),  # west side only
        synthetic.straight_track(40.30, 35.60, 225, 230, 700, 4, t0 + 7200, "ae1c01", "RCH331"),   # coalition, across
        synthetic.straight_track(40.50, 35.90, 135, 210, 900, 4, t0 + 9000, "ae1c02", "HOMER21"),  # stays east
    ]
    return pl.concat(flights)
