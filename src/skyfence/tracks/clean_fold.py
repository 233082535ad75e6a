"""Cleaning along each track as a fold: reports come in batches, and each batch costs what the reports not yet
final cost, not what the whole track does.

Each step cleans, with the same code as :func:`skyfence.tracks.clean.clean_tracks`, each aircraft's reports from
its *restart* on (a final report from which the rules can start again with the same answers,
:func:`skyfence.tracks.settle.settle`), and hands over:

* the reports whose cleaning became final at this step (kept ones, cleaned), once each: the same rows, with the
  same values, as cleaning the whole feed gives them;
* the others as cleaned on what is present (provisional: a later report may change or drop them), every step.

Reports must come in order of time as far as ``lateness`` allows: a report older than what an earlier step took
as complete (its ``now`` less ``lateness``) comes too late to be cleaned with its track, and is counted
(``late``) and left out.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from skyfence.sources.tabular import ReadReport
from skyfence.tracks import plausibility
from skyfence.tracks.clean import SINCE, Limits, Trace, clean_along
from skyfence.tracks.settle import settle

_DONE = "_done"  # a report of the buffer whose cleaning is final (handed over, or dropped)


class CleaningFold:
    """Cleaning carried from one batch of reports (after :func:`~skyfence.tracks.clean.clean_rows`) to the next."""

    def __init__(self, limits: Limits = Limits(), lateness: float = 0.0) -> None:
        self.limits = limits
        self.lateness = lateness
        self.complete = -math.inf  # every report before it was present at the last step
        self.late = 0  # reports that came after their time was taken as complete
        self._buffer: pl.DataFrame | None = None
        self._idle: pl.DataFrame | None = None  # aircraft whose every report held is final: not cleaned again
        self._incoming: list[pl.DataFrame] = []

    @property
    def rows(self) -> int:
        """Reports held: not final yet, or kept for the rules to start again from."""
        held = sum(b.height for b in (self._buffer, self._idle) if b is not None)
        return held + sum(c.height for c in list(self._incoming))

    def push(self, states: pl.DataFrame) -> None:
        """Queue a batch for the next step (a list append: safe from another thread)."""
        if states.height:
            self._incoming.append(states)

    def step(self, now: float, clock: float | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Clean what came, with every report before ``now - lateness`` taken as present (``clock``, when given and
        earlier, in place of ``now``: the feed's time as more than one aircraft tells it): (the reports final from
        this step on, the provisional ones), each cleaned and ordered by aircraft and time."""
        complete = max(self.complete, min(now, clock if clock is not None else now) - self.lateness)
        table = self._take_in()
        trace = Trace()
        cleaned = clean_along(table, ReadReport(), self.limits, trace)
        ordered = trace.table
        starts = plausibility.group_starts(ordered["track_id"].cast(pl.Categorical).to_physical().to_numpy())
        final, restart = settle(starts, trace, ordered["ground_speed"].is_not_null().to_numpy(), complete,
                                self.limits.jump_horizon)
        done = ordered[_DONE].to_numpy()
        final = final | done  # once handed over, final (a report is never handed over twice)
        kept = np.flatnonzero(trace.kept)
        fresh = final & ~done
        out = cleaned.drop(SINCE, _DONE)
        settled_now, provisional = out.filter(pl.Series(fresh[kept])), out.filter(pl.Series(~final[kept]))
        buffer = _trimmed(ordered, starts, restart, final)
        # an aircraft whose every report is final has nothing to clean until it reports again (one that left the
        # picture, say): set aside, so that a step costs the aircraft reporting, not every one ever seen
        idle = buffer.select(pl.col(_DONE).all().over("track_id")).to_series()
        if idle.any():
            parts = [p for p in (self._idle, buffer.filter(idle)) if p is not None]
            self._idle = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
            buffer = buffer.filter(~idle)
        self._buffer = buffer
        self.complete = complete
        return settled_now, provisional

    def _take_in(self) -> pl.DataFrame:
        """The buffer and the reports queued since the last step, those that come too late left out."""
        frames = []
        while self._incoming:
            frames.append(self._incoming.pop(0))
        if frames:
            new = pl.concat(frames, how="vertical_relaxed")
            early = (new["time"].dt.epoch("us") < int(math.ceil(self.complete * 1e6))).to_numpy() \
                if math.isfinite(self.complete) else np.zeros(new.height, bool)
            if early.any():
                # before what was taken as complete, of an aircraft whose cleaning is final in part: it could
                # change an answer handed over (a new aircraft's, or one with nothing final yet, is taken)
                asked = new.filter(pl.Series(early))["track_id"].unique().implode()
                settled = pl.concat([b.filter(pl.col(_DONE) & pl.col("track_id").is_in(asked)).select("track_id")
                                     for b in (self._buffer, self._idle) if b is not None])["track_id"]
                late = early & new["track_id"].is_in(settled.unique().implode()).to_numpy()
                if late.any():
                    self.late += int(late.sum())
                    new = new.filter(pl.Series(~late))
            new = new.with_columns(pl.lit(np.nan, pl.Float64).alias(SINCE), pl.lit(False).alias(_DONE))
            frames = [new]
            if self._idle is not None:  # the set-aside aircraft that report again are cleaned again
                back = self._idle["track_id"].is_in(new["track_id"].unique().implode())
                if back.any():
                    frames.insert(0, self._idle.filter(back))
                    self._idle = self._idle.filter(~back)
        if self._buffer is not None:
            frames.insert(0, self._buffer)
        if not frames:
            from skyfence.tracks.schema import empty_tracks

            return empty_tracks().with_columns(pl.lit(np.nan, pl.Float64).alias(SINCE), pl.lit(False).alias(_DONE))
        return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]


def _trimmed(ordered: pl.DataFrame, starts: np.ndarray, restart: np.ndarray, final: np.ndarray) -> pl.DataFrame:
    """The buffer for the next step: each aircraft's reports from its restart on (all of them without one), the
    final ones marked, and an aircraft started again marked as settled before its first report."""
    n = ordered.height
    group = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    begin = np.where(restart >= 0, restart, starts[:-1])
    keep = np.arange(n) >= begin[group]
    since = ordered[SINCE].to_numpy().copy()
    since[(restart >= 0)[group]] = -np.inf
    return (ordered.with_columns(pl.Series(_DONE, final), pl.Series(SINCE, since))
            .filter(pl.Series(keep)))
