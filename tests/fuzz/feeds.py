"""Live feeds under fuzzing: SBS, raw frames, Beast and CoT with garbage, random bytes, drops mid-record, and
a sender faster than real time.

A feed case is the sample's records with garbage or random bytes between
them and connection drops that cut a record in half (the next connection
sends it again whole, as :class:`ReplayServer` does), delivered in chunks of
random size. :func:`run_feed_case` drives the live decoder as ``ingest``
does (feed, take, drop, finish) with arrival times that run a thousand times
faster than the receiver's clock; :func:`serve_case` sends the same bytes
through a real TCP server to ``ingest``. Either way every state of the clean
recording must come back exactly once, and the bad records be counted
exactly where that number is certain.
"""

from __future__ import annotations

import random
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from skyfence.live.decoders import make_decoder
from skyfence.sources.cot import read_cot
from skyfence.sources.modes import read_frames
from skyfence.sources.sbs import read_sbs
from tests.fuzz.oracle import Outcome, _aligned, _rows
from tests.fuzz.samples import all_samples, frame_lines

FEEDS = ("sbs", "raw", "raw_mlat", "beast", "cot")
MUTATIONS = ("garbage", "random_bytes", "noise", "drops", "all")
KEY = ["track_id", "time", "lon", "lat"]
_CLEAN: dict[tuple, pl.DataFrame] = {}


@dataclass
class FeedCase:
    feed: str
    kind: str  # decoder kind
    records: list[bytes]  # what the sender sends, garbage included
    spoiled: tuple[int, ...]  # clean records (by their number) that random noise glued before may spoil
    cuts: list[int]  # records cut in half by a drop (then sent again whole)
    bad: int | None  # bad records added, when certain
    note: str = ""


def feed_records(feed: str) -> tuple[str, list[bytes]]:
    """The decoder kind and clean records of a feed."""
    if feed == "raw_mlat":  # '@' + 12 hex digits of the 12 MHz clock + frame
        objs = frame_lines()
        t0 = objs[0]["timestamp"]
        return "raw", [f"@{int((o['timestamp'] - t0) * 12e6) + 12_000:012X}{o['frame'].upper()};\n".encode()
                       for o in objs]
    name = {"sbs": "sbs", "raw": "frames_text", "beast": "beast", "cot": "cot"}[feed]
    return ("cot+tcp" if feed == "cot" else feed), list(all_samples()[name].records)


def clean_states(feed: str, keep: tuple[int, ...] | None = None) -> pl.DataFrame:
    """What the file readers make of the clean recording, or of its records ``keep`` (Beast and '@' frames:
    of the same frames with their times)."""
    key = (feed, keep)
    if key not in _CLEAN:
        name = {"sbs": "sbs", "cot": "cot"}.get(feed, "frames_text")
        records = all_samples()[name].records
        if keep is not None:
            records = [records[i] for i in keep]
        path = Path(tempfile.mkdtemp(prefix="skyfence-feed-")) / f"clean.{name}"
        path.write_bytes(b"".join(records))
        reader = {"sbs": read_sbs, "cot": read_cot}.get(feed, read_frames)
        df, _ = reader(path)
        _CLEAN[key] = df.select(KEY)
        path.unlink()
    return _CLEAN[key]


def _garbage(feed: str, rng: random.Random) -> bytes:
    if feed in ("sbs", "raw", "raw_mlat"):
        return rng.choice([b"MSG,3,broken\n", b"\xff\xfe garbage\n", b"@zz;\n", b"*8d;\n", b"12345\n"])
    if feed == "beast":
        return bytes(rng.choice(b"abcdefghij\x00\x01\x02\xfe") for _ in range(rng.randint(1, 20)))
    return rng.choice([b"garbage\n", b"<gpx>no</gpx>\n", b"}{"])


def _random_bytes(feed: str, rng: random.Random) -> bytes:
    """Random bytes that cannot end a line or start a record: exactly one bad record, glued to the next."""
    banned = {0x0A, 0x0D, 0x1A, ord("<"), ord("M")}
    return bytes(b for b in rng.randbytes(rng.randint(1, 40)) if b not in banned) + b"?"


def make_case(feed: str, mutation: str, seed: int) -> FeedCase:
    rng = random.Random(f"feed/{feed}/{mutation}/{seed}")
    kind, clean = feed_records(feed)
    records: list[bytes] = []
    spoiled: list[int] = []
    bad: int | None = 0
    insert = mutation in ("garbage", "random_bytes", "noise", "all")
    for i, r in enumerate(clean):
        if insert and rng.random() < 0.05:
            which = mutation if mutation != "all" else rng.choice(["garbage", "random_bytes", "noise"])
            if which == "garbage":
                records.append(_garbage(feed, rng))
                bad = None if bad is None else bad + 1
            elif which == "random_bytes":
                records.append(_random_bytes(feed, rng))
                bad = None if bad is None else bad + 1
                if feed in ("raw", "raw_mlat"):  # a frame line has no marker to be found again by
                    spoiled.append(i)
            else:
                records.append(rng.randbytes(rng.randint(1, 60)))
                bad = None
                spoiled.append(i)
        records.append(r)
    cuts = []
    if mutation in ("drops", "all"):
        cuts = sorted(rng.sample(range(1, len(records) - 1), rng.randint(1, 4)))
        bad = None if bad is None else bad + len(cuts)
    return FeedCase(feed, kind, records, tuple(spoiled), cuts, bad,
                    note=f"{len(records) - len(clean)} inserted, cuts {cuts}")


def deliver(case: FeedCase, rng: random.Random) -> tuple[pl.DataFrame, dict]:
    """The live decoder over the case's bytes, as ``ingest`` drives it: random chunks, a take every few
    chunks, a drop (and a pause) at every cut, arrivals far faster than the receiver's clock."""
    decoder = make_decoder(case.kind, f"fuzz-{case.feed}")
    arrival, out = 1_700_000_000.0, []
    segments, start = [], 0
    for cut in case.cuts:
        half = case.records[cut][: max(1, len(case.records[cut]) // 2)]
        segments.append(b"".join(case.records[start:cut]) + half)
        start = cut  # the next connection sends the cut record again, whole
    segments.append(b"".join(case.records[start:]))
    for k, data in enumerate(segments):
        pos = 0
        while pos < len(data):
            n = rng.choice([1, 7, 100, 1000, 4096, 65536])
            decoder.feed(data[pos:pos + n], arrival)
            pos += n
            arrival += 0.001
            if rng.random() < 0.2:
                out.append(decoder.take())
        if k < len(segments) - 1:
            decoder.drop()
            out.append(decoder.take())
            arrival += 0.5  # the reconnection's backoff
    out.append(decoder.finish())
    return pl.concat(out, how="vertical_relaxed"), dict(decoder.bad)


def judge_feed(case: FeedCase, got: pl.DataFrame, bad: dict, out: Outcome) -> None:
    n = len(feed_records(case.feed)[1])
    want = clean_states(case.feed, tuple(i for i in range(n) if i not in set(case.spoiled)) if case.spoiled else None)
    g = got.select(KEY)
    twice = g.height - g.unique().height
    if twice:
        out.problems.append(f"{twice} states decoded twice")
    if case.feed in ("beast", "raw_mlat") and g.height:
        g = _aligned(g, want)
    lost = want.join(g, on=KEY, how="anti")
    if lost.height:
        out.lost = lost.height
        out.problems.append(f"{lost.height} of {want.height} states lost, e.g. {_rows(lost)}")
    extra = g.join(clean_states(case.feed), on=KEY, how="anti")
    if extra.height and case.bad is not None:
        out.problems.append(f"{extra.height} states not in the recording, e.g. {_rows(extra)}")
    total = sum(bad.values())
    if case.bad is not None and total != case.bad:
        out.wrong_count = True
        out.problems.append(f"bad records counted {total}, added {case.bad} ({bad})")


def run_feed_case(feed: str, mutation: str, seed: int) -> Outcome:
    out = Outcome(f"live-{feed}", mutation, seed)
    try:
        case = make_case(feed, mutation, seed)
        out.note = case.note
        got, bad = deliver(case, random.Random(seed))
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.status = "crash"
        out.problems.append("".join(traceback.format_exception_only(exc)).strip()[:300])
        out.note += " " + traceback.format_exc()[-1500:]
        return out
    judge_feed(case, got, bad, out)
    return out


def serve_case(feed: str, mutation: str, seed: int, folder: Path) -> Outcome:
    """The case through a real TCP server (as fast as the client reads) and ``ingest``."""
    import signal
    import threading
    import time

    from skyfence.live.ingest import ingest
    from skyfence.live.replay import ReplayServer

    out = Outcome(f"tcp-{feed}", mutation, seed)
    case = make_case(feed, mutation, seed)
    out.note = case.note
    scheme = {"sbs": "sbs", "raw": "raw", "raw_mlat": "raw", "beast": "beast", "cot": "cot+tcp"}[feed]
    server = ReplayServer(case.records, cuts=case.cuts).start()
    stop = threading.Event()

    def watch():
        if server.done.wait(60) and not stop.wait(1.0):
            signal.raise_signal(signal.SIGINT)

    threading.Thread(target=watch, daemon=True).start()
    try:
        report = ingest(f"{scheme}://127.0.0.1:{server.port}", folder / f"{feed}-{mutation}-{seed}" / "tracks.parquet", duration=90)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.status = "crash"
        out.problems.append("".join(traceback.format_exception_only(exc)).strip()[:300])
        return out
    finally:
        stop.set()
        server.close()
    got = pl.concat([pl.read_parquet(f) for f in report.files]) if report.files else pl.DataFrame(schema={})
    if report.duplicates:
        out.problems.append(f"{report.duplicates} states written twice (removed as duplicates)")
    judge_feed(case, got if got.width else clean_states(feed).head(0), report.bad, out)
    return out
