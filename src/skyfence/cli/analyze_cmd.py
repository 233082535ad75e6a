"""``skyfence analyze``: recorded tracks against an agreement."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.cli.app import app
from skyfence.progress import steps

out = Console()


@app.command("analyze")
def analyze_cmd(
    tracks: list[Path] = typer.Argument(..., help="Track files: CSV or Parquet state vectors (OpenSky, traffic, "
                                                  "or skyfence's own schema)."),
    agreement: str = typer.Option("euphrates-2017", "--agreement", "-a",
                                  help="Built-in agreement name or agreement YAML file."),
    out_dir: Path = typer.Option(Path("out"), "--out", "-o", help="Folder for the results."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Find crossings of the line and zones in recorded tracks.

    Writes crossings.csv / crossings.parquet (one row per crossing: who, where,
    entry and exit time and point, duration, depth, warning lead time) and
    summary.json (counts per party per UTC day, records read and dropped with the
    reasons), and prints a summary.
    """
    ag = load_agreement(agreement)
    with steps(not quiet) as progress:
        result = analyze(tracks, ag, out_dir, progress)
    print_summary(result.summary, result.crossings)
    out.print(f"Results in {out_dir}/: " + ", ".join(p.name for p in result.files))


def print_summary(doc: dict, crossings) -> None:
    """The summary table a user reads after an analysis."""
    inp, trk, cr = doc["input"], doc["tracks"], doc["crossings"]
    out.print(f"Read {inp['records_read']:,} records from {len(inp['files'])} file(s); dropped "
              f"{inp['records_dropped']:,}" + (f" ({_reasons(inp['dropped_by_reason'])})" if inp['records_dropped'] else "")
              + (f"; values removed: {_reasons(inp['values_removed_by_reason'])}" if inp['values_removed_by_reason'] else ""))
    parties = ", ".join(f"{k} {v['aircraft']}" for k, v in trk["by_party"].items())
    out.print(f"{trk['states']:,} states, {trk['aircraft']:,} aircraft ({parties}), {trk['flights']:,} flights")
    table = Table(title=f"Crossings: {cr['total']}")
    table.add_column("date (UTC)")
    table.add_column("party")
    table.add_column("crossings", justify="right")
    for row in cr["per_day"]:
        table.add_row(row["date"], row["party"], str(row["count"]))
    if cr["per_day"]:
        out.print(table)
    w = cr["warning"]
    if cr["total"]:
        lead = w["lead_time_s"]
        lead_text = f"median lead {lead['median']:.0f} s" if lead["median"] is not None else "no lead"
        out.print(f"Warned before {w['with_warning']} of {cr['total']} crossings ({lead_text}); "
                  f"{cr['open_at_end_of_data']} still open at end of data; {cr['with_data_gap']} with data gaps")
    else:
        out.print("No crossings.")


def _reasons(d: dict) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in d.items())
