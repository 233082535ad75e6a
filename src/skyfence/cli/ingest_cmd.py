"""``skyfence ingest``: a live feed or a recorded file into hourly Parquet files of canonical states."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import InputError
from skyfence.progress import stderr


def parse_reference(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--reference {text!r}: expected LAT,LON in degrees") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise InputError(f"--reference {text!r}: out of range")
    return lat, lon


@app.command("ingest")
def ingest_cmd(
    source: str = typer.Option(..., "--source", "-s", help="sbs://HOST:PORT, beast://HOST:PORT, raw://HOST:PORT, "
                               "cot+tcp://HOST:PORT, cot+udp://HOST:PORT (listen), or a recorded file of any "
                               "format skyfence reads."),
    out: Path = typer.Option(Path("tracks.parquet"), "--out", "-o", help="tracks.parquet writes "
                             "tracks-YYYYMMDDTHH.parquet beside it, one file an hour; a folder writes "
                             "tracks-....parquet inside it."),
    duration: float = typer.Option(None, "--duration", help="Stop after this many seconds, writing everything "
                                   "received (default: until Ctrl-C or SIGTERM)."),
    reference: str = typer.Option(None, "--reference", help="Receiver position LAT,LON: decodes Mode S "
                                  "surface positions and single airborne ones."),
    beast_start: str = typer.Option(None, "--beast-start", help="When a Beast capture's first message was "
                                    "received (ISO 8601 UTC): its clock counts from the receiver's start, not from a "
                                    "date (by default its last message is put at the file's modification time)."),
    summary: Path = typer.Option(None, "--summary", help="Also write the run's figures as JSON here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the final line."),
) -> None:
    """Record a feed (or convert a file) into the canonical track table, one Parquet file per hour.

    A live feed is reconnected with backoff (0.5 s doubling to 30 s) whenever
    it drops; a record cut by the drop is counted and nothing else is lost or
    written twice. Bad records are counted by reason and never stop the feed.
    States are on disk within seconds of arriving (part files under
    .STEM.parts/, compacted into the hour's file when the hour is over or the
    run ends; a killed run's parts are recovered by the next run).
    """
    from skyfence.analysis.inputs import parse_time
    from skyfence.live.ingest import ingest

    if duration is not None and duration <= 0:
        raise InputError("--duration must be positive")
    ref = parse_reference(reference)
    log = (lambda _: None) if quiet else (lambda text: stderr.print(text, highlight=False, soft_wrap=True))
    report = ingest(source, out, duration, ref, log, beast_start=parse_time(beast_start, "--beast-start"))
    doc = report.as_dict()
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(doc, indent=2) + "\n")
    if not doc["files"] and not doc["records_received"]:
        raise InputError(f"{source}: nothing received" + (f" ({doc['failed_connects']} failed connection attempts)"
                                                           if doc["failed_connects"] else ""))
    bad = ", ".join(f"{k}: {v:,}" for k, v in doc["bad_by_reason"].items()) or "none"
    rate = f" ({doc['records_per_second']:,.0f}/s)" if doc["records_per_second"] else ""
    copies = (f" ({doc['duplicate_states_removed']:,} repeated states removed)"
              if doc["duplicate_states_removed"] else "")
    stderr.print(f"{doc['records_received']:,} records{rate} -> {doc['states_written']:,} states in "
                 f"{len(doc['files'])} file(s){copies}; bad records: {bad}; drops: {doc['drops']}", highlight=False,
                 soft_wrap=True)
