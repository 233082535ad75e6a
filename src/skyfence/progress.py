"""Progress on long work, on standard error, quiet when asked or when not on a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

stderr = Console(stderr=True)
PIPED_WIDTH = 160  # columns for output that goes to a file or a pipe (rich's default, 80, squeezes tables)


def out_console(**kw) -> Console:
    """The console for a command's output: the terminal's width, or :data:`PIPED_WIDTH` when piped or logged."""
    import os

    if "COLUMNS" not in os.environ and not sys.stdout.isatty():
        kw.setdefault("width", PIPED_WIDTH)
    return Console(**kw)


notes = out_console(soft_wrap=True, stderr=True)
"""Notes and errors of a command beside its output (stderr, lines never wrapped)."""


class Steps:
    """Named steps of a job, each shown while it runs and ticked when done."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress

    @property
    def shown(self) -> bool:
        """Whether the steps are displayed (a terminal, not quiet)."""
        return self._progress is not None

    @contextmanager
    def step(self, text: str, total: float | None = None) -> Iterator["Steps"]:
        if self._progress is None:
            yield self
            return
        task = self._progress.add_task(text, total=total)
        self._task = task
        try:
            yield self
        finally:
            self._progress.update(task, completed=total if total is not None else 1, total=total or 1)

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)


@contextmanager
def steps(enabled: bool = True) -> Iterator[Steps]:
    """A progress display for a job (nothing shown when disabled or stderr is not a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield Steps(None)
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=stderr, transient=False) as progress:
        yield Steps(progress)
