"""The ``skyfence`` command: one Typer app, a sub-command a module."""

from __future__ import annotations

import sys

import typer

from rich.markup import escape

from skyfence.errors import SkyfenceError
from skyfence.progress import stderr

app = typer.Typer(
    name="skyfence",
    help="Watch shared airspace against a deconfliction agreement: crossings of the line, conflicts "
         "between parties, manoeuvres and incidents, on recorded or live ADS-B.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 2."""
    try:
        app()
    except SkyfenceError as exc:
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
