"""The driver of ``analyze --cluster``: connect, two passes of futures with progress, failures, results.

``local`` or ``local:N`` starts a LocalCluster of N worker processes (one thread each; default: one per
core); ``tcp://HOST:8786`` connects to a running scheduler, whose workers must run the same skyfence
(checked: a fingerprint of the package's files) and see the archive at the same paths.

A file that cannot be read fails in the first pass and is left out of the second, so the results are
those of one machine on the other files; a task of the second pass that fails leaves its hours out.
Either way the rest finishes and ``summary.json`` says what is missing, under ``missing``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import polars as pl

import skyfence
from skyfence.agreement.model import Agreement
from skyfence.analysis.inputs import Selection
from skyfence.analysis.run import Analysis, write_results
from skyfence.analysis.summary import behaviour_figures, encounter_figures, summary, traffic_figures
from skyfence.cluster import stitch
from skyfence.cluster.archive import Period, default_halo, plan_periods, task_hours
from skyfence.cluster.scan import FileScan, merged_report, scan_file
from skyfence.cluster.window import WindowResult, WindowSpec, analyze_window
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.errors import SkyfenceError
from skyfence.progress import Steps

WORKER_ENV = {"POLARS_MAX_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
"""One thread per worker process: a LocalCluster has one worker per core. Polars and numba read these once, when
they are imported, and a worker process imports them before Dask's per-worker ``env`` is applied (unpickling
its start-up function imports the driver's modules), so they are given as ``distributed.nanny.pre-spawn-environ``:
set in the environment the worker process is started with."""


@dataclass
class ClusterRun:
    """How a cluster analysis went: tasks, the slowest, memory, extensions, failures."""

    workers: int
    files: int
    tasks: int
    seconds: float
    states: int  # states analysed by the tasks, halos included
    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # worker -> peak resident memory
    extended: int = 0  # tasks that read further to settle a long event
    hours_per_task: int = 0
    task_seconds: float = 0.0  # the tasks' own time (second pass), added up
    task_cpu_seconds: float = 0.0  # and their processor time
    scan_cpu_seconds: float = 0.0  # the first pass's processor time
    failed_files: list[dict] = field(default_factory=list)
    failed_periods: list[dict] = field(default_factory=list)


def fingerprint() -> str:
    """A hash of skyfence's own files: workers must have the same."""
    root = Path(skyfence.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".csv", ".geojson", ".json") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def parse_cluster(spec: str) -> tuple[str, int | None]:
    """``local``, ``local:N`` or a scheduler address (``tcp://HOST:PORT``, ``HOST:PORT``)."""
    if spec == "local" or spec.startswith("local:"):
        _, _, n = spec.partition(":")
        if n and (not n.isdigit() or int(n) < 1):
            raise SkyfenceError(f"--cluster {spec!r}: expected local:N with N workers (a positive number)")
        return "local", int(n) if n else None
    if "://" not in spec and ":" not in spec:
        raise SkyfenceError(f"--cluster {spec!r}: expected local, local:N or a scheduler address tcp://HOST:8786")
    return spec, None


@contextmanager
def connect(spec: str, timeout: float = 20.0) -> Iterator:
    """A Dask client for ``spec``, closed (with its LocalCluster) afterwards."""
    import dask
    from distributed import Client, LocalCluster

    where, n = parse_cluster(spec)
    saved = {k: os.environ.get(k) for k in WORKER_ENV}  # the nannies, in this process, set them here to spawn
    pre_spawn = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV}
    with dask.config.set({"distributed.worker.daemon": False, "distributed.admin.system-monitor.gil.enabled": False,
                          "distributed.nanny.pre-spawn-environ": pre_spawn}):
        if where == "local":
            n = n or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   memory_limit=0)
            client = Client(cluster)
        else:
            cluster = None
            try:
                client = Client(where, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise SkyfenceError(f"--cluster {spec}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_workers(client, mine: str | None = None) -> int:
    """The number of workers, after checking that they run the same skyfence (``mine``: this one's
    :func:`fingerprint`)."""
    mine = mine or fingerprint()
    theirs = client.run(fingerprint)
    if not theirs:
        raise SkyfenceError("the cluster has no workers")
    odd = sorted(w for w, f in theirs.items() if f != mine)
    if odd:
        raise SkyfenceError(f"{len(odd)} worker(s) run a different skyfence ({', '.join(odd[:3])}): install the "
                            f"same version on every worker (skyfence fingerprint {mine})")
    return len(theirs)


def _each(client, futures: dict, progress: Steps, on_done: Callable, on_error: Callable) -> None:
    """Wait on futures as they finish, with progress; results are taken and released one by one."""
    from distributed import as_completed

    for fut in as_completed(list(futures)):
        key = futures.pop(fut)
        try:
            on_done(key, fut.result())
        except Exception as exc:  # a task that failed: its input is reported, the rest goes on
            on_error(key, exc)
        fut.release()
        progress.advance()


def analyze_on_cluster(paths: Sequence[Path], agreement: Agreement, client, out: Path | None = None,
                       progress: Steps | None = None, encounters: EncounterSettings = EncounterSettings(),
                       hours_per_task: int | None = None, halo: float | None = None,
                       reference: tuple[float, float] | None = None, select: Selection = Selection()
                       ) -> tuple[Analysis, ClusterRun]:
    """The batch pipeline over an archive's files (the part ``select`` asks for), on a Dask cluster: the results
    of one machine. The :class:`Analysis`'s ``tracks`` are the states round the events (the whole track table
    is never in one place). ``hours_per_task`` None: chosen from the archive (:func:`task_hours`)."""
    progress = progress or Steps(None)
    paths = [p for p in paths if select.wants_file(Path(p))]
    if not paths:
        raise SkyfenceError("no file holds data in the time window asked for (--from/--to)")
    t0 = time.perf_counter()
    workers = check_workers(client)
    halo = default_halo(agreement) if halo is None else halo
    run = ClusterRun(workers, len(paths), 0, 0.0, 0)

    scans: dict[int, FileScan] = {}
    with progress.step(f"scanning {len(paths):,} files on {workers} workers", total=len(paths)):
        futures = {client.submit(scan_file, str(p), reference, select, key=f"scan-{k}-{p.name}", pure=False): k
                   for k, p in enumerate(paths)}
        _each(client, futures, progress, lambda k, s: scans.__setitem__(k, s),
              lambda k, exc: run.failed_files.append({"file": str(paths[k]), "error": _one_line(exc)}))
    ordered = [scans[k] for k in sorted(scans)]
    run.scan_cpu_seconds = sum(s.cpu_seconds for s in ordered)
    spans = [(s.first, s.last) for s in ordered if s.first is not None]
    files = tuple((s.path, s.first, s.last) for s in ordered if s.first is not None)
    if hours_per_task is None:
        hours_per_task = task_hours(spans, sum(s.rows for s in ordered), workers, halo)
    periods = plan_periods(spans, hours_per_task)
    run.tasks, run.hours_per_task = len(periods), hours_per_task

    ag = client.scatter(agreement, broadcast=True)
    results: list[WindowResult] = []
    with progress.step(f"analysing {len(periods):,} periods of {hours_per_task} h (halo {halo / 60:g} min)",
                       total=len(periods)):
        futures = {}
        for p in periods:
            spec = WindowSpec(p.start, p.end, halo, max(halo / 2, 600.0), _files_for(files, p, halo), reference,
                              select)
            futures[client.submit(analyze_window, spec, ag, encounters, key=f"period-{p.label()}", pure=False)] = p

        def failed(p: Period, exc: Exception) -> None:
            run.failed_periods.append({"period": p.label(), "error": _one_line(exc),
                                       "files": [f for f, first, last in files
                                                 if last >= p.start - halo and first < p.end + halo]})

        _each(client, futures, progress, lambda p, r: results.append(r), failed)
    for r in results:
        run.states += r.states
        run.extended += r.runs > 1
        run.task_seconds += r.seconds
        run.task_cpu_seconds += r.cpu_seconds
        run.peak_rss_mb[r.worker] = max(run.peak_rss_mb.get(r.worker, 0.0), r.peak_rss_mb)

    with progress.step("joining the parts"):
        result, around = stitch_results(agreement, ordered, results, encounters, run)
    run.seconds = time.perf_counter() - t0
    if out is not None:
        with progress.step("writing results"):
            write_results(result, out, agreement, around)
    result.tracks = around
    return result, run


def _files_for(files: tuple, p: Period, halo: float) -> tuple:
    """The files a period's task may read: those with states from its halo's start on."""
    return tuple(f for f in files if f[2] >= p.start - halo)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def stitch_results(agreement: Agreement, scans: list[FileScan], results: list[WindowResult],
                   settings: EncounterSettings, run: ClusterRun) -> tuple[Analysis, pl.DataFrame]:
    """The tasks' parts as one :class:`Analysis`, with ``missing`` in the summary if anything failed; and the
    states round the events."""
    tables, brief = stitch.combine_tables(results)
    around = tables.pop("event_tracks")
    if around is None:
        from skyfence.analysis.event_tracks import event_tracks
        from skyfence.tracks.schema import empty_tracks

        around = event_tracks(empty_tracks().with_columns(pl.lit(None, pl.UInt32).alias("flight_id")),
                              tables["crossings"], tables["encounters"], tables["interactions"])
    report = stitch.combine_reports(merged_report(scans), results)
    tracks = traffic_figures(brief if brief is not None else pl.DataFrame())
    warnings = stitch.combine_warnings(results, [a.id for a in agreement.areas])
    doc = summary(agreement, report, tracks, tables["crossings"], warnings,
                  {"encounters": encounter_figures(tables["encounters"], settings),
                   **behaviour_figures(tables["crossings"], tables["manoeuvres"], tables["interactions"])})
    if run.failed_files or run.failed_periods:
        doc["missing"] = {"files": run.failed_files, "periods": sorted(run.failed_periods, key=lambda d: d["period"])}
    return Analysis(pl.DataFrame(), report, tables["crossings"], tables["encounters"], tables["manoeuvres"],
                    tables["interactions"], doc), around
