"""The rolling window of recent cleaned states that detection runs over every tick.

States come in cleaned and final (:class:`skyfence.tracks.clean_fold.CleaningFold` hands each over once its
cleaning can no longer change); the monitor adds the reports not final yet to each run's view itself.

Its length comes from the agreement: twice the longest stretch any detector or cleaning rule looks
across (:func:`skyfence.cluster.archive.context_seconds`). An event that starts in the last half of
the window was decided on as much history as a run over the whole recording gives it, so it is
*trusted*; one starting earlier is either already known or an artefact of the cut. Aircraft in events
still open keep their states back to the event's start (less one context), so a long crossing or orbit
is seen whole; everything else older than the window is dropped, and the cost of a tick stays with the
window and the open events, not with the day.

States may be appended from one thread while another detects on the window: ``append`` only queues a chunk
(a list append, atomic in Python); ``view`` and ``prune``, called by the detecting thread alone, take the
queue in.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from skyfence.tracks.schema import TIME, empty_tracks

OPEN_CAP = 4 * 3600.0  # s: the longest an open event keeps its aircraft's older states


class StateWindow:
    """States kept for detection: chunks appended as they come, pruned as time moves on."""

    def __init__(self, length: float, context: float, tick: float) -> None:
        self.length = length
        self.context = context
        self.tick = tick
        self.detected_until: float | None = None  # the data time of the last detection run (set by prune)
        self.chunks: list[pl.DataFrame] = []
        self._incoming: list[pl.DataFrame] = []
        self.first_time: float | None = None  # the earliest state ever received (Unix s)

    @property
    def rows(self) -> int:
        return sum(c.height for c in list(self.chunks)) + sum(c.height for c in list(self._incoming))

    def saw(self, states: pl.DataFrame) -> None:
        """States received (cleaned later, and appended once final): the earliest sets where the first run reaches
        back from."""
        if states.height == 0:
            return
        t0 = states["time"].min().timestamp()
        self.first_time = t0 if self.first_time is None else min(self.first_time, t0)

    def append(self, states: pl.DataFrame) -> None:
        """Cleaned states, final, ordered by aircraft and time."""
        if states.height == 0:
            return
        self.saw(states)
        self._incoming.append(states)

    def reach(self, now: float) -> float:
        """Where a run up to ``now`` reaches back from: ``now``, or where the last run left off (its time plus a
        tick) when that is earlier, a run further on (detection that fell behind the feed) reaching back as far
        so that an event confirmed between the two is still seen whole; the first run reaches back to the first
        state (a feed that starts with a backlog)."""
        if self.detected_until is None:
            return min(now, self.first_time) if self.first_time is not None else now
        return min(now, self.detected_until + self.tick)

    def trusted_from(self, now: float) -> float:
        """Events starting at or after this time are seen with all the history they need."""
        start = self.first_time if self.first_time is not None else now
        return max(start, self.reach(now) - self.length + self.context)

    def view(self, now: float, keep: dict[str, float]) -> pl.DataFrame:
        """States up to ``now``: the window (back from :meth:`reach`), plus the older states of the aircraft in
        ``keep`` (track id: from when)."""
        df = self._table()
        if df.height == 0:
            return df
        lo = data_time(self.reach(now) - self.length)
        hi = data_time(now)
        if lo <= df["time"].min() and df["time"].max() <= hi:
            return df  # pruned up to the run before: nothing to cut, and no copy
        recent = (pl.col("time") >= lo) & (pl.col("time") <= hi)
        if keep:
            df = df.join(_kept_from(keep, now), on="track_id", how="left", maintain_order="left")
            df = df.filter(recent | ((pl.col("time") >= pl.col("_from")) & (pl.col("time") <= hi))).drop("_from")
        else:
            df = df.filter(recent)
        return df

    def prune(self, now: float, keep: dict[str, float]) -> None:
        """After a detection run up to ``now``: drop what no later run can need."""
        self.detected_until = now
        df = self._table()
        if df.height == 0:
            return
        oldest = now - self.length
        if keep:
            oldest = min(oldest, max(min(keep.values()), now - OPEN_CAP))
        if df["time"].min().timestamp() >= oldest:
            return
        lo = data_time(now - self.length)
        if keep:
            df = df.join(_kept_from(keep, now), on="track_id", how="left", maintain_order="left")
            df = df.filter((pl.col("time") >= lo) | (pl.col("time") >= pl.col("_from"))).drop("_from")
        else:
            df = df.filter(pl.col("time") >= lo)
        self.chunks = [df] if df.height else []

    def _table(self) -> pl.DataFrame:
        """The states held, as one table ordered by aircraft and time (each chunk that came merged in: the window
        is millions of states and a chunk a second of them, and sorting the whole again cost more than cleaning)."""
        while self._incoming:
            self.chunks.append(self._incoming.pop(0))
        if not self.chunks:
            return empty_tracks()
        table = self.chunks[0]
        for chunk in self.chunks[1:]:
            table = merged(table, chunk)
        self.chunks = [table]
        return table


def detection_view(window: StateWindow, provisional: pl.DataFrame, now: float, keep: dict[str, float],
                   flight_gap: float) -> pl.DataFrame:
    """What a detection run takes: the window's final states up to ``now`` (and the older ones of ``keep``) with
    the states whose cleaning is not final yet, ordered by aircraft and time, flights numbered."""
    from skyfence.tracks.clean import assign_flights

    return assign_flights(merged(window.view(now, keep), provisional), flight_gap)


def merged(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Two tables of states, each ordered by aircraft and time, as one (a merge: each is read once)."""
    if a.height == 0 or b.height == 0:
        return b if a.height == 0 else a
    if b.schema != a.schema:
        b = b.select(pl.col(c).cast(t) for c, t in a.schema.items())
    return a.merge_sorted(b, key=["track_id", "time"])


def _kept_from(keep: dict[str, float], now: float) -> pl.DataFrame:
    """Each kept aircraft and the time from which its states are kept (at most ``OPEN_CAP`` back)."""
    return pl.DataFrame({"track_id": list(keep), "_from": [data_time(max(v, now - OPEN_CAP)) for v in keep.values()]},
                        schema={"track_id": pl.String, "_from": TIME})


def data_time(seconds: float):
    """Unix seconds as a UTC time, to the microsecond below (the states' own resolution)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(float(np.floor(seconds * 1e6) / 1e6), timezone.utc)
