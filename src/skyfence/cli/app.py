"""The ``skyfence`` command: one Typer app, a sub-command a module."""

from __future__ import annotations

import inspect
import re
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
    """Entry point: user errors (bad input, and bad options or arguments) become one line on stderr and
    exit status 2."""
    try:  # typer vendors click from 0.20 on
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover
        from click import exceptions as click

    try:
        code = app(standalone_mode=False)
    except SkyfenceError as exc:
        _error(str(exc))
        sys.exit(2)
    except click.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "skyfence"
        _error(f"{exc.format_message()} (see '{where} --help')")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _error(exc.format_message())
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        stderr.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _error(text: str) -> None:
    stderr.print(f"[bold red]error:[/] {escape(' '.join(text.split()))}", highlight=False, soft_wrap=True)


def _flag_shows_no_type() -> None:
    """``--help`` shows no ``<bool>`` beside a flag: a flag takes no value, and the type suggests one."""
    from typer.core import TyperOption

    plain = TyperOption.display_type_rich

    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else plain(self, ctx)

    TyperOption.display_type_rich = display_type_rich


_flag_shows_no_type()


def _reflow(doc: str) -> str:
    """A docstring as help text: each paragraph's lines joined into one (typer keeps the source's line breaks
    after the first paragraph, which the terminal then wraps again: ragged lines), list items kept apart."""
    paragraphs = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        if para.startswith("\b"):
            paragraphs.append(para)
            continue
        lines: list[str] = []
        for line in para.splitlines():
            item = re.match(r"\s*([-*]|\d+\.)\s", line)
            if lines and not item:
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def reflow_help(typer_app: typer.Typer) -> None:
    """Every command's help from its docstring, reflowed (:func:`_reflow`), in ``typer_app`` and its groups."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
