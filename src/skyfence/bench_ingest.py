"""Ingest throughput: a replay server in another process feeds real recordings as fast as it can; the
figure is records per second decoded through to canonical states on disk."""

from __future__ import annotations

import gzip
import multiprocessing
import socket
import tempfile
import time
from pathlib import Path


def _records(kind: str, shared: Path) -> list[bytes]:
    import polars as pl

    from skyfence.live.replay import beast_message, records_from_states
    from skyfence.sources.tabular import from_frame

    if kind == "sbs":
        samples = pl.read_parquet(shared / "adsb_samples.parquet")
        states, _ = from_frame(samples.filter(pl.col("scenario") == "enroute_rvsm_traffic"), "bench")
        return records_from_states(states, "sbs")
    lines = gzip.open(shared / "raw" / "mode_s_frames_393322.jsonl.gz", "rt").read().splitlines()
    import json

    pairs = [(o["timestamp"], o["frame"]) for o in map(json.loads, lines)]
    if kind == "raw":
        return [f"{t:.6f},{f}\n".encode() for t, f in pairs]
    t0 = pairs[0][0]
    return [beast_message(int((t - t0) * 12e6), f) for t, f in pairs]


def _serve(kind: str, shared: str, port: int, ready) -> None:
    from skyfence.live.replay import ReplayServer

    records = _records(kind, Path(shared))
    server = ReplayServer(records, port=port, repeat=200)
    ready.set()
    server.serve()


def free_port() -> int:
    """A TCP port free on this machine now (for a benchmark's own server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_ingest(kind: str, shared: Path, seconds: float = 10.0) -> dict:
    from skyfence.live.ingest import ingest

    port = free_port()
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_serve, args=(kind, str(shared), port, ready), daemon=True)
    proc.start()
    ready.wait(120)
    time.sleep(0.2)
    with tempfile.TemporaryDirectory() as tmp:
        report = ingest(f"{kind}://127.0.0.1:{port}", Path(tmp) / "bench.parquet", duration=seconds)
    proc.terminate()
    proc.join(5)
    doc = report.as_dict()
    return {"bench": f"ingest-{kind}", "seconds": doc["seconds"], "records": doc["records_received"],
            "records_per_second": doc["records_per_second"], "states_written": doc["states_written"],
            "bad_records": doc["bad_records"], "megabytes": round(doc["bytes"] / 1e6, 1)}
