"""``skyfence users``: who may use the web page and API, with which role; tokens printed once."""

from __future__ import annotations

import typer

from skyfence.cli.app import app
from skyfence.cli.serve_cmd import STORE_HELP
from skyfence.progress import notes as err, out_console

out = out_console(soft_wrap=True)
users_app = typer.Typer(name="users", no_args_is_help=True, add_completion=False,
                        help="Users of the web page and API (kept in the incident store): add one and print its "
                             "token, list them, remove one.")
app.add_typer(users_app, name="users")


def _store(url: str, create: bool = False):
    """The users of the store at ``url``; a store file that is not there is refused (a misspelt path), except
    when adding the first user of a new store."""
    from skyfence.incidents import IncidentStore
    from skyfence.web.users import Users

    return Users(IncidentStore.open(url, create=create).engine)


@users_app.command("add")
def add(name: str = typer.Argument(..., help="User name (letters, digits, _.@-)."),
        role: str = typer.Option(..., "--role", "-r", help="viewer (reads), officer (acknowledges and comments on "
                                 "its party's incidents), admin (everything)."),
        party: str = typer.Option(None, "--party", "-p", help="The party an officer acts for (a party id of the "
                                  "agreement)."),
        agreement: str = typer.Option(None, "--agreement", "-a", help="Check --party against this agreement "
                                      "(built-in name or YAML file); without it, against the parties of the store's "
                                      "incidents."),
        store: str = typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP)) -> None:
    """Add a user and print its bearer token: the only time it is shown (only a hash is kept)."""
    users = _store(store, create=True)
    if party:
        _check_party(party, agreement, users.engine)
    token = users.add(name, role, party)
    out.print(token, highlight=False)


def _check_party(party: str, agreement: str | None, engine) -> None:
    """A party the agreement lacks is refused (a misspelt party would make an officer who sees nothing); without an
    agreement, one that none of the store's incidents names is said on stderr."""
    from skyfence.errors import InputError

    if agreement is not None:
        from skyfence.agreement import load_agreement

        known = [p.id for p in load_agreement(agreement).parties]
        if party not in known:
            raise InputError(f"party {party!r} is not a party of agreement {agreement} ({', '.join(known)})")
        return
    from skyfence.incidents.store import named_parties

    known = named_parties(engine)
    if known and party not in known:
        err.print(f"[yellow]note:[/] no incident in this store names party {party!r} (they name "
                  f"{', '.join(known)}); give --agreement to check it against the agreement", highlight=False)


@users_app.command("list")
def list_(store: str = typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP)) -> None:
    """List the users: name, role, party."""
    for u in _store(store).list():
        out.print(f"{u.name}\t{u.role}\t{u.party or ''}", highlight=False)


@users_app.command("remove")
def remove(name: str = typer.Argument(...),
           store: str = typer.Option("incidents.db", "--store", "-s", envvar="SKYFENCE_STORE", help=STORE_HELP)) -> None:
    """Remove a user (its token stops working at once)."""
    from skyfence.errors import InputError

    if not _store(store).remove(name):
        raise InputError(f"no user {name!r}")
    out.print(f"removed {name}")
