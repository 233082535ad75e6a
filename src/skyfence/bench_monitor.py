"""Monitor benchmarks.

- ``monitor-day``: the simulated 24 h day replayed through the monitor at ``--speed 0`` against ``analyze``
  on the same file (time and ratio), with the check that both give the same events.
- ``monitor-load``: N aircraft each reporting once a second (the simulator's load mode) served as an SBS
  feed by a replay server in another process, paced by the recording's clock (real time); the monitor
  follows it for a while: time from a message's arrival to the end of the detection run that took it (and to
  each update it caused), how far detection trails the feed, how regularly the air picture ticks, CPU and
  memory every 10 s.
- ``monitor-window``: one detection run as the monitor makes it every tick, over a full window of N aircraft
  reporting once a second, stage by stage: what re-detecting the window costs.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skyfence.bench_ingest import free_port
from skyfence.progress import Steps


def _day(workdir: Path, seed: int) -> Path:
    path = workdir / f"monitor-day-{seed}.parquet"
    if not path.exists():
        from skyfence.sim.run import simulate
        from skyfence.sim.scenario import load_scenario

        scenario, base = load_scenario("euphrates-2017")
        simulate(scenario, base, 24.0, seed, None).tracks.write_parquet(path)
    return path


def bench_monitor_day(workdir: Path, seed: int, tick: float) -> dict:
    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.live.monitor import Monitor
    from skyfence.live.replay_check import analysis_events, differences, final_events
    from skyfence.live.sources import open_source

    path = _day(workdir, seed)
    ag = load_agreement("euphrates-2017")
    analyze([path], ag)  # warm: kernels compiled, files cached
    t0 = time.perf_counter()
    a = analyze([path], ag)
    t_analyze = time.perf_counter() - t0
    ups: list = []
    t0 = time.perf_counter()
    m = Monitor([open_source(str(path))], ag, tick=tick, speed=0)
    m.subscribe(ups.extend)
    report = m.run()
    t_monitor = time.perf_counter() - t0
    diff = differences(final_events(ups), analysis_events(a.crossings, a.encounters, a.manoeuvres, a.interactions))
    doc = report.as_dict()
    return {"bench": "monitor-day", "tick_s": tick, "states": a.tracks.height, "analyze_s": round(t_analyze, 2),
            "monitor_s": round(t_monitor, 2), "ratio": round(t_monitor / t_analyze, 1),
            "detections": doc["detections"], "detect_s_p50": doc["detect_s_p50"], "detect_s_p99": doc["detect_s_p99"],
            "window_states_max": max(report.window_states or [0]), "updates": doc["updates"],
            "events": doc["events"], "differences_from_analyze": len(diff), "differences_sample": diff[:5], "peak_rss_mb": _peak_rss_mb(),
            "load_average": os.getloadavg()}


def _serve_load(path: str, port: int, ready, speed: float) -> None:
    import polars as pl

    from skyfence.live.replay import ReplayServer, record_times, records_from_states

    states = pl.read_parquet(path).sort("time")
    records = records_from_states(states, "sbs")
    del states
    server = ReplayServer(records, port=port, times=record_times(records, "sbs"), speed=speed)
    ready.set()
    server.serve()


def _load(workdir: Path, seed: int, aircraft: int, seconds: float) -> Path:
    """The simulator's load mode: ``aircraft`` reporting once a second for ``seconds`` and 2 minutes more."""
    path = workdir / f"monitor-load-{aircraft}-{int(seconds)}-{seed}-1hz.parquet"
    if not path.exists():
        from skyfence.sim.run import simulate_load
        from skyfence.sim.scenario import load_scenario

        workdir.mkdir(parents=True, exist_ok=True)
        scenario, base = load_scenario("euphrates-2017")
        sim = simulate_load(scenario, base, aircraft, (seconds + 120) / 3600.0, seed, interval=1.0)
        sim.tracks.write_parquet(path)
    return path


class _TimedSteps(Steps):
    """Steps that keep each one's wall time instead of showing it."""

    def __init__(self) -> None:
        super().__init__(None)
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, text: str, total: float | None = None) -> Iterator[Steps]:
        t0 = time.perf_counter()
        yield self
        self.seconds[text] = self.seconds.get(text, 0.0) + time.perf_counter() - t0


def bench_monitor_window(workdir: Path, seed: int, aircraft: int, tick: float) -> dict:
    """One detection run as the live monitor makes it over a full window, ``aircraft`` reporting once a second,
    each stage timed: cold (``clean_tracks`` and ``detect_events``, nothing kept from a run before), and as the
    monitor's next run, a tick on, with what the run before kept (the cleaning fold,
    :class:`~skyfence.tracks.clean_fold.CleaningFold`, and :class:`skyfence.analysis.pipeline.DetectionMemo`); with
    the check that both give the same events. Best of three (one from 2,000 aircraft)."""
    from datetime import timedelta

    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.analysis.pipeline import DetectionMemo, detect_events
    from skyfence.cluster.archive import context_seconds
    from skyfence.live.window import StateWindow, detection_view
    from skyfence.sources.tabular import ReadReport
    from skyfence.tracks.clean import clean_tracks
    from skyfence.tracks.clean_fold import CleaningFold

    ag = load_agreement("euphrates-2017")
    window = 2 * context_seconds(ag) + tick
    states = pl.read_parquet(_load(workdir, seed, aircraft, window))

    def run(table: pl.DataFrame | None, memo: DetectionMemo | None,
            fold: tuple[CleaningFold, StateWindow, float] | None = None) -> tuple[float, dict, object]:
        """Cleaning ``table`` whole (cold), or as the monitor does: the fold takes the states that came, final
        ones go to the window, and the window with the rest is what detection runs on."""
        steps = _TimedSteps()
        t0 = time.perf_counter()
        with steps.step("cleaning along each track"):
            if fold is None:
                df = clean_tracks(table, ReadReport(), flight_gap=ag.thresholds.crossing.flight_gap)
            else:
                cleaning, win, now = fold
                if table is not None:
                    cleaning.push(table)
                    win.saw(table)
                final, provisional = cleaning.step(now)
                win.append(final)
                df = detection_view(win, provisional, now, {}, ag.thresholds.crossing.flight_gap)
        ev = detect_events(df, ag, progress=steps, memo=memo)
        if fold is not None:
            win.prune(now, {})
        return time.perf_counter() - t0, steps.seconds, ev

    end = states["time"].max().timestamp()
    before = states.filter(pl.col("time") <= states["time"].max() - timedelta(seconds=tick))
    came = states.filter(pl.col("time") > states["time"].max() - timedelta(seconds=tick))
    states = states.filter(pl.col("time") > states["time"].max() - timedelta(seconds=window))
    runs, ticks = [], []
    for _ in range(3 if aircraft < 2000 else 1):
        runs.append(run(states, None))
        # the monitor's next run: the window a tick on, with what the run before kept (the searches, the state
        # results, and the cleaning fold, which had taken every state before)
        memo, cleaning, win = DetectionMemo(), CleaningFold(), StateWindow(window, context_seconds(ag), tick)
        run(before, memo, (cleaning, win, end - tick + 1e-6))
        counts = (memo.searches.searched, memo.searches.reused, memo.rows.computed, memo.rows.reused)
        got = run(came, memo, (cleaning, win, end + 1e-6))
        ticks.append(got + (memo.searches.searched - counts[0], memo.searches.reused - counts[1],
                            memo.rows.computed - counts[2], memo.rows.reused - counts[3]))
    best, stages, ev = min(runs, key=lambda r: r[0])
    tick_best, tick_stages, tick_ev, searched, reused, computed, rows_reused = min(ticks, key=lambda r: r[0])
    same = all(getattr(ev, k).equals(getattr(tick_ev, k)) for k in ("crossings", "encounters", "manoeuvres",
                                                                    "interactions"))
    return {"bench": "monitor-window", "aircraft": aircraft, "window_s": window, "states": states.height,
            "run_s": round(best, 2), "us_per_state": round(1e6 * best / max(states.height, 1), 2),
            "stages_s": {k: round(v, 2) for k, v in stages.items()},
            "next_tick_run_s": round(tick_best, 2),
            "next_tick_stages_s": {k: round(v, 2) for k, v in tick_stages.items()},
            "instant_searches": searched, "instant_searches_from_memo": reused,
            "state_results_computed": computed, "state_results_from_memo": rows_reused,
            "same_events_with_memo": same,
            "events": {"crossings": ev.crossings.height, "encounters": ev.encounters.height,
                       "manoeuvres": ev.manoeuvres.height, "interactions": ev.interactions.height},
            "peak_rss_mb": _peak_rss_mb(), "load_average": os.getloadavg()}


def bench_monitor_load(workdir: Path, seed: int, aircraft: int, seconds: float, tick: float) -> dict:
    import polars as pl

    from skyfence.agreement import load_agreement
    from skyfence.live.monitor import Monitor
    from skyfence.live.sources import open_source

    path = _load(workdir, seed, aircraft, seconds)
    states = pl.scan_parquet(path).select(pl.len()).collect().item()
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_serve_load, args=(str(path), port, ready, 1.0), daemon=True)
    proc.start()
    ready.wait(1800)
    ag = load_agreement("euphrates-2017")
    m = Monitor([open_source(f"sbs://127.0.0.1:{port}")], ag, tick=tick, speed=1.0, duration=seconds)
    samples: list[dict] = []
    stop = threading.Event()

    def sample() -> None:
        begin = t0 = time.monotonic()
        c0 = time.process_time()
        while not stop.wait(10.0):
            t1, c1 = time.monotonic(), time.process_time()
            samples.append({"t_s": round(t1 - begin), "cpu_percent": round(100 * (c1 - c0) / (t1 - t0)),
                            "rss_mb": round(_rss_mb()), "window_states": m.window.rows,
                            "states": m.report.states, "load_average": round(os.getloadavg()[0], 1)})
            t0, c0 = t1, c1

    threading.Thread(target=sample, daemon=True).start()
    report = m.run()
    stop.set()
    proc.terminate()
    proc.join(5)
    doc = report.as_dict()
    return {"bench": "monitor-load", "aircraft": aircraft, "seconds": seconds, "tick_s": tick,
            "states_in_file": states, "records": doc["records_received"], "states": doc["states"],
            "records_per_second": round(doc["records_received"] / max(doc["seconds"], 1e-9)),
            "detections": doc["detections"], "detect_s_p50": doc["detect_s_p50"], "detect_s_p99": doc["detect_s_p99"],
            "latency_s_p50": doc["latency_s_p50"], "latency_s_p99": doc["latency_s_p99"],
            "update_latency_s_p50": doc["update_latency_s_p50"], "update_latency_s_p99": doc["update_latency_s_p99"],
            "behind_s_p50": doc["behind_s_p50"], "behind_s_p99": doc["behind_s_p99"],
            "picture_tick_s_p50": doc["picture_tick_s_p50"], "picture_tick_s_p99": doc["picture_tick_s_p99"],
            "updates": doc["updates"], "bad_records": doc["bad_records"], "bad_by_reason": doc["bad_by_reason"],
            "over_time": samples,
            "peak_rss_mb": _peak_rss_mb(), "load_average": os.getloadavg()}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
