"""``python -m skyfence.bench cluster``: a week of dense traffic as hourly files, analysed on a LocalCluster
with 1 and 2 workers, and by one process on the part of it one process holds.

The archive is the simulator's load mode (``simulate --aircraft``: aircraft flying their type's
dynamics for the whole week, seen by the scenario's ADS-B-like sensor), written one Parquet file an
hour and kept in the work folder between runs. The load's aircraft carry civil identities and every
pair is checked (``--pairs all``): the load mode's military aircraft wander across the line for days,
and a crossing days long makes its task read the other parties' aircraft for days (see README), which
is not what a week of real traffic looks like. Figures: states per second, the scaling from 1 to 2
workers, the peak memory of each worker, and the cost of the halos against one process on the same
hours.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

STATES_PER_AIRCRAFT_HOUR = 930.0  # the scenario's sensor: a report every 2-6 s, a few lost


def _pairs():
    from skyfence.detect.encounter_table import EncounterSettings

    return EncounterSettings(pairs="all")


def archive_path(workdir: Path, states: int, seed: int) -> Path:
    return workdir / f"cluster-civil-archive-{states}-{seed}"


def generate_archive(folder: Path, states: int, seed: int, hours: float = 168.0, batch: int = 16) -> dict:
    """``states`` (about) simulated states over ``hours``, one file an hour (kept: done when ``.done.json``
    exists)."""
    import numpy as np
    import polars as pl

    from skyfence.sim.load import synthetic_load
    from skyfence.sim.run import scenario_agreement
    from skyfence.sim.scenario import load_scenario
    from skyfence.sim.sensor import Sensor, observe

    done = folder / ".done.json"  # hidden: not a track file of the archive
    if done.exists():
        return json.loads(done.read_text())
    aircraft = max(1, math.ceil(states / (STATES_PER_AIRCRAFT_HOUR * hours)))
    scenario, base = load_scenario("euphrates-2017")
    agreement = scenario_agreement(scenario, base)
    scenario = scenario.model_copy(update={"parties": {}})  # civil traffic only (see the module's docstring)
    sensor = Sensor.from_spec(scenario.surveillance)
    rng = np.random.default_rng(seed + 1)
    parts = folder / "_parts"
    parts.mkdir(parents=True, exist_ok=True)
    t0, pending, k, total = time.perf_counter(), [], 0, 0

    def flush() -> None:
        nonlocal pending, k, total
        df = observe(pending, sensor, agreement.projection, rng, {s.id: s.party or "unknown" for s in pending})
        total += df.height
        df = df.with_columns(pl.col("time").dt.strftime("%Y%m%dT%H").alias("_h"))
        for (hour,), part in df.group_by("_h"):
            (parts / hour).mkdir(exist_ok=True)
            part.drop("_h").write_parquet(parts / hour / f"{k:04d}.parquet")
        pending, k = [], k + 1

    for sortie in synthetic_load(scenario, agreement, aircraft, hours, seed):
        pending.append(sortie)
        if len(pending) == batch:
            flush()
    if pending:
        flush()
    for hour_dir in sorted(parts.iterdir()):
        pl.read_parquet(sorted(hour_dir.glob("*.parquet"))).sort(["time", "track_id"]).write_parquet(
            folder / f"tracks-{hour_dir.name}.parquet")
        for f in hour_dir.iterdir():
            f.unlink()
        hour_dir.rmdir()
    parts.rmdir()
    info = {"states": total, "aircraft": aircraft, "hours": hours, "files": len(list(folder.glob("tracks-*.parquet"))),
            "seconds_to_generate": round(time.perf_counter() - t0, 1)}
    done.write_text(json.dumps(info))
    return info


def bench_on_cluster(folder: Path, workers: int, hours_per_task: int | None, hours: int | None = None) -> dict:
    """The archive (its first ``hours`` files, or all) analysed on a LocalCluster of ``workers`` processes (one
    thread each); ``hours_per_task`` None: chosen from the archive, as ``analyze --cluster`` does."""
    from skyfence.agreement import load_agreement
    from skyfence.cluster.archive import archive_files
    from skyfence.cluster.run import analyze_on_cluster, connect

    ag = load_agreement("euphrates-2017")
    files = archive_files([folder])[:hours]
    with connect(f"local:{workers}") as client:
        _warm(client, files, ag)
        t0 = time.perf_counter()
        result, run = analyze_on_cluster(files, ag, client, encounters=_pairs(), hours_per_task=hours_per_task)
        seconds = time.perf_counter() - t0
    states = result.summary["input"]["records_read"]
    return {"bench": "cluster", "workers": workers, "hours_per_task": run.hours_per_task, "files": len(files),
            "states": states, "tasks": run.tasks, "tasks_read_further": run.extended,
            "states_analysed_with_halos": run.states, "seconds": round(seconds, 1),
            "task_seconds": round(run.task_seconds, 1), "task_cpu_seconds": round(run.task_cpu_seconds, 1),
            "scan_cpu_seconds": round(run.scan_cpu_seconds, 1),
            "states_per_second": round(states / seconds), "peak_memory_per_worker_mb":
            round(max(run.peak_rss_mb.values(), default=0.0)), "crossings": result.crossings.height,
            "encounters": result.encounters.height, "manoeuvres": result.manoeuvres.height,
            "failed": len(run.failed_files) + len(run.failed_periods)}


def _warm(client, files, ag) -> None:
    """Compile the kernels in every worker on a little data, so that compile time is not counted."""
    from skyfence.analysis.run import analyze

    client.run(lambda: analyze(files[:1], ag, encounters=_pairs()))


def bench_single(folder: Path, hours: int) -> dict:
    """One process, the whole pipeline on the first ``hours`` files (as ``analyze`` runs), and the same hours
    on a LocalCluster with one worker: the cost of the halos and the cluster."""
    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.cluster.archive import archive_files
    from skyfence.cluster.run import analyze_on_cluster, connect

    ag = load_agreement("euphrates-2017")
    files = archive_files([folder])[:hours]
    analyze(files[:1], ag, encounters=_pairs())
    t0, c0 = time.perf_counter(), time.process_time()
    single = analyze(files, ag, encounters=_pairs())
    t_single, c_single = time.perf_counter() - t0, time.process_time() - c0
    from skyfence.bench import peak_rss_mb

    peak = peak_rss_mb()
    with connect("local:1") as client:
        _warm(client, files, ag)
        t0 = time.perf_counter()
        _, run = analyze_on_cluster(files, ag, client, encounters=_pairs())
        t_cluster = time.perf_counter() - t0
    states = single.summary["input"]["records_read"]
    return {"bench": "cluster-vs-one-process", "hours": len(files), "states": states,
            "seconds_one_process": round(t_single, 1), "cpu_seconds_one_process": round(c_single, 1),
            "peak_memory_one_process_mb": round(peak),
            "states_per_second_one_process": round(states / t_single),
            "seconds_cluster_1_worker": round(t_cluster, 1), "hours_per_task": run.hours_per_task,
            "cpu_seconds_cluster_1_worker": round(run.scan_cpu_seconds + run.task_cpu_seconds, 1),
            "overhead": round(t_cluster / t_single, 2),
            "overhead_cpu": round((run.scan_cpu_seconds + run.task_cpu_seconds) / c_single, 2)}
