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
    """States kept for detection, ordered by aircraft and time: a large table, and the chunks that came since it
    was last put together in a small one (a chunk is merged into the small one as it comes, and the small one
    into the large one once it is a sixteenth of it), pruned as time moves on."""

    def __init__(self, length: float, context: float, tick: float) -> None:
        self.length = length
        self.context = context
        self.tick = tick
        self.detected_until: float | None = None  # the data time of the last detection run (set by prune)
        self._large = empty_tracks()
        self._small = empty_tracks()
        self._incoming: list[pl.DataFrame] = []
        self.first_time: float | None = None  # the earliest state ever received (Unix s)

    @property
    def rows(self) -> int:
        return self._large.height + self._small.height + sum(c.height for c in list(self._incoming))

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

    def view(self, now: float, keep: dict[str, float], provisional: pl.DataFrame | None = None) -> pl.DataFrame:
        """States up to ``now``, ordered by aircraft and time: the window (back from :meth:`reach`), plus the older
        states of the aircraft in ``keep`` (track id: from when), and ``provisional`` (ordered, none of them in
        the window) merged in."""
        self._take_in()
        lo = data_time(self.reach(now) - self.length)
        hi = data_time(now)
        small = _cut(self._small, lo, hi, keep, now)
        if provisional is not None:
            small = merged(small, provisional)
        return merged(_cut(self._large, lo, hi, keep, now), small)

    def prune(self, now: float, keep: dict[str, float]) -> None:
        """After a detection run up to ``now``: drop what no later run can need."""
        self.detected_until = now
        self._take_in()
        oldest = now - self.length
        if keep:
            oldest = min(oldest, max(min(keep.values()), now - OPEN_CAP))
        held = [t for t in (self._large, self._small) if t.height]
        if not held or min(t["time"].min() for t in held).timestamp() >= oldest:
            return  # nothing is due to go: left as it is, uncopied
        lo = data_time(now - self.length)
        self._large, self._small = (_cut(t, lo, None, keep, now) for t in (self._large, self._small))

    def _take_in(self) -> None:
        """The chunks that came merged into the small table (the window is millions of states and a chunk a second
        of them: sorting the whole again each run cost more than cleaning), and it into the large one once it is
        a sixteenth of it."""
        while self._incoming:
            self._small = merged(self._small, self._incoming.pop(0))
        if self._small.height * 16 > self._large.height:
            self._large, self._small = merged(self._large, self._small), self._small.clear()


def _cut(df: pl.DataFrame, lo, hi, keep: dict[str, float], now: float) -> pl.DataFrame:
    """The states of ``df`` from ``lo`` to ``hi`` (None: no end), and those of the aircraft in ``keep`` from when
    they are kept."""
    if df.height == 0 or (lo <= df["time"].min() and (hi is None or df["time"].max() <= hi)):
        return df  # nothing to cut, and no copy
    upto = pl.lit(True) if hi is None else pl.col("time") <= hi
    recent = (pl.col("time") >= lo) & upto
    if not keep:
        return df.filter(recent)
    df = df.join(_kept_from(keep, now), on="track_id", how="left", maintain_order="left")
    return df.filter(recent | ((pl.col("time") >= pl.col("_from")) & upto)).drop("_from")


def detection_view(window: StateWindow, provisional: pl.DataFrame, now: float, keep: dict[str, float],
                   flight_gap: float) -> pl.DataFrame:
    """What a detection run takes: the window's final states up to ``now`` (and the older ones of ``keep``) with
    the states whose cleaning is not final yet, ordered by aircraft and time, flights numbered."""
    from skyfence.tracks.clean import assign_flights

    return assign_flights(window.view(now, keep, provisional), flight_gap)


def merged(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Two tables of states, each ordered by aircraft and time, as one: each row's place found from a number
    per row (the aircraft's place among both tables' aircraft, then the time) and the rows gathered once (polars'
    own merge compares the two columns row by row, and took as long as sorting)."""
    if a.height == 0 or b.height == 0:
        return b if a.height == 0 else a
    if b.schema != a.schema:
        b = b.select(pl.col(c).cast(t) for c, t in a.schema.items())
    keys = _merge_keys(a, b)
    if keys is None:
        return pl.concat([a, b]).sort(["track_id", "time"])
    ka, kb = keys
    n, m = a.height, b.height
    at = np.searchsorted(ka, kb, side="right") + np.arange(m)  # where b's rows go
    order = np.empty(n + m, dtype=np.int64)
    from_a = np.ones(n + m, dtype=np.bool_)
    from_a[at] = False
    order[from_a] = np.arange(n)
    order[at] = n + np.arange(m)
    return pl.concat([a, b]).select(pl.all().gather(order))


def _merge_keys(a: pl.DataFrame, b: pl.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """For each row of ``a`` and ``b`` (each ordered by aircraft and time), a number in the same order
    (:meth:`skyfence.tracks.row_memo.StateKeys.codes`: the aircraft's place among both tables' aircraft, then the
    time). None where that does not fit 63 bits or an aircraft is missing."""
    from skyfence.tracks.row_memo import StateKeys

    if a["track_id"].null_count() or b["track_id"].null_count():
        return None
    ka, kb = StateKeys.of(a), StateKeys.of(b)
    names = np.unique(np.concatenate([ka.names, kb.names]).astype(str))
    t0 = int(min(ka.times.min(), kb.times.min()))
    span = int(max(ka.times.max(), kb.times.max())) - t0 + 1
    if len(names) * span >= 2 ** 62:
        return None
    return ka.codes(t0, span, names), kb.codes(t0, span, names)


def _kept_from(keep: dict[str, float], now: float) -> pl.DataFrame:
    """Each kept aircraft and the time from which its states are kept (at most ``OPEN_CAP`` back)."""
    return pl.DataFrame({"track_id": list(keep), "_from": [data_time(max(v, now - OPEN_CAP)) for v in keep.values()]},
                        schema={"track_id": pl.String, "_from": TIME})


def data_time(seconds: float):
    """Unix seconds as a UTC time, to the microsecond below (the states' own resolution)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(float(np.floor(seconds * 1e6) / 1e6), timezone.utc)
