"""An archive of track files, and the periods of it that cluster tasks own.

An archive is a folder of hourly Parquet files (ingest's ``tracks-YYYYMMDDTHH.parquet``), a glob,
or a Parquet dataset partitioned by hour (``hour=1496300400/part-0.parquet``, as OpenSky's
``state_vectors_data4`` exports). Its files are taken in path order, which for these layouts is
time order. Which file holds which times is not assumed from the names: the first pass measures each
file's span (:mod:`skyfence.cluster.scan`), so a state filed under the wrong hour still goes to the
task that owns its time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skyfence.agreement.model import Agreement
from skyfence.errors import InputError

TRACK_SUFFIXES = (".parquet", ".pq")
HOUR = 3600.0


def archive_files(specs: Iterable[str | Path]) -> list[Path]:
    """The track files of each argument, in order, each once: as ``analyze`` takes them
    (:func:`skyfence.analysis.inputs.expand`: files, folders, glob patterns), and a folder partitioned by
    hour (sub-folders named ``key=value``) searched down for its Parquet files in path order. Names that
    begin with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``) are not track files."""
    from skyfence.analysis.inputs import expand

    files: list[Path] = []
    for spec in specs:
        path = Path(str(spec))
        if _partitioned(path):
            files += sorted(f for f in path.rglob("*") if f.suffix.lower() in TRACK_SUFFIXES and f.is_file()
                            and not any(p.startswith((".", "_")) for p in f.relative_to(path).parts))
        else:
            files += [f for f in expand([spec]) if not f.name.startswith((".", "_")) or f == path]
    if not files:
        raise InputError(f"{', '.join(map(str, specs))}: no track files")
    return list(dict.fromkeys(files))


def _partitioned(path: Path) -> bool:
    """A folder of ``key=value`` sub-folders (a dataset partitioned by hour)."""
    try:
        return path.is_dir() and any(p.is_dir() and "=" in p.name for p in path.iterdir())
    except OSError:
        return False


@dataclass(frozen=True)
class Period:
    """The times one task owns, ``[start, end)`` in Unix seconds (whole UTC hours)."""

    start: float
    end: float

    def label(self) -> str:
        from datetime import datetime, timezone

        fmt = "%Y-%m-%dT%H:%M"
        a = datetime.fromtimestamp(self.start, timezone.utc).strftime(fmt)
        b = datetime.fromtimestamp(self.end, timezone.utc).strftime(fmt)
        return f"{a}Z/{b}Z"


def plan_periods(spans: Sequence[tuple[float, float]], hours_per_task: int) -> list[Period]:
    """Periods of ``hours_per_task`` whole UTC hours (blocks aligned to the Unix epoch, so to UTC midnight
    when the size divides a day) that hold part of a file span ``(first, last)`` (state times, Unix s)."""
    if hours_per_task < 1:
        raise InputError("--hours-per-task must be at least 1")
    size = hours_per_task * HOUR
    blocks: set[int] = set()
    for first, last in spans:
        blocks.update(range(math.floor(first / size), math.floor(last / size) + 1))
    return [Period(b * size, (b + 1) * size) for b in sorted(blocks)]


TASK_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)  # task sizes that divide a day, so that tasks end at UTC midnight
TASK_STATES = 1_000_000
"""A task's states, halos included, at most, when its size is chosen from the archive: about 4 GB of peak memory
in its worker (measured on the cluster benchmark's archive: 1.1 GB once the kernels are loaded, a task of
460,000 states peaked at 2.2 GB, tasks of 4 hours, some 890,000 states, at 4.0 GB)."""
TASKS_PER_WORKER = 4  # at least, when the size is chosen: short tasks at the end even out the workers' loads


def task_hours(spans: Sequence[tuple[float, float]], states: int, workers: int, halo: float) -> int:
    """Hours per task for an archive (file spans ``(first, last)``, Unix s, holding ``states`` in all), when not
    given: the largest of :data:`TASK_HOURS` whose tasks, halos included, hold at most :data:`TASK_STATES` states
    at the archive's mean rate and still give every one of ``workers`` :data:`TASKS_PER_WORKER` tasks; 1 if none
    does. Longer tasks analyse fewer states twice (a halo is read by two tasks); memory grows with them."""
    hours = len(plan_periods(spans, 1))
    if not hours:
        return 1
    rate = states / hours
    fits = [h for h in TASK_HOURS if rate * (h + 2 * halo / HOUR) <= TASK_STATES
            and len(plan_periods(spans, h)) >= TASKS_PER_WORKER * workers]
    return max(fits, default=1)


def context_seconds(agreement: Agreement) -> float:
    """The longest stretch of time any detector or cleaning rule looks across, for this agreement: the
    flight gap, the loiter window (plus its minute grid), the intercept's 10-minute look back at the turn
    onto the target, how far ahead a position jump is judged (two contests), shadowing's duration, the merge
    gaps."""
    from skyfence.tracks.plausibility import JUMP_HORIZON

    th = agreement.thresholds
    return max(th.crossing.flight_gap, th.manoeuvres.loiter_window + 60.0, 600.0, 2 * JUMP_HORIZON,
               th.manoeuvres.shadow_duration, th.crossing.warning_lookahead, 120.0)


def default_halo(agreement: Agreement) -> float:
    """The halo read on each side of a task's period: twice the longest context, at least 30 minutes."""
    return max(1800.0, 2.0 * context_seconds(agreement))
