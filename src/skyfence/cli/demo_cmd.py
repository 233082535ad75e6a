"""``skyfence demo``: simulate the built-in scenario, analyse it, evaluate it, summarise."""

from __future__ import annotations

from pathlib import Path

import typer
from skyfence.cli.analyze_cmd import print_summary
from skyfence.cli.app import app
from skyfence.cli.evaluate_cmd import print_evaluation
from skyfence.cli.simulate_cmd import print_simulation, write_tracks
from skyfence.progress import out_console, steps

out = out_console()


@app.command("demo")
def demo(out_dir: Path = typer.Option(Path("out/demo"), "--out", "-o", help="Folder for the demo's files."),
         hours: float = typer.Option(24.0, "--hours", help="Hours of the built-in scenario to simulate."),
         seed: int = typer.Option(2017, "--seed", help="Random seed."),
         monitor: bool = typer.Option(True, "--monitor/--no-monitor", help="Then replay the day through the live "
                                      "monitor into a SQLite incident store."),
         monitor_tick: float = typer.Option(120.0, "--monitor-tick", help="The replay's tick (seconds of data time "
                                            "between detection runs): smaller tells events sooner and takes longer."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
         serve: bool = typer.Option(True, "--serve/--no-serve", help="End by serving the day on the web page."),
         port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port of the web page.")) -> None:
    """The main job end to end on the built-in Euphrates 2017 scenario.

    Simulates a day of coalition and Russian/Syrian traffic with crossings,
    intercepts and manoeuvres injected, analyses it against the agreement,
    scores the analysis against the simulation's ground truth, and prints the
    summary and where the files are. Then the same day is replayed as fast as
    it can go through the live monitor into a SQLite incident store
    (incidents.db), with the live table of open incidents, and the incidents
    are listed. Then a hotline exchange: two crossings told to both parties
    over signed webhooks, one acknowledged with the link in its message, the
    other re-sent and escalated. Last, the day is served on the web page
    (replay, incidents) with a viewer's and an officer's token printed.
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
    if monitor:
        replay_through_monitor(tracks, out_dir / "incidents.db", monitor_tick, quiet)
    demo_hotline(out_dir)
    if serve:
        _serve_day(out_dir, port)


def replay_through_monitor(tracks: Path, db: Path, tick: float, quiet: bool) -> None:
    """The simulated day through ``skyfence monitor --speed 0`` into a fresh SQLite store, then ``incidents list``."""
    from skyfence.agreement import load_agreement
    from skyfence.cli.incidents_cmd import incident_table
    from skyfence.incidents.store import IncidentStore
    from skyfence.cli.monitor_cmd import _hotline_line, _start_hotline
    from skyfence.live.console import run_watched
    from skyfence.live.monitor import Monitor
    from skyfence.live.sources import open_source
    from skyfence.progress import stderr

    for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        old.unlink(missing_ok=True)
    ag = load_agreement("euphrates-2017")
    out.print(f"\n[bold]Live monitor[/]: replaying {tracks} as fast as it can (a detection run every {tick:g} s of "
              f"data) into {db}")
    with IncidentStore.open(db, quiet_period=ag.thresholds.incidents.quiet_period) as store:
        m = Monitor([open_source(str(tracks))], ag, store, tick=tick, speed=0)
        # the hotline on the data's clock, its messages into a file: the page shows whom it told of what
        hotline, _ = _start_hotline(m, store, ag, (f"log:{db.parent / 'hotline-day.jsonl'}",), None, 0, lambda _: None)
        try:
            report = run_watched(m, quiet, stderr)
        finally:
            hotline.stop(drain=10)
        incidents = store.incidents()
        serious = store.incidents(severity="crossing")
    out.print(f"{report.updates:,} updates of {len(report.incidents):,} events -> {len(incidents):,} incidents in {db} "
              f"({report.detections:,} detection runs, {report.seconds:.0f} s)")
    out.print(incident_table(serious, f"skyfence incidents list --store {db} --severity crossing"))
    out.print(f"All {len(incidents):,}: skyfence incidents list --store {db}")
    _hotline_line(hotline)


def demo_hotline(out_dir: Path) -> None:
    """The hotline part: a scripted exchange with both parties over signed webhooks (one acknowledges with
    the link in its message, the other is re-sent and escalated), then the audit trail."""
    from rich.table import Table

    from skyfence.hotline.demo import run_hotline_demo

    ex = run_hotline_demo(out_dir)
    t = Table(title="The hotline: two crossings of the Euphrates, told to both parties (simulated clock, UTC)",
              expand=True)
    for col in ("time", "party / contact", "what"):
        t.add_column(col, overflow="fold")
    for row in ex.lines:
        t.add_row(*row)
    out.print(t)
    for incident, steps in ex.audit.items():
        out.print(f"audit trail of {incident}: " + "; ".join(f"{when} {who}: {what}" for when, who, what in steps),
                  highlight=False)
    out.print(f"Hotline store (outbox, audit): {ex.store}  (try: skyfence hotline outbox --status all "
              f"--store {ex.store})")


def _serve_day(out_dir: Path, port: int) -> None:
    """The web page over the simulated day (skyfence.web.demo)."""
    from skyfence.web.demo import serve_demo

    serve_demo(out_dir, port, console=out)
