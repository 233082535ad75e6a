"""``skyfence demo``: simulate the built-in scenario, analyse it, evaluate it, summarise."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from skyfence.cli.analyze_cmd import print_summary
from skyfence.cli.app import app
from skyfence.cli.evaluate_cmd import print_evaluation
from skyfence.cli.simulate_cmd import print_simulation, write_tracks
from skyfence.progress import steps

out = Console()


@app.command("demo")
def demo(out_dir: Path = typer.Option(Path("out/demo"), "--out", "-o", help="Folder for the demo's files."),
         hours: float = typer.Option(24.0, "--hours", help="Hours of the built-in scenario to simulate."),
         seed: int = typer.Option(2017, "--seed", help="Random seed."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
         serve: bool = typer.Option(True, "--serve/--no-serve", help="End by serving the day on the web page."),
         port: int = typer.Option(8080, "--port", help="Port of the web page.")) -> None:
    """The main job end to end on the built-in Euphrates 2017 scenario.

    Simulates a day of coalition and Russian/Syrian traffic with crossings,
    intercepts and manoeuvres injected, analyses it against the agreement,
    scores the analysis against the simulation's ground truth, and prints the
    summary and where the files are; then serves the day on the web page
    (replay, incidents) and prints a viewer's and an officer's token.
    """
    from skyfence.agreement import load_agreement
    from skyfence.analysis.outputs import ISO, write_json
    from skyfence.analysis.run import analyze
    from skyfence.evaluate.run import evaluate
    from skyfence.sim.run import simulate
    from skyfence.sim.scenario import load_scenario

    out_dir.mkdir(parents=True, exist_ok=True)
    scenario, base = load_scenario("euphrates-2017")
    with steps(not quiet) as progress:
        sim = simulate(scenario, base, hours, seed, progress)
        tracks, truth = out_dir / "tracks.parquet", out_dir / "truth.csv"
        write_tracks(sim.tracks, tracks)
        sim.truth.write_csv(truth, datetime_format=ISO)
        result = analyze([tracks], load_agreement("euphrates-2017"), out_dir, progress)
    print_simulation(sim)
    print_summary(result.summary, result.crossings)
    doc = evaluate(sim.truth, out_dir)
    write_json(doc, out_dir / "evaluation.json")
    print_evaluation(doc)
    out.print(f"\nSimulated tracks: {tracks}\nGround truth: {truth}\nResults in {out_dir}/: "
              + ", ".join(p.name for p in result.files) + ", evaluation.json")
    if serve:
        _serve_day(out_dir, port)


def _serve_day(out_dir: Path, port: int) -> None:
    """The web page over the simulated day (skyfence.web.demo)."""
    from skyfence.web.demo import serve_demo

    serve_demo(out_dir, port, console=out)
