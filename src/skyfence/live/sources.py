"""Where the monitor's states come from: live feeds, polled JSON endpoints and recorded files.

- a feed ``ingest`` reads (``sbs://``, ``raw://``, ``beast://``, ``cot+tcp://``, ``cot+udp://``): the same
  connection that reconnects after a drop (:mod:`skyfence.live.connection`) and the same incremental
  decoders (:mod:`skyfence.live.decoders`), on a thread of its own;
- a polled endpoint: ``http(s)://HOST/data/aircraft.json`` (readsb, tar1090, dump1090-fa) or an
  OpenSky-REST ``.../states/all`` URL, fetched every ``interval`` seconds and parsed by the file readers'
  own functions (:func:`skyfence.sources.readsb.snapshot_messages`, :func:`skyfence.sources.opensky.states_rows`);
- a recorded file in any format ``analyze`` reads, replayed on its own clock by the monitor.

Every source counts its records and its bad records by reason; nothing it meets stops it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl

from skyfence.errors import InputError
from skyfence.tracks.schema import conform, empty_tracks

Log = Callable[[str], None]


class Source:
    """Base: a name, counts, and states handed over as they come."""

    live = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.records = 0
        self.bad: Counter = Counter()
        self._lock = threading.Lock()
        self._frames: list[pl.DataFrame] = []
        self._arrivals: list[float] = []  # wall time each frame was decoded (monotonic)

    def start(self, log: Log) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def reached(self) -> bool:
        """Whether the source was ever reached (a feed connected, an endpoint answered, a file read)."""
        return True

    def _put(self, df: pl.DataFrame, arrival: float) -> None:
        if df.height:
            with self._lock:
                self._frames.append(df)
                self._arrivals.append(arrival)

    def take(self) -> tuple[pl.DataFrame, float | None]:
        """The states received since the last call, and the earliest arrival (monotonic s) among them."""
        with self._lock:
            frames, arrivals = self._frames, self._arrivals
            self._frames, self._arrivals = [], []
        if not frames:
            return empty_tracks(), None
        return pl.concat(frames, how="vertical_relaxed"), min(arrivals)


class FileSource(Source):
    """A recorded file, read once and handed over in time order up to the replay clock."""

    live = False

    def __init__(self, path: str, reference: tuple[float, float] | None = None) -> None:
        super().__init__(path)
        from skyfence.sources.formats import read_any

        p = Path(path)
        if not p.exists():
            raise InputError(f"{path}: no such file")
        df, report = read_any(p, reference=reference)
        self.bad.update(report.dropped)
        df = df.filter(pl.col("time").is_not_null()).sort("time", maintain_order=True)
        self._refused = report.rows_read - df.height  # bad records, refused as the file was read
        self.records = self._refused  # records replayed so far: the bad ones, and those handed over
        self.states = df
        self.times = df["time"].dt.epoch("us").to_numpy() / 1e6 if df.height else None
        self.position = 0

    @property
    def first_time(self) -> float | None:
        return float(self.times[0]) if self.times is not None else None

    @property
    def last_time(self) -> float | None:
        return float(self.times[-1]) if self.times is not None else None

    @property
    def exhausted(self) -> bool:
        return self.times is None or self.position >= len(self.times)

    def take_until(self, t: float) -> pl.DataFrame:
        """The states with times before ``t`` not handed over yet."""
        if self.exhausted:
            return empty_tracks()
        import numpy as np

        end = int(np.searchsorted(self.times, t, side="left"))
        if end <= self.position:
            return empty_tracks()
        part = self.states.slice(self.position, end - self.position)
        self.position = end
        self.records = self._refused + end
        return part


class FeedSource(Source):
    """A TCP/UDP feed on a thread: reconnects after drops, decodes as data comes."""

    DECODE_EVERY = 0.2  # s

    def __init__(self, address: str, reference: tuple[float, float] | None = None) -> None:
        super().__init__(address)
        from skyfence.live.connection import LinkStats
        from skyfence.live.feeds import parse_feed

        self.spec = parse_feed(address)
        self.reference = reference
        self.link = LinkStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.decoder = None

    def start(self, log: Log) -> None:
        from skyfence.live.decoders import make_decoder

        self.decoder = make_decoder(self.spec.kind, str(self.spec), self.reference)
        self._thread = threading.Thread(target=self._run, args=(log,), daemon=True, name=f"feed {self.spec}")
        self._thread.start()

    def _run(self, log: Log) -> None:
        from skyfence.live.connection import stream

        dec = self.decoder
        last = time.monotonic()
        first_arrival: float | None = None
        try:
            for chunk in stream(self.spec, None, self.link, stop=self._stop.is_set, log=log):
                now = time.monotonic()
                if not chunk:
                    dec.drop()
                else:
                    if first_arrival is None:
                        first_arrival = now
                    dec.feed(chunk, time.time())
                if dec.pending() and (now - last >= self.DECODE_EVERY or not chunk):
                    self._put(dec.take(), first_arrival if first_arrival is not None else now)
                    first_arrival, last = None, now
                self._count()
        finally:
            self._put(dec.finish(), first_arrival or time.monotonic())
            self._count()

    @property
    def reached(self) -> bool:
        return self.link.connects > 0

    def _count(self) -> None:
        self.records = self.decoder.records
        self.bad = Counter(self.decoder.bad)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)


MAX_ANSWER = 64 * 2**20  # bytes: a polled answer larger than this is refused (an area's aircraft fit in a few MB)
MAX_BACKOFF = 300.0  # s: the longest wait between polls while an endpoint fails


class AnswerTooLarge(Exception):
    """A polled answer over ``MAX_ANSWER``."""


def _retry_after(exc: Exception) -> float:
    """Seconds the server asked to wait (``Retry-After`` on a 429 or 503), or 0."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        value = exc.response.headers.get("retry-after", "")
        try:
            return max(0.0, float(value))
        except ValueError:
            return 0.0
    return 0.0


def _failure(exc: Exception) -> str:
    """A failed poll in a few words (one line: httpx adds a line pointing to MDN)."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"answered {exc.response.status_code} {exc.response.reason_phrase}".rstrip()
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


class PollSource(Source):
    """A JSON endpoint fetched every ``interval`` s: readsb/tar1090 ``aircraft.json`` or OpenSky ``/states/all``."""

    def __init__(self, url: str, interval: float = 5.0, timeout: float = 10.0) -> None:
        super().__init__(url)
        if interval <= 0:
            raise InputError("--interval must be positive")
        self.url, self.interval, self.timeout = url, interval, timeout
        self.polls = 0
        self.failed = 0
        self._failures = 0  # in a row
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, log: Log) -> None:
        self._thread = threading.Thread(target=self._run, args=(log,), daemon=True, name=f"poll {self.url}")
        self._thread.start()

    def _run(self, log: Log) -> None:
        import httpx

        failing: str | None = None  # what the failures since the last good answer are, told once
        wait = self.interval
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    body = self._fetch(client)
                    self._put(parse_answer(body, self.url, self.bad, self), time.monotonic())
                    self.polls += 1
                    if failing is not None:
                        log(f"{self.url}: answering again after {self._failures} failed poll(s)")
                    failing, self._failures, wait = None, 0, self.interval
                except (httpx.HTTPError, AnswerTooLarge) as exc:
                    self.failed += 1
                    self._failures += 1
                    # backing off: as long as the server asks (Retry-After), or else twice as long after each
                    # failure, up to 5 minutes
                    wait = min(_retry_after(exc) or (2.0 * wait if failing else self.interval), MAX_BACKOFF)
                    what = _failure(exc)
                    if what != failing:
                        log(f"{self.url}: {what}; retrying in {wait:g} s, and less often while it fails")
                        failing = what
                self._stop.wait(max(0.0, wait - (time.monotonic() - began)))

    @property
    def reached(self) -> bool:
        return self.polls > 0

    def _fetch(self, client) -> bytes:
        """The answer's body, refused beyond ``MAX_ANSWER`` bytes (a feed's lines are capped too)."""
        with client.stream("GET", self.url) as answer:
            answer.raise_for_status()
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise AnswerTooLarge(f"an answer over {MAX_ANSWER // 2**20} MB, not read")
                chunks.append(chunk)
            return b"".join(chunks)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)


def parse_answer(body: bytes, source: str, bad: Counter, counts: Source | None = None) -> pl.DataFrame:
    """One polled answer as canonical states: an OpenSky ``states`` answer or a readsb snapshot (``aircraft`` or
    ``ac``); a damaged answer gives what it still holds and counts the rest."""
    from skyfence.sources.jsonscan import salvage
    from skyfence.sources.opensky import states_rows
    from skyfence.sources.readsb import snapshot_messages
    from skyfence.sources.states import MESSAGE_SCHEMA, to_canonical
    from skyfence.tracks.schema import drop_invalid_times, time_from_seconds

    text = body.decode("utf-8", errors="replace")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = salvage(text, bad)
        if doc is None:
            bad["answer that is not JSON"] += 1
            return empty_tracks()
    if not isinstance(doc, dict):
        bad["answer that is not a JSON object"] += 1
        return empty_tracks()
    if "states" in doc:
        entries = doc.get("states")
        cols = states_rows(doc, bad)
        if counts is not None:
            counts.records += len(entries) if isinstance(entries, list) else int(entries is not None)
        df = pl.DataFrame(cols, schema={"time": pl.Float64, "track_id": pl.String, "callsign": pl.String,
                                        "lon": pl.Float64, "lat": pl.Float64, "altitude": pl.Float64,
                                        "ground_speed": pl.Float64, "track": pl.Float64,
                                        "vertical_rate": pl.Float64, "on_ground": pl.Boolean})
        df = drop_invalid_times(df, bad)
        return conform(df.with_columns(time_from_seconds(pl.col("time")), pl.lit(source).alias("source")))
    entries = doc.get("aircraft", doc.get("ac"))
    if counts is not None:
        counts.records += len(entries) if isinstance(entries, list) else 1
    msgs = pl.DataFrame(snapshot_messages(doc, bad), schema=MESSAGE_SCHEMA)
    return to_canonical(drop_invalid_times(msgs, bad), source)


def open_source(text: str, reference: tuple[float, float] | None = None, interval: float = 5.0) -> Source:
    """A source from what the user wrote: an http(s) URL, a feed address or a file (one clear error if none)."""
    from skyfence.live.feeds import is_feed

    if text.startswith(("http://", "https://")):
        import httpx

        try:
            httpx.URL(text)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's URL
            raise InputError(f"{text}: not a URL ({exc})") from None
        return PollSource(text, interval)
    if is_feed(text):
        return FeedSource(text, reference)
    return FileSource(text, reference)
