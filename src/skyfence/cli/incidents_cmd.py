"""``skyfence incidents``: list, show, acknowledge, resolve, comment on and export the incidents in a store."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from skyfence.cli.app import app
from skyfence.errors import SkyfenceError
from skyfence.progress import notes as err, out_console

out = out_console(soft_wrap=True)
incidents_app = typer.Typer(
    name="incidents", no_args_is_help=True, add_completion=False,
    help="The incidents in a store (the one `skyfence monitor` writes): list them, show one with its audit "
         "trail, acknowledge, resolve, comment, export (CSV, JSON, GeoJSON).")
app.add_typer(incidents_app, name="incidents")

STORE_HELP = ("Incident store: a SQLite file (default incidents.db), sqlite:///PATH, or postgresql://USER@HOST/DB. "
              "Also from $SKYFENCE_STORE.")
FORMATS = ("table", "json", "csv")


def _store_option():
    return typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP)


def _open(url: str):
    from skyfence.incidents import IncidentStore

    return IncidentStore.open(url, create=False)


def _since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: a UTC time (2017-11-01T09:00Z), a day (2017-11-01), or a duration back from now (2h, 30 min)."""
    from skyfence.incidents.since import since_time

    return since_time(text, now)


def _select(store, party, kind, status, severity, since, aircraft, limit, offset=0):
    found = store.incidents(party=party or None, kind=kind or None, status=status or None, severity=severity,
                            since=_since(since), aircraft=aircraft, limit=limit, offset=offset)
    if party and not found:  # a misspelt party reads as "nothing happened": say so
        known = store.parties()
        for p in party:
            if known and p not in known:
                err.print(f"[yellow]note:[/] no incident in {store.name} names party {p!r} (they name "
                          f"{', '.join(known)})", highlight=False)
    return found


def _check_format(fmt: str, allowed: tuple[str, ...], option: str = "--format") -> str:
    fmt = fmt.lower()
    if fmt not in allowed:
        raise SkyfenceError(f"{option} must be one of {', '.join(allowed)}, not {fmt!r}")
    return fmt


def _hhmm(t: datetime | None) -> str:
    from skyfence.incidents.model import human

    return human(t)


def _who(inc) -> str:
    return ", ".join(a.callsign or a.track_id for a in inc.aircraft)


def _acks(inc) -> str:
    return ", ".join(f"{p} ({by})" if p != by else by for p, (by, _t) in sorted(inc.acks.items()))


SEVERITY_STYLE = {"nmac": "bold white on red", "loss": "bold red", "deep_crossing": "bold magenta",
                  "crossing": "magenta", "warning": "yellow", "caution": "cyan", "info": "dim"}


def incident_table(incidents, title: str = "") -> Table:
    """The incidents as a console table, newest first."""
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for col in ("id", "kind", "severity", "status", "start (UTC)", "end", "aircraft", "parties", "acknowledged",
                "summary"):  # an id whole on its line, to copy into show or ack; the rest folds
        table.add_column(col, overflow="fold", no_wrap=col == "id", min_width=19 if col == "id" else None)
    for inc in incidents:
        table.add_row(inc.id, inc.kind, f"[{SEVERITY_STYLE.get(inc.severity, '')}]{inc.severity}[/]", inc.status,
                      _hhmm(inc.start_time), _hhmm(inc.end_time)[11:] or ("-" if inc.status == "resolved" else "ongoing"), _who(inc), ", ".join(inc.parties),
                      _acks(inc), inc.summary)
    return table


Party = typer.Option(None, "--party", "-p", help="Only incidents involving this party (repeat for any of several).")
Kind = typer.Option(None, "--kind", "-k", help="crossing, encounter, manoeuvre or interaction (repeat for several).")
StatusOpt = typer.Option(None, "--status", help="open, acknowledged or resolved (repeat for several).")
Severity = typer.Option(None, "--severity", help="This severity or higher: info, caution, warning, crossing, "
                        "deep_crossing, loss, nmac.")
Since = typer.Option(None, "--since", help="Only incidents going on at or after this UTC time (2017-11-01T09:00Z), "
                     "or this long ago (2h, 30 min).")
AircraftOpt = typer.Option(None, "--aircraft", help="Only incidents involving this aircraft (ICAO address or callsign).")
Limit = typer.Option(None, "--limit", "-n", min=1, help="At most this many (the newest).")
Offset = typer.Option(0, "--offset", min=0, help="Skip this many first: with --limit, the next page (newest start "
                      "first, then by id).")


@incidents_app.command("list")
def list_cmd(store: str = _store_option(), party: list[str] = Party, kind: list[str] = Kind,
             status: list[str] = StatusOpt, severity: str = Severity, since: str = Since,
             aircraft: str = AircraftOpt, limit: int = Limit, offset: int = Offset,
             fmt: str = typer.Option("table", "--format", "-f", help="table, json (an array of incidents) or csv.")
             ) -> None:
    """List incidents, newest first, that match every filter given."""
    from skyfence.incidents.export import to_csv, to_json

    fmt = _check_format(fmt, FORMATS)
    with _open(store) as s:
        incidents = _select(s, party, kind, status, severity, since, aircraft, limit, offset)
    if fmt == "json":
        sys.stdout.write(to_json(incidents))
    elif fmt == "csv":
        sys.stdout.write(to_csv(incidents))
    else:
        out.print(incident_table(incidents, f"{len(incidents)} incident(s) in {s.name}"))


@incidents_app.command("show")
def show_cmd(incident: str = typer.Argument(..., help="Incident id (CR-..., EN-..., MA-..., IN-...)."),
             store: str = _store_option(),
             fmt: str = typer.Option("table", "--format", "-f", help="table or json (with the audit trail and track).")
             ) -> None:
    """Show one incident: its fields, acknowledgements, and every change (when, who, what, why)."""
    from skyfence.incidents.errors import UnknownIncident
    from skyfence.incidents.export import to_json

    fmt = _check_format(fmt, ("table", "json"))
    with _open(store) as s:
        inc = s.get(incident)
        if inc is None:
            raise UnknownIncident(f"no incident {incident} in {s.name}")
        audit, track = s.audit(inc.id), s.track(inc.id)
    if fmt == "json":
        sys.stdout.write(json.dumps(json.loads(to_json([inc], lambda _i: audit, lambda _i: track))[0], indent=1) + "\n")
        return
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    rows = [("id", inc.id), ("kind", inc.kind), ("severity", inc.severity), ("status", inc.status),
            ("summary", inc.summary), ("aircraft", "; ".join(
                f"{a.track_id} {a.callsign or ''} ({a.party or 'unknown party'})" for a in inc.aircraft)),
            ("parties", ", ".join(inc.parties)), ("start", _hhmm(inc.start_time)), ("end", _hhmm(inc.end_time) or ("not seen to end (resolved by hand)" if inc.status == "resolved"
                                                  else "ongoing")),
            ("position", f"{inc.lat:.4f} N, {inc.lon:.4f} E" if inc.lat is not None and inc.lon is not None
             else "not known"), ("opened", _hhmm(inc.opened_at)),
            ("acknowledged", "; ".join(f"{p}: {by} at {_hhmm(t)}" for p, (by, t) in sorted(inc.acks.items())) or "no"),
            ("resolved", f"{_hhmm(inc.resolved_at)} by {inc.resolved_by}" if inc.resolved_at else "no"),
            ("quiet until", _hhmm(inc.quiet_until) or "-"), ("track", f"{len(track)} points"),
            ("details", json.dumps(inc.details, default=str))]
    if inc.aliases:
        rows.append(("flare-ups", ", ".join(inc.aliases)))
    for k, v in rows:
        fields.add_row(k, str(v))
    out.print(fields)
    table = Table(title="audit trail", header_style="bold")
    for col in ("#", "time (UTC)", "who", "what", "why"):
        table.add_column(col, overflow="fold")
    for c in audit:
        table.add_row(str(c.seq), _hhmm(c.time), c.who, c.action, c.why)
    out.print(table)


def _by_option():
    return typer.Option(None, "--by", help="Who does it (default: your user name).")


def _by(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name to be found
        raise SkyfenceError("say who you are with --by NAME") from None


@incidents_app.command("ack")
def ack_cmd(incident: str = typer.Argument(..., help="Incident id."), store: str = _store_option(),
            by: str = _by_option(),
            party: str = typer.Option(None, "--party", "-p", help="The party acknowledging (per-party acks)."),
            why: str = typer.Option("", "--why", help="A note kept in the audit trail.")) -> None:
    """Acknowledge an incident (for a party): it becomes acknowledged until its severity rises."""
    who = _by(by)
    with _open(store) as s:
        change = s.acknowledge(incident, by=who, party=party, why=why)
    first_by, first_at = change.incident.acks.get(party or who, (who, None))
    if first_by != who or (first_at is not None and first_at != change.time):
        # the first acknowledgement for a party is the one kept; this one is in the audit trail
        out.print(f"{change.incident_id}: already acknowledged{' for ' + party if party else ''} by {first_by} at "
                  f"{_hhmm(first_at)}; yours is in the audit trail (status {change.incident.status})")
        return
    out.print(f"{change.incident_id}: acknowledged by {change.who}{' for ' + party if party else ''} "
              f"(status {change.incident.status})")


@incidents_app.command("resolve")
def resolve_cmd(incident: str = typer.Argument(..., help="Incident id."), store: str = _store_option(),
                by: str = _by_option(), why: str = typer.Option("", "--why", help="Why (kept in the audit trail).")
                ) -> None:
    """Resolve an incident by hand (it reopens if the event flares up again)."""
    with _open(store) as s:
        change = s.resolve(incident, by=_by(by), why=why)
    out.print(f"{change.incident_id}: resolved by {change.who}")


@incidents_app.command("comment")
def comment_cmd(incident: str = typer.Argument(..., help="Incident id."),
                text: str = typer.Argument(..., help="The comment."), store: str = _store_option(),
                by: str = _by_option()) -> None:
    """Add a comment to an incident's audit trail."""
    with _open(store) as s:
        change = s.comment(incident, by=_by(by), text=text)
    out.print(f"{change.incident_id}: comment #{change.incident.comments} by {change.who}")


@incidents_app.command("export")
def export_cmd(store: str = _store_option(),
               fmt: str = typer.Option(..., "--format", "-f", help="csv (a row per incident), json (incidents with "
                                       "their audit trail and track) or geojson (a point per incident and the "
                                       "track of each aircraft around it, as lon, lat, altitude in m)."),
               out_file: Path = typer.Option(..., "--out", "-o", help="The file to write ('-': standard output)."),
               party: list[str] = Party, kind: list[str] = Kind, status: list[str] = StatusOpt,
               severity: str = Severity, since: str = Since, aircraft: str = AircraftOpt, limit: int = Limit,
               offset: int = Offset) -> None:
    """Export incidents that match the filters, for GIS tools (GeoJSON: QGIS, geojson.io), spreadsheets
    (CSV) or other programs (JSON)."""
    from skyfence.incidents.export import to_csv, to_geojson, to_json

    fmt = _check_format(fmt, ("csv", "json", "geojson"))
    with _open(store) as s:
        incidents = _select(s, party, kind, status, severity, since, aircraft, limit, offset)
        if fmt == "csv":
            text = to_csv(incidents)
        elif fmt == "json":
            text = to_json(incidents, s.audit, s.track)
        else:
            text = json.dumps(to_geojson(incidents, s.track)) + "\n"
    if str(out_file) == "-":  # to stdout, for a pipe; what was done goes to stderr
        sys.stdout.write(text)
        sys.stdout.flush()
        err.print(f"Exported {len(incidents)} incident(s) as {fmt}", highlight=False)
        return
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text)
    except OSError as exc:
        raise SkyfenceError(f"{out_file}: cannot write ({exc.strerror})") from None
    err.print(f"Exported {len(incidents)} incident(s) as {fmt} -> {out_file}", highlight=False)
