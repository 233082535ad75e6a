"""``analyze --cluster``: the command-line side (options checked, the run, what is printed)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from skyfence.agreement.model import Agreement
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.errors import SkyfenceError
from skyfence.progress import steps

err = Console(stderr=True)


def parse_halo(text: str | None, agreement: Agreement | None = None) -> float | None:
    """``--halo`` as seconds (None: the default for the agreement); shorter than the agreement's detectors need
    for the same results as one machine (twice the longest stretch any of them looks across) is refused."""
    if text is None:
        return None
    from skyfence.units import parse_duration

    try:
        value = parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise SkyfenceError(f"--halo {text!r}: {exc}") from None
    if value <= 0:
        raise SkyfenceError("--halo must be a positive duration")
    if agreement is not None:
        from skyfence.cluster.archive import context_seconds

        need = 2.0 * context_seconds(agreement)
        if value < need:
            raise SkyfenceError(f"--halo {text!r} is shorter than the {need / 60:g} min this agreement's detectors "
                                "need to give the same results as one machine (twice the longest stretch any of "
                                "them looks across)")
    return value


def run_cluster(cluster: str, files: list[Path], agreement: Agreement, out_dir: Path, settings: EncounterSettings,
                hours_per_task: int | None, halo: str | None, reference, quiet: bool, select=None):
    """Analyse on the cluster, print how it went; the :class:`~skyfence.analysis.run.Analysis` and the run."""
    from skyfence.cluster.run import analyze_on_cluster, connect, parse_cluster

    parse_cluster(cluster)
    halo_s = parse_halo(halo, agreement)
    if hours_per_task is not None and hours_per_task < 1:
        raise SkyfenceError("--hours-per-task must be at least 1")
    with connect(cluster) as client, steps(not quiet) as progress:
        result, run = analyze_on_cluster(files, agreement, client, out_dir, progress, settings, hours_per_task,
                                         halo_s, reference, **({"select": select} if select is not None else {}))
    return result, run


def print_run(run, out) -> None:
    """One line on how the cluster run went, and what is missing if anything failed."""
    peak = max(run.peak_rss_mb.values(), default=0.0)
    out.print(f"Cluster: {run.workers} worker(s), {run.files:,} files, {run.tasks:,} tasks of {run.hours_per_task} h"
              + (f" ({run.extended} read further to settle long events)" if run.extended else "")
              + f"; {run.states:,} states analysed with halos; peak memory per worker {peak:,.0f} MB; "
              f"{run.seconds:.1f} s")
    for f in run.failed_files:
        err.print(f"[bold red]missing:[/] {f['file']}: {f['error']}", highlight=False, soft_wrap=True)
    for p in run.failed_periods:
        err.print(f"[bold red]missing:[/] hours {p['period']} ({len(p['files'])} files): {p['error']}",
                  highlight=False, soft_wrap=True)


def analyze_for_report(archives: list[Path], cluster: str, agreement: str, report: Path, quiet: bool) -> Path:
    """``report --cluster``: the archives analysed on the cluster into ``REPORT-results/`` beside the report;
    that folder."""
    from skyfence.agreement import load_agreement
    from skyfence.cluster.archive import archive_files

    folder = report.with_name(report.stem + "-results")
    _, run = run_cluster(cluster, archive_files(archives), load_agreement(agreement), folder, EncounterSettings(),
                         None, None, None, quiet)
    print_run(run, err)
    return folder
