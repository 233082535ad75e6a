"""The long fuzz run (``make fuzz``): every reader and live feed under seeded mutations, in worker processes.

``python -m tests.fuzz.run --cases 10000`` runs file cases (every sample,
every mutation, seeds 0, 1, ...), live-feed cases through the decoders, a
few through a real TCP server and ``ingest``, and every 25th file case also
through cleaning and the detectors. Each case runs in a worker process with
a time limit: a worker that dies is a crash, one that overruns is a hang.
Prints the counts by reader and by mutation (cases, crashes, hangs, lost
good states, wrong bad counts, clean errors) and exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from multiprocessing.connection import wait
from pathlib import Path

CASE_SECONDS = 60.0
ANALYZE_EVERY = 25
TCP_FEEDS = ("sbs", "raw", "beast", "cot")
TCP_MUTATIONS = ("garbage", "drops", "all")


def plan(total: int, tcp: int, first_seed: int) -> list[tuple]:
    """The cases, round-robin over every (reader, mutation) with rising seeds, until ``total``."""
    from tests.fuzz.feeds import FEEDS, MUTATIONS as FEED_MUTATIONS
    from tests.fuzz.mutators import MUTATIONS
    from tests.fuzz.samples import all_samples

    combos = [("file", name, m) for name in all_samples() for m in MUTATIONS]
    combos += [("feed", f, m) for f in FEEDS for m in FEED_MUTATIONS]
    tcp_combos = [("tcp", f, m) for f in TCP_FEEDS for m in TCP_MUTATIONS]
    cases: list[tuple] = []
    for k in range(tcp):
        kind, name, m = tcp_combos[k % len(tcp_combos)]
        cases.append((kind, name, m, first_seed + k // len(tcp_combos), False))
    seed = first_seed
    while len(cases) < total:
        for kind, name, m in combos:
            cases.append((kind, name, m, seed, kind == "file" and seed % ANALYZE_EVERY == 0))
            if len(cases) >= total:
                break
        seed += 1
    return cases


def _worker(conn, folder: str) -> None:
    os.environ.setdefault("RUST_BACKTRACE", "0")
    from tests.fuzz.feeds import run_feed_case, serve_case
    from tests.fuzz.oracle import run_case
    from tests.fuzz.samples import all_samples

    samples = all_samples()
    path = Path(tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=folder))  # files of its own
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        if case is None:
            return
        kind, name, mutation, seed, analyze = case
        if kind == "file":
            out = run_case(samples[name], mutation, seed, path, analyze=analyze)
        elif kind == "feed":
            out = run_feed_case(name, mutation, seed)
        else:
            out = serve_case(name, mutation, seed, path)
        conn.send(asdict(out))


class Pool:
    """Worker processes that each run one case at a time; a dead or overrunning worker is replaced."""

    def __init__(self, workers: int, folder: str) -> None:
        self.ctx = mp.get_context("spawn")
        self.folder = folder
        self.slots: list[list] = [self._start() for _ in range(workers)]  # [process, conn, case, started]

    def _start(self) -> list:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.folder), daemon=True)
        proc.start()
        child.close()
        return [proc, parent, None, 0.0]

    def run(self, cases: list[tuple], report) -> None:
        todo = list(reversed(cases))
        while todo or any(s[2] is not None for s in self.slots):
            for s in self.slots:
                if s[2] is None and todo:
                    s[2], s[3] = todo.pop(), time.monotonic()
                    s[1].send(s[2])
            busy = [s for s in self.slots if s[2] is not None]
            ready = wait([s[1] for s in busy], timeout=1.0)
            for s in busy:
                if s[1] in ready:
                    try:
                        report(s[2], s[1].recv())
                        s[2] = None
                        continue
                    except (EOFError, OSError):
                        report(s[2], _dead(s[2], "crash", f"worker died (exit {s[0].exitcode})"))
                elif time.monotonic() - s[3] > CASE_SECONDS:
                    report(s[2], _dead(s[2], "hang", f"no answer in {CASE_SECONDS:.0f} s"))
                else:
                    continue
                s[0].kill()
                s[0].join(5)
                self.slots[self.slots.index(s)] = self._start()

    def close(self) -> None:
        for proc, conn, _, _ in self.slots:
            try:
                conn.send(None)
            except OSError:
                pass
            proc.join(5)
            if proc.is_alive():
                proc.kill()


def _dead(case: tuple, status: str, why: str) -> dict:
    kind, name, mutation, seed, _ = case
    return {"reader": name if kind == "file" else f"{'live' if kind == 'feed' else 'tcp'}-{name}",
            "mutation": mutation, "seed": seed, "status": status, "lost": 0, "wrong_count": False,
            "problems": [why], "note": ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="Cases in all (default 10,000).")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes (default 2).")
    parser.add_argument("--tcp", type=int, default=24, help="Cases through a real TCP server (default 24).")
    parser.add_argument("--seed", type=int, default=0, help="First seed (another value explores new cases).")
    args = parser.parse_args(argv)
    cases = plan(args.cases, args.tcp, args.seed)
    by_reader: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    by_mutation: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    failures: list[str] = []
    started = time.monotonic()
    done = [0]

    def report(case: tuple, out: dict) -> None:
        done[0] += 1
        for table, key in ((by_reader, out["reader"]), (by_mutation, out["mutation"])):
            row = table[key]
            row["cases"] += 1
            row["crashes"] += out["status"] == "crash"
            row["hangs"] += out["status"] == "hang"
            row["lost"] += out["lost"]
            row["wrong counts"] += bool(out["wrong_count"])
            row["other"] += bool(out["problems"]) and out["status"] == "ok" and not out["lost"] and \
                not out["wrong_count"]
            row["exit 2"] += out["status"] == "error"
            row["analyzed"] += bool(case[4])
        if out["problems"] or out["status"] in ("crash", "hang"):
            failures.append(f"{out['reader']}/{out['mutation']}/{out['seed']}: {out['status']}; "
                            + "; ".join(out["problems"]) + (f"\n{out['note']}" if out["status"] == "crash" else ""))
        if done[0] % 500 == 0:
            print(f"  {done[0]:,} of {len(cases):,} cases, {len(failures)} failed, "
                  f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="skyfence-fuzz-") as folder:
        pool = Pool(args.workers, folder)
        try:
            pool.run(cases, report)
        finally:
            pool.close()
    seconds = time.monotonic() - started
    _table("reader", by_reader)
    _table("mutation", by_mutation)
    total = {k: sum(r[k] for r in by_reader.values()) for k in ("cases", "crashes", "hangs", "lost", "wrong counts",
                                                                  "other", "exit 2", "analyzed")}
    print(f"\n{total['cases']:,} cases in {seconds:.0f} s ({args.workers} workers): {total['crashes']} crashes, "
          f"{total['hangs']} hangs, {total['lost']} lost good states, {total['wrong counts']} wrong bad counts, "
          f"{total['other']} other problems; {total['exit 2']} clean errors (exit 2); {total['analyzed']} also "
          "cleaned and analysed")
    for text in failures[:40]:
        print("FAIL", text)
    return 1 if failures else 0


def _table(title: str, rows: dict) -> None:
    cols = ["cases", "crashes", "hangs", "lost", "wrong counts", "other", "exit 2"]
    width = max(len(k) for k in rows) + 2
    print(f"\n{'by ' + title:<{width}}" + "".join(f"{c:>13}" for c in cols))
    for key in sorted(rows):
        print(f"{key:<{width}}" + "".join(f"{rows[key][c]:>13,}" for c in cols))


if __name__ == "__main__":
    sys.exit(main())
