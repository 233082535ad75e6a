"""``skyfence serve``: the web page and its API over an incident store (and a recorded day to replay)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer

from skyfence.cli.app import app
from skyfence.errors import InputError
from skyfence.progress import stderr

STORE_HELP = ("Incident store: a SQLite file (default incidents.db), sqlite:///PATH, or postgresql://USER@HOST/DB. "
              "Also from $SKYFENCE_STORE.")


@app.command("serve")
def serve_cmd(
    store: str = typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP),
    agreement: str = typer.Option("euphrates-2017", "--agreement", "-a",
                                  help="Agreement drawn on the map (built-in name or YAML file)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8080, "--port", "-p", min=1, max=65535, help="TCP port."),
    replay: list[Path] = typer.Option(None, "--replay", help="A recording to replay on the page (any file or folder "
                                      "`analyze` reads, e.g. the monitor's --record folder); repeatable."),
    replay_start: str = typer.Option(None, "--replay-start", help="Where the replay starts (ISO 8601 UTC); "
                                     "default a minute before the recording's first incident, else its start."),
    public: bool = typer.Option(False, "--public", help="Let anyone read without a token (writes still need one)."),
    cors: list[str] = typer.Option(None, "--cors-origin", help="Allow browser pages from this origin to call the "
                                   "API (repeatable; none by default)."),
) -> None:
    """Serve the page (map, aircraft, incidents, replay) and its REST API and websocket.

    Open http://HOST:PORT/ and sign in with a token from `skyfence users add`. The API is
    documented at /docs (served offline) and /openapi.json.
    """
    ctx = build_context(store, agreement, replay, replay_start, public, cors)
    run(ctx, host, port)


def build_context(store: str, agreement: str, replay: list[Path] | None = None, replay_start: str | None = None,
                  public: bool = False, cors: list[str] | None = None, picture=None, create: bool = False):
    """Open the store and the agreement (and load a recording) into a WebContext; errors are one line. A store
    file that is not there is refused (a misspelt path served an empty new store) unless ``create``."""
    from skyfence.agreement import load_agreement
    from skyfence.incidents import IncidentStore
    from skyfence.web import WebContext

    ag = load_agreement(agreement)
    st = IncidentStore.open(store, quiet_period=ag.thresholds.incidents.quiet_period, create=create)
    recording, start = None, None
    if replay:
        from skyfence.web.recording import Recording

        stderr.print(f"loading the recording {', '.join(map(str, replay))} ...")
        recording = Recording.load(replay, ag)
        if not len(recording.t):
            raise InputError("the recording holds no state vectors")
        start = _time(replay_start, "--replay-start") if replay_start else first_incident(st, recording)
    for origin in cors or ():
        if not origin.startswith(("http://", "https://")):
            raise InputError(f"--cors-origin {origin!r}: expected an origin such as https://ops.example.org")
    return WebContext(store=st, agreement=ag, picture=picture, recording=recording, replay_start=start,
                      public=public, cors_origins=tuple(cors or ()))


def first_incident(store, recording) -> float | None:
    """A minute before the first incident of the recording's span (where a replay is worth starting)."""
    lo, hi = recording.start, recording.end
    starts = [i.start_time.timestamp() for i in store.incidents(since=datetime.fromtimestamp(lo, timezone.utc))]
    starts = [t for t in starts if lo <= t <= hi]
    return max(lo, min(starts) - 60) if starts else None


def run(ctx, host: str, port: int) -> None:
    from skyfence.web import create_app
    from skyfence.web.server import listen, serve

    sock = listen(host, port)
    stderr.print(f"skyfence: serving {ctx.mode} on http://{host}:{port}/ (API docs: /docs); Ctrl-C stops")
    serve(create_app(ctx), host, port, sock)


def _time(text: str, option: str) -> float:
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option} {text!r}: give a UTC time such as 2017-11-01T09:00Z") from None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
