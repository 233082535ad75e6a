"""``skyfence report``: the brief of a results folder, as self-contained HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import out_console, steps

out = out_console()


@app.command("report")
def report_cmd(
    results: list[Path] = typer.Argument(..., help="A results folder written by skyfence analyze, or several "
                                         "(say one a day) reported as one."),
    out_file: Path = typer.Option(..., "--out", "-o", help="report.html (one self-contained file) or report.pdf."),
    start: str = typer.Option(None, "--from", help="First day (2017-11-01) or time (2017-11-01T06:00Z) to report."),
    end: str = typer.Option(None, "--to", help="Last day to report (that whole day), or a time (excluded)."),
    claims: Path = typer.Option(None, "--claims", help="Claims to check, as YAML (default: the public 2017 "
                                "figures on the Euphrates line; see skyfence/report/claims/ for the fields)."),
    store: str = typer.Option(None, "--store", help="Incident store (a SQLite file, sqlite:///PATH or "
                              "postgresql://...): adds an incidents section (counts by kind, severity and status, "
                              "acknowledgement times, the list), incidents that began in --from/--to."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    cluster: str = typer.Option(None, "--cluster", help="Report on track archives instead of results folders: "
                                "analyse them first on a Dask cluster (local, local:N or tcp://HOST:8786), into "
                                "a results folder beside the report (see analyze --cluster)."),
    agreement: str = typer.Option("euphrates-2017", "--agreement", "-a",
                                  help="With --cluster: built-in agreement name or agreement YAML file."),
) -> None:
    """Write the brief of a results folder: a one-page summary, then crossings (per day per party with
    the mean and trend, share of flights that crossed, a map of entry points and tracks beyond the
    line coloured by intent, depth, duration, time of day), encounters (closest approaches, levels per
    day, a map), manoeuvres and interactions, crossing-warning lead times, and the public claims beside
    what the data shows, each with how it was computed.

    Maps are drawn offline from the Natural Earth layers in the package. The HTML file holds its
    figures as inline SVG; the PDF is the same document typeset by WeasyPrint.
    """
    from skyfence.report.build import build_report
    from skyfence.report.results import parse_period

    period = parse_period(start, end)
    if cluster is not None:
        from skyfence.cluster.cli import analyze_for_report

        results = [analyze_for_report(results, cluster, agreement, out_file, quiet)]
    with steps(not quiet) as progress:
        report = build_report(results, out_file, period, claims, progress, store)
    fig = report.figures
    pages = f", {report.pages} pages" if report.pages else ""
    inc = f", {_n(report.incidents.total, 'incident')}" if report.incidents is not None else ""
    out.print(f"Report of {_n(len(fig.days), 'day')}: {_n(fig.crossings['total'], 'crossing')}, "
              f"{_n(fig.encounters['total'], 'encounter')}, {_n(fig.behaviour['interactions']['total'], 'interaction')}"
              f"{inc} -> {report.path}{pages}")
    for note in report.results.notes:
        out.print(f"[yellow]note:[/] {note}")


def _n(count: int, noun: str) -> str:
    """``1 crossing``, ``2 crossings``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
