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
    port: int = typer.Option(30003, "--port", "-p", help="TCP port to listen on."),
    rate: float = typer.Option(None, "--rate", help="Records per second (default: as fast as the client reads)."),
    repeat: int = typer.Option(1, "--repeat", help="Send the recording this many times."),
) -> None:
    """Serve a recording over TCP as an SBS, CoT, raw-frame or Beast feed, to one client after another."""
    from skyfence.live.replay import ReplayServer, records_from_beast, records_from_states
    from skyfence.sources.formats import detect, read_any
    from skyfence.sources.textio import open_text, read_bytes

    if kind not in KINDS:
        raise InputError(f"--as {kind!r}: expected one of {', '.join(KINDS)}")
    if kind == "beast":
        records = records_from_beast(read_bytes(path))
    elif kind == "raw":
        if detect(path) != "frames":
            raise InputError(f"{path}: raw replay needs a file of timestamped frames")
        with open_text(path) as f:
            records = [line.encode() if line.endswith("\n") else (line + "\n").encode() for line in f if line.strip()]
    else:
        states, _ = read_any(path)
        records = records_from_states(states.sort("time"), kind)
    if not records:
        raise InputError(f"{path}: nothing to replay")
    try:
        server = ReplayServer(records, host=host, port=port, rate=rate, repeat=repeat)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    stderr.print(f"serving {len(records):,} records as {kind} on {host}:{server.port} (Ctrl-C to stop)",
                 highlight=False)
    server.serve()
    stderr.print(f"sent everything to {server.connections} client(s)", highlight=False)
