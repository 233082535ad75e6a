"""``skyfence replay``: serve a recording as a live feed, to try ``ingest`` and the live tools without a receiver."""

from __future__ import annotations

from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import InputError
from skyfence.progress import stderr

KINDS = ("sbs", "cot", "raw", "beast")


@app.command("replay")
def replay_cmd(
    path: Path = typer.Argument(..., help="A recording: any track file for sbs or cot; raw frames "
                                "(TIMESTAMP,HEX or JSON lines) for raw; a Beast capture for beast."),
    kind: str = typer.Option("sbs", "--as", help=f"Feed to serve: {', '.join(KINDS)}."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(30003, "--port", "-p", min=0, max=65535,
                             help="TCP port to listen on (0: any free one, which it prints)."),
    speed: float = typer.Option(1.0, "--speed", help="Pace by the recording's own times, this many times faster "
                                "(1: as recorded; 60: an hour a minute; 0: as fast as the client reads)."),
    rate: float = typer.Option(None, "--rate", help="Records per second instead of the recording's own pace."),
    repeat: int = typer.Option(1, "--repeat", help="Send the recording this many times."),
) -> None:
    """Serve a recording over TCP as an SBS, CoT, raw-frame or Beast feed, to one client after another.

    Any track file can be served as SBS or CoT (its states are encoded anew); raw frames and Beast can only
    be served from a recording of frames (raw) or a Beast capture (beast): states hold no frames to send.
    """
    from skyfence.live.replay import ReplayServer, record_times, records_from_beast, records_from_states
    from skyfence.sources.formats import detect, read_any
    from skyfence.sources.textio import open_text, read_bytes

    if kind not in KINDS:
        raise InputError(f"--as {kind!r}: expected one of {', '.join(KINDS)}")
    if speed < 0:
        raise InputError("--speed must be 0 (as fast as possible) or more")
    if rate is not None and rate <= 0:
        raise InputError("--rate must be a positive number of records per second")
    if kind == "beast":
        if detect(path) != "beast":
            raise InputError(f"{path}: Beast replay needs a Beast capture, not a {detect(path)} file "
                             "(serve states --as sbs or --as cot)")
        records = records_from_beast(read_bytes(path))
    elif kind == "raw":
        if detect(path) != "frames":
            raise InputError(f"{path}: raw replay needs a file of timestamped frames, not a {detect(path)} file "
                             "(serve states --as sbs or --as cot)")
        with open_text(path) as f:
            records = [line.encode() if line.endswith("\n") else (line + "\n").encode() for line in f if line.strip()]
    else:
        states, _ = read_any(path)
        records = records_from_states(states.sort("time"), kind)
    if not records:
        raise InputError(f"{path}: nothing to replay")
    try:
        paced = rate is None and speed > 0
        server = ReplayServer(records, host=host, port=port, rate=rate, repeat=repeat,
                              times=record_times(records, kind) if paced else None, speed=speed if paced else None)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    pace = (f"at {rate:g} records/s" if rate else f"at {speed:g}x the recording's pace" if speed > 0
            else "as fast as the client reads")
    stderr.print(f"serving {len(records):,} records as {kind} on {host}:{server.port}, {pace} (Ctrl-C to stop)",
                 highlight=False)
    server.serve()
    stderr.print(f"sent everything to {server.connections} client(s)", highlight=False)
