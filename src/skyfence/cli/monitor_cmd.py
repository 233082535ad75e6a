"""``skyfence monitor``: watch feeds (or replay recordings) against an agreement, live."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import InputError
from skyfence.progress import stderr

TROUBLE = ("cannot connect", "connection lost", "closed by the feed", "unavailable", "retrying", "behind the feed",
           "behind --speed", "resumed from the recording")
"""Log lines that tell of a fault (a feed or the store gone, detection falling behind) or of a restart: shown even
with -q."""


@app.command("monitor")
def monitor_cmd(
    source: list[str] = typer.Option(..., "--source", "-s", help="Repeatable. A feed (sbs://HOST:PORT, beast://, "
                                     "raw://, cot+tcp://, cot+udp:// to listen), a polled JSON endpoint "
                                     "(http://HOST/data/aircraft.json of readsb/tar1090, or an OpenSky-REST "
                                     ".../states/all URL), or a recorded file of any format analyze reads. "
                                     "Several sources make one picture."),
    agreement: str = typer.Option(..., "--agreement", "-a", help="Built-in agreement name or YAML file."),
    store: str = typer.Option(None, "--store", help="Incident store: a SQLite file (path or sqlite:///path) or "
                              "postgresql://USER@HOST/DB. Without it, incidents are only shown."),
    record: Path = typer.Option(None, "--record", help="Also keep every state received here, in ingest's hourly "
                                "Parquet layout."),
    speed: float = typer.Option(1.0, "--speed", help="Replay speed of recorded files: 1 real time, 60 a minute a "
                                "second, 0 as fast as possible."),
    duration: float = typer.Option(None, "--duration", help="Stop after this many seconds of wall time "
                                   "(default: until the files end, or Ctrl-C / SIGTERM for live sources)."),
    tick: float = typer.Option(1.0, "--tick", help="Seconds of data time between detection runs."),
    interval: float = typer.Option(5.0, "--interval", help="Seconds between polls of a JSON endpoint."),
    reference: str = typer.Option(None, "--reference", help="Receiver position LAT,LON for raw Mode S / Beast."),
    summary: Path = typer.Option(None, "--summary", help="Also write the run's figures as JSON here."),
    updates_out: Path = typer.Option(None, "--updates", help="Also write every update, one JSON object a line, "
                                     "as it comes (appended to the file)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No table or progress; only errors and the final line."),
    alert: list[str] = typer.Option(None, "--alert", help="Repeatable. Run the hotline: tell the parties through "
                                    "their contacts' channels (the agreement's) and also here: http(s)://... "
                                    "(signed webhook; secret from $SKYFENCE_WEBHOOK_SECRET), mqtt://HOST:PORT/PREFIX, "
                                    "cot+tcp://HOST:PORT, cot+udp://HOST:PORT, log:FILE, console. Needs --store "
                                    "(the outbox is kept there)."),
    ack_listen: str = typer.Option(None, "--ack-listen", help="HOST:PORT: serve the acknowledgement links that "
                                   "hotline messages carry (POST /ack/TOKEN)."),
    ack_url: str = typer.Option(None, "--ack-url", help="The links' address as the other centres reach the "
                                "--ack-listen server (https://hotline.example.org); default http://HOST:PORT, this "
                                "machine's name when listening on 0.0.0.0."),
    web: str = typer.Option(None, "--web", help="Also serve the web page and API here, [HOST]:PORT such as :8080 "
                            "(needs --store; after recorded data ends the page stays up until Ctrl-C)."),
) -> None:
    """Watch the air picture against an agreement as it happens: crossing warnings, crossings,
    encounters, manoeuvres and interactions, as incident updates written to a store.

    Every tick (1 s of data time by default) the same detectors as analyze run over a rolling window of
    recent states (twice the longest time any detector looks across, for this agreement). Each event
    gives incident updates as soon as it can be known, once per change of state, with an id derived
    from its content (the same recording replayed, or a restart, gives the same incidents). Recorded
    files are replayed on their own clock; when every source is a file the monitor ends when the data
    does (incidents still going on stay open). When the store is unreachable, updates wait in memory
    and are written when it is back. Bad records are counted and never stop the monitor.
    """
    from skyfence.agreement import load_agreement
    from skyfence.cli.ingest_cmd import parse_reference
    from skyfence.live.console import run_watched
    from skyfence.live.monitor import Monitor
    from skyfence.live.sources import open_source

    if duration is not None and not duration > 0:
        raise InputError("--duration must be positive")
    if not (math.isfinite(tick) and tick >= MIN_TICK):
        raise InputError(f"--tick must be a number of seconds, at least {MIN_TICK:g}")
    if not (math.isfinite(speed) and speed >= 0):
        raise InputError("--speed must be 0 (as fast as possible) or more")
    ag = load_agreement(agreement)
    hotline_on = bool(alert or ack_listen or any(c.channels for p in ag.parties for c in p.contacts))
    if (alert or ack_listen) and store is None:
        raise InputError("--alert and --ack-listen need --store: the hotline's outbox is kept in the store")
    if alert:
        from skyfence.hotline.runner import check_alerts

        check_alerts(alert)
    ref = parse_reference(reference)
    sources = [open_source(s, ref, interval) for s in source]
    incident_store = None
    if store is not None:
        from skyfence.incidents.store import IncidentStore

        incident_store = IncidentStore.open(store, quiet_period=ag.thresholds.incidents.quiet_period)
    def log(text: str) -> None:
        if not quiet or any(m in text for m in TROUBLE):  # -q keeps what tells of a fault
            stderr.print(text, highlight=False, soft_wrap=True)

    monitor = Monitor(sources, ag, incident_store, record, tick, speed, duration, log=log)
    hotline = ack = None
    if incident_store is not None and hotline_on:
        hotline, ack = _start_hotline(monitor, incident_store, ag, alert or (), ack_listen, speed, log, ack_url)
    web_server = None
    if web is not None:
        from skyfence.web.server import start_beside_monitor

        web_server = start_beside_monitor(web, incident_store, ag, monitor.picture)
    # appended (a restart adds to what the run before wrote), each line as it comes: a reader tailing the file,
    # or one reading it after a kill -9, has every update the store has
    lines = updates_out.open("a", buffering=1) if updates_out is not None else None
    if lines is not None:
        from skyfence.live.jsonl import update_json

        monitor.subscribe(lambda ups: [lines.write(json.dumps(update_json(u)) + "\n") for u in ups])
    report = None
    try:
        report = run_watched(monitor, quiet, stderr)
        if web_server is not None and not monitor.stop_requested and monitor.data_ended:  # the page stays up
            from skyfence.web.server import keep_serving

            monitor.picture.ended = True
            keep_serving(web_server)
    finally:
        if web_server is not None:
            web_server.should_exit = True
        if lines is not None:
            lines.close()
        if hotline is not None:
            hotline.stop(drain=10)
            _hotline_line(hotline)
        if ack is not None:
            ack.close()
        # (no report: the run failed, and its error goes on from here)
        in_store = (_incidents_in_store(incident_store, report)
                    if incident_store is not None and report is not None else None)
        if incident_store is not None:
            incident_store.close()
    doc = report.as_dict()
    doc["incidents"] = in_store  # the store's incidents the events went to (events of one aircraft may share one)
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(doc, indent=2) + "\n")
    bad = ", ".join(f"{k}: {v:,}" for k, v in doc["bad_by_reason"].items()) or "none"
    stored = (f"; {doc['store_written']:,} written to the store, {doc['store_changes']:,} change"
              f"{'s' if doc['store_changes'] != 1 else ''} to it" if store else "")
    if doc["store_waiting"]:
        stored += f", {doc['store_waiting']:,} NOT written (store unavailable)"
    if in_store is not None:  # events of the same aircraft within the quiet period are one incident there
        stored += f" ({in_store:,} incident{'s' if in_store != 1 else ''})"
    stderr.print(f"{doc['records_received']:,} records -> {doc['states']:,} states; {doc['detections']:,} detection "
                 f"runs; {doc['updates']:,} updates of {doc['events']:,} events{stored}; bad records: {bad}",
                 highlight=False, soft_wrap=True)
    unreached = [s.name for s in monitor.sources if not s.reached]
    if unreached and len(unreached) == len(monitor.sources):  # a run that watched nothing is not a success
        stderr.print(f"error: no source could be reached in the run: {', '.join(unreached)}", highlight=False,
                     soft_wrap=True)
        raise typer.Exit(1)


MIN_TICK = 0.01  # s: a shorter tick detects nothing new, and a replay at it makes no progress


def _incidents_in_store(store, report) -> int | None:
    """How many incidents of the store the run's events went to (None if the store cannot say now)."""
    from skyfence.errors import SkyfenceError

    try:
        return len({inc.id for i in report.incidents if (inc := store.get(i)) is not None})
    except SkyfenceError:
        return None


def _start_hotline(monitor, store, agreement, alerts, ack_listen, speed, log, ack_url=None):
    """The hotline on the monitor's store. A replay of recordings runs the hotline's rounds at each tick, on
    the data's clock (what a duty officer would have lived through: the same messages however fast the
    replay runs); live feeds on the wall clock, in the hotline's own thread."""
    import time

    from skyfence.hotline.runner import start_hotline

    replay = all(not s.live for s in monitor.sources)  # every source a recording
    clock = None
    if replay:
        data_now = [time.time()]
        monitor.picture.subscribe(lambda now: data_now.__setitem__(0, now.timestamp()))
        clock = lambda: data_now[0]  # noqa: E731
    hotline, ack = start_hotline(store, agreement, alerts, ack_listen, clock, stepping=not replay, ack_url=ack_url)
    if replay:
        monitor.picture.subscribe(lambda now: hotline.round())
    log(f"hotline on {len(hotline.workers)} channel{'s' if len(hotline.workers) != 1 else ''}: "
        + (", ".join(hotline.workers) or "none (contacts without channels and no --alert)")
        + (f"; acknowledgement links on {hotline.ack_base.rstrip('/')}/ack/..." if ack else ""))
    return hotline, ack


def _hotline_line(hotline) -> None:
    """What the hotline sent, and where to (its channels)."""
    from skyfence.hotline.view import end_line

    channels = hotline.channels() if hasattr(hotline, "channels") else ()
    stderr.print(end_line(hotline.engine, channels), highlight=False, soft_wrap=True)
