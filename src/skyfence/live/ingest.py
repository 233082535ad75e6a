"""``ingest``: a live feed or a recorded file into hourly Parquet files of canonical states.

Nothing accepted is lost: states go to disk every few seconds as part files,
a drop of the feed costs at most the one record it cut (counted), and a stop
(``--duration``, Ctrl-C, SIGTERM) decodes and writes everything received
before exiting. Cleaning is left to the analysis, which counts what it
removes; ingest keeps every state it decoded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skyfence.live.connection import LinkStats, stream
from skyfence.live.decoders import make_decoder
from skyfence.live.feeds import is_feed, parse_feed
from skyfence.live.sink import HourlySink
from skyfence.sources.formats import read_any
from skyfence.stopping import stop_on_signals

DECODE_EVERY = 0.5  # s between decodes of what has arrived
DECODE_RECORDS = 100_000  # or sooner, once this many records wait
FLUSH_EVERY = 5.0  # s between writes to disk
REPORT_EVERY = 10.0  # s between progress lines


@dataclass
class IngestReport:
    source: str
    records: int = 0
    states: int = 0
    duplicates: int = 0
    bad: Counter = field(default_factory=Counter)
    link: LinkStats = field(default_factory=LinkStats)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    recovered_hours: int = 0

    def as_dict(self) -> dict:
        return {"source": self.source, "records_received": self.records, "states_written": self.states,
                "duplicate_states_removed": self.duplicates, "bad_records": sum(self.bad.values()),
                "bad_by_reason": dict(sorted(self.bad.items())), "connections": self.link.connects,
                "drops": self.link.drops, "failed_connects": self.link.failed_connects, "bytes": self.link.bytes,
                "seconds": round(self.seconds, 3),
                "records_per_second": round(self.records / self.seconds, 1) if self.seconds else None,
                "files": self.files, "recovered_hours": self.recovered_hours}


def ingest(source: str, out: str | Path, duration: float | None = None,
           reference: tuple[float, float] | None = None, log: Callable[[str], None] = lambda _: None,
           flush_rows: int = 200_000, beast_start: float | None = None) -> IngestReport:
    """Read ``source`` (a feed address or a file) into hourly Parquet files at ``out``."""
    started = time.monotonic()
    report = IngestReport(source)
    sink = HourlySink(out, flush_rows=flush_rows)
    report.recovered_hours = sink.recovered
    if sink.recovered:
        log(f"recovered {sink.recovered} hour(s) of states left by an interrupted run")
    if not is_feed(source):
        df, rep = read_any(Path(source), reference=reference, beast_start=beast_start)
        report.records, report.bad = rep.rows_read, Counter(rep.dropped)
        for note in rep.corrected:
            log(f"{source}: {note}")
        sink.write(df)
    else:
        _live(source, sink, report, duration, reference, log)
    sink.close()
    report.states = sink.rows_written - sink.duplicates  # as the files hold them: a copy is removed at compaction
    report.duplicates = sink.duplicates
    report.files = sorted(str(f) for f in sink.files)
    report.seconds = time.monotonic() - started
    return report


def _live(source: str, sink: HourlySink, report: IngestReport, duration: float | None,
          reference: tuple[float, float] | None, log: Callable[[str], None]) -> None:
    spec = parse_feed(source)
    decoder = make_decoder(spec.kind, str(spec), reference)
    deadline = time.monotonic() + duration if duration is not None else None
    stopping = []

    def on_signal(signum: int) -> None:
        if stopping:  # a second Ctrl-C: stop at once, still writing what was decoded
            raise KeyboardInterrupt
        stopping.append(signum)
        log("stopping: writing what was received")

    last_decode = last_flush = last_report = time.monotonic()
    records_at_report = 0
    with stop_on_signals(on_signal):
        try:
            for chunk in stream(spec, deadline, report.link, stop=lambda: bool(stopping), log=log):
                if not chunk:
                    decoder.drop()
                else:
                    decoder.feed(chunk, time.time())
                now = time.monotonic()
                if decoder.pending() >= DECODE_RECORDS or now - last_decode >= DECODE_EVERY or not chunk:
                    sink.write(decoder.take())
                    last_decode = now
                if now - last_flush >= FLUSH_EVERY:
                    sink.flush()
                    last_flush = now
                if now - last_report >= REPORT_EVERY:
                    rate = (decoder.records - records_at_report) / (now - last_report)
                    log(f"{decoder.records:,} records ({rate:,.0f}/s), {sink.rows_written + sink.buffered:,} states, "
                        f"{sum(decoder.bad.values()):,} bad, {report.link.drops} drop(s)")
                    last_report, records_at_report = now, decoder.records
        finally:
            sink.write(decoder.finish())
            report.records = decoder.records
            report.bad = decoder.bad
