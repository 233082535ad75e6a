"""``skyfence hotline``: run the hotline on a store, see its outbox and dead letters, send again."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import typer
from rich.table import Table

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import notes as err, out_console

out = out_console(soft_wrap=True)
hotline_app = typer.Typer(
    name="hotline", no_args_is_help=True, add_completion=False,
    help="The hotline: tell each party about its incidents through its channels and chase acknowledgements. "
         "Run it on a store (`run`; `monitor --alert` runs it too), see what waits or failed (`status`, "
         "`outbox`, `dead`), send again (`resend`), make a webhook secret (`secret`).")
app.add_typer(hotline_app, name="hotline")

STORE_HELP = ("Incident store: a SQLite file (default incidents.db), sqlite:///PATH, or postgresql://USER@HOST/DB. "
              "Also from $SKYFENCE_STORE.")
STATUSES = ("pending", "sent", "dead", "all")


def _store_option():
    return typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP)


def _open(url: str, create: bool = False):
    from skyfence.incidents import IncidentStore

    return IncidentStore.open(url, create=create)


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _rows_json(rows) -> list[dict]:
    return [{"id": r.id, "channel": r.channel, "incident_id": r.incident_id, "party": r.party, "contact": r.contact,
             "type": r.type, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
             "created_at": _when(r.created_at), "sent_at": _when(r.sent_at),
             "next_attempt": _when(r.next_attempt) if r.status == "pending" else None,
             "message": json.loads(r.body).get("message")} for r in rows]


def _print_rows(rows, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(_rows_json(rows), indent=1))
        return
    t = Table(expand=True)
    for col in ("id", "status", "channel", "incident", "party", "type", "tries", "last error", "message"):
        t.add_column(col, overflow="fold")
    for r in _rows_json(rows):
        t.add_row(r["id"], r["status"], r["channel"], r["incident_id"], r["party"], r["type"], str(r["attempts"]),
                  r["last_error"] or "", r["message"] or "")
    out.print(t)
    out.print(f"{len(rows)} message{'s' if len(rows) != 1 else ''}")


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise SkyfenceError(f"--format {fmt!r}: use table or json")


@hotline_app.command("outbox")
def outbox_cmd(store: str = _store_option(),
               status: str = typer.Option("pending", "--status", help=f"Which messages: {', '.join(STATUSES)}."),
               incident: str = typer.Option(None, "--incident", "-i", help="Only this incident's messages."),
               limit: int = typer.Option(200, "--limit", "-n", help="At most this many (oldest first)."),
               fmt: str = typer.Option("table", "--format", "-f", help="table or json.")) -> None:
    """The messages in the outbox: waiting to go (default), sent, dead-lettered, or all."""
    from skyfence.hotline import outbox

    if status not in STATUSES:
        raise SkyfenceError(f"--status {status!r}: use one of {', '.join(STATUSES)}")
    _check_format(fmt)
    with _open(store) as s:
        rows = outbox.listing(s.engine, None if status == "all" else status, incident, limit)
    _print_rows(rows, fmt)


@hotline_app.command("dead")
def dead_cmd(store: str = _store_option(), fmt: str = typer.Option("table", "--format", "-f", help="table or json.")):
    """The dead letters: messages that failed every attempt (kept; `resend` sends them again)."""
    from skyfence.hotline import outbox

    _check_format(fmt)
    with _open(store) as s:
        _print_rows(outbox.listing(s.engine, "dead"), fmt)


@hotline_app.command("resend")
def resend_cmd(ids: list[str] = typer.Argument(None, help="Message ids (see `outbox`/`dead`)."),
               all_dead: bool = typer.Option(False, "--all-dead", help="Every dead-lettered message."),
               store: str = _store_option()) -> None:
    """Put messages back in line under their own ids (dead letters, or sent ones by id). The running hotline
    (`monitor --alert` or `hotline run`) sends them; receivers can drop repeats by id."""
    from skyfence.hotline import outbox

    if not ids and not all_dead:
        raise SkyfenceError("give message ids, or --all-dead")
    with _open(store) as s:
        unknown = sorted(set(ids or ()) - outbox.known_ids(s.engine, list(ids or ())))
        if unknown:  # said before anything is put back (it printed "0 messages back" first)
            raise SkyfenceError(f"no such dead or sent message: {', '.join(unknown)} (see 'skyfence hotline outbox')")
        n = outbox.resend(s.engine, None if all_dead else ids, "dead")
        if ids:
            n += outbox.resend(s.engine, ids, "sent")
        if ids and n == 0:
            raise SkyfenceError(f"{', '.join(ids)}: waiting to be sent already, not dead or sent")
    out.print(f"{n} message{'s' if n != 1 else ''} back in the outbox")


@hotline_app.command("status")
def status_cmd(store: str = _store_option(),
               fmt: str = typer.Option("table", "--format", "-f", help="table or json")) -> None:
    """Per channel: messages waiting, sent and dead, the oldest waiting and the last error; and the
    parties whose acknowledgement is awaited."""
    from skyfence.hotline.view import status

    if fmt not in ("table", "json"):
        raise SkyfenceError(f"--format {fmt!r}: use table or json")
    with _open(store) as s:
        st = status(s.engine)
    if fmt == "json":
        print(json.dumps(st.json(), indent=1))
        return
    t = Table(title="hotline channels", expand=True)
    for col in ("channel", "pending", "sent", "dead", "oldest pending", "last error"):
        t.add_column(col, overflow="fold")
    for c in st.channels:
        age = f"{c.oldest_pending_s:.0f} s" if c.oldest_pending_s is not None else ""
        t.add_row(c.channel, str(c.pending), str(c.sent), str(c.dead), age, c.last_error or "")
    out.print(t)
    a = Table(title="acknowledgements awaited", expand=True)
    for col in ("incident", "party", "contact #", "re-sent", "due (hotline clock, UTC)"):
        a.add_column(col)
    for r in st.awaited:
        a.add_row(r.incident_id, r.party, str(r.contact_number), str(r.resends), _when(r.ack_due))
    out.print(a)


@hotline_app.command("run")
def run_cmd(agreement: str = typer.Option("euphrates-2017", "--agreement", "-a",
                                          help="Agreement (built-in name or YAML file) naming the contacts."),
            alert: list[str] = typer.Option(None, "--alert", help="Also send every message here: http(s)://..., "
                                            "mqtt://HOST:PORT/PREFIX, cot+tcp://HOST:PORT, cot+udp://HOST:PORT, "
                                            "log:FILE, console. Webhook secret from $SKYFENCE_WEBHOOK_SECRET."),
            ack_listen: str = typer.Option(None, "--ack-listen", help="HOST:PORT for the acknowledgement links."),
            ack_url: str = typer.Option(None, "--ack-url", help="The links' address as the other centres reach "
                                        "the --ack-listen server (https://hotline.example.org); default "
                                        "http://HOST:PORT, this machine's name when listening on 0.0.0.0."),
            duration: float = typer.Option(0, "--duration", help="Stop after this many seconds (0: run until "
                                           "interrupted)."),
            store: str = _store_option()) -> None:
    """Run the hotline on a store that another process (`monitor`) writes: follow its changes, send, chase."""
    from skyfence.agreement import load_agreement
    from skyfence.hotline.runner import start_hotline
    from skyfence.hotline.view import end_line
    from skyfence.incidents.errors import StoreError
    from skyfence.stopping import stop_on_signals

    ag = load_agreement(agreement)
    with _open(store, create=True) as s:
        hot, ack = start_hotline(s, ag, alert or (), ack_listen, ack_url=ack_url)
        if ack is not None:
            out.print(f"acknowledgement links on {hot.ack_base.rstrip('/')}/ack/...")
        out.print(f"hotline running on {len(hot.workers)} channel{'s' if len(hot.workers) != 1 else ''}: "
                  + ", ".join(hot.workers))
        stop = threading.Event()

        def on_signal(_signum: int) -> None:
            err.print("stopping: sending what waits to be grouped", highlight=False)
            stop.set()

        try:
            with stop_on_signals(on_signal):
                end = time.time() + duration if duration > 0 else None
                while not stop.wait(0.2) and (end is None or time.time() < end):
                    pass
        finally:
            hot.stop()
            if ack is not None:
                ack.close()
            try:
                err.print(end_line(hot.engine, hot.channels()), highlight=False, soft_wrap=True)
            except StoreError as exc:  # the store went away: say so, and let the error that stopped us show
                err.print(f"hotline: no counts ({exc})", highlight=False, soft_wrap=True)


@hotline_app.command("secret")
def secret_cmd() -> None:
    """Print a new random webhook signing secret (whsec_...): give it to the receiver and set it in
    $SKYFENCE_WEBHOOK_SECRET (or the variable a contact's secret_env names)."""
    from skyfence.hotline.signing import new_secret

    print(new_secret())
