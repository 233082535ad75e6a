"""What the last detection run worked out state by state, reused for the states this run shares with it.

The live monitor detects every tick over a window that has moved on by a tick: nearly every state in it was
in the last run's window too, with the same values. :class:`RowMemo` matches this run's states with the
last run's (by aircraft and time) and, for each per-state computation it is asked for, gives the last run's
result where the state, and every state the result depends on, is the same, and computes the rest:

- :meth:`RowMemo.apply` for a result that depends on the state's own values alone (its projection, whether it
  is inside an area, its distance to the line);
- :meth:`RowMemo.apply_local` for one that depends on the states of its flight within a reach of time around
  it (the kinematics' local fits).

It is exact by construction: a state is taken from the last run only if every input the computation reads is
bit for bit the same. ``analyze`` runs once and keeps none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba as nb
import numpy as np
import polars as pl

from skyfence.order import ascending
Arrays = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class StateKeys:
    """A table's states as (aircraft, time), in row order: the aircraft of each run of rows, the runs' lengths,
    each state's time (µs)."""

    names: np.ndarray
    lengths: np.ndarray
    times: np.ndarray

    @classmethod
    def of(cls, df: pl.DataFrame) -> StateKeys:
        if df.height == 0:
            return cls(np.empty(0, object), np.empty(0, np.int64), np.empty(0, np.int64))
        ids = df["track_id"]
        change = ids.ne_missing(ids.shift(1)).to_numpy().copy()
        change[0] = True  # (a null first id equals the shifted-in null)
        starts = np.flatnonzero(change)
        return cls(ids.gather(starts).to_numpy(), np.diff(np.r_[starts, df.height]).astype(np.int64),
                   df["time"].dt.epoch("us").to_numpy().astype(np.int64))

    def codes(self, t0: int, span: int, names: np.ndarray) -> np.ndarray:
        """One number per state, in the order of (aircraft, time): its aircraft's place in ``names`` (sorted)
        times ``span``, plus its time since ``t0``."""
        place = np.searchsorted(names, self.names.astype(str))
        return np.repeat(place.astype(np.int64), self.lengths) * span + (self.times - t0)


def rows_before(now: StateKeys, before: StateKeys) -> np.ndarray:
    """Each state's row among ``before``'s states (the same aircraft and time), -1 where it is not there. The
    states of each table are distinct (a cleaned table has one state per aircraft and time)."""
    names = np.unique(np.concatenate([now.names, before.names]).astype(str))
    t0 = int(min(now.times.min(), before.times.min()))
    span = int(max(now.times.max(), before.times.max())) - t0 + 1
    if len(names) * span >= 2 ** 62:  # beyond 64-bit numbers: a join
        return _rows_joined(now, before)
    a, b = now.codes(t0, span, names), before.codes(t0, span, names)
    order = None
    if len(b) > 1 and not ascending(b):  # not sorted by aircraft and time as names sort
        order = np.argsort(b, kind="stable")
        b = b[order]
    if ascending(a):  # both in order: one walk along the two
        pos = _walk(a, b)
    else:
        pos = np.minimum(np.searchsorted(b, a), len(b) - 1)
        pos = np.where(b[pos] == a, pos, -1)
    return pos if order is None else np.where(pos >= 0, order[np.maximum(pos, 0)], -1)


@nb.njit(cache=True)
def _walk(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``a`` (strictly ascending), its place in ``b`` (strictly ascending), or -1."""
    out = np.full(len(a), -1, np.int64)
    j = 0
    for i in range(len(a)):
        while j < len(b) and b[j] < a[i]:
            j += 1
        if j == len(b):
            break
        if b[j] == a[i]:
            out[i] = j
    return out


def _rows_joined(now: StateKeys, before: StateKeys) -> np.ndarray:
    def table(k: StateKeys) -> pl.DataFrame:
        return pl.DataFrame({"track_id": np.repeat(k.names.astype(str), k.lengths), "time": k.times})

    matched = table(now).with_row_index("_row").join(table(before).with_row_index("_prev"), on=["track_id", "time"],
                                                     how="left")
    prev = np.full(len(now.times), -1, np.int64)
    prev[matched["_row"].to_numpy()] = matched["_prev"].fill_null(-1).to_numpy()
    return prev


class RowMemo:
    """Per-state results kept from one detection run to the next (call :meth:`start` at each run)."""

    def __init__(self) -> None:
        self._keys: StateKeys | None = None  # the last run's states, in row order
        self._kept: dict[str, tuple[Arrays, Arrays, np.ndarray]] = {}  # name -> inputs, outputs, known
        self._fresh: dict[str, tuple[Arrays, Arrays, np.ndarray]] = {}
        self._flight_prev: np.ndarray = np.empty(0, np.int64)
        self._flight: np.ndarray = np.empty(0, np.int64)
        self._same_rows: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.prev = np.empty(0, np.int64)  # each state's row in the last run, -1 where it was not there
        self._everything = self._prev_at = self.prev
        self.computed = 0  # states computed, over all calls
        self.reused = 0  # states taken from the last run

    def start(self, df: pl.DataFrame) -> None:
        """A new run over ``df`` (a cleaned table sorted by aircraft and time, with ``flight_id``)."""
        keys = StateKeys.of(df)
        if self._keys is None or len(self._keys.times) == 0 or len(keys.times) == 0:
            self.prev = np.full(len(keys.times), -1, np.int64)
        else:
            self.prev = rows_before(keys, self._keys)
        self._everything = np.arange(len(self.prev))  # every state, once a run
        self._prev_at = np.maximum(self.prev, 0)  # a row of the last run for every state, to gather from
        self._keys = keys
        self._same_rows = {}
        self._kept, self._fresh = self._fresh, {}
        self._flight_prev, self._flight = self._flight, df["flight_id"].to_numpy().astype(np.int64)

    def apply(self, name: str, inputs: Arrays, compute: Callable[[np.ndarray], Arrays],
              rows: np.ndarray | None = None) -> Arrays:
        """``compute(rows)`` (a tuple of arrays, one entry per row) for ``rows`` (all by default), with the last
        run's result for each state whose ``inputs`` (whole-table arrays) are the same. ``name`` says what is
        computed and with which settings."""
        sub = self._everything if rows is None else np.asarray(rows, np.int64)
        ok = self._unchanged(name, inputs, sub)
        return self._merge(name, inputs, sub, ok, compute, whole=rows is None)

    def apply_local(self, name: str, inputs: Arrays, t: np.ndarray, starts: np.ndarray, reach: float,
                    compute: Callable[[np.ndarray], Arrays], back: np.ndarray | None = None) -> Arrays:
        """``compute(rows)`` for every state, where a state's result depends on the states of its flight within
        ``reach`` seconds of it and one more on each side: taken from the last run where all of those are the
        same states, in the same flight, with the same ``inputs``. ``t`` and ``starts`` are the table's times and
        flight starts (sorted by flight and time). ``back``: for each state, an earlier state of its flight that
        its value (and so every result that reads it) also depends on (a value carried forward), non-decreasing
        along a flight."""
        everything = self._everything
        same = self._unchanged(name, inputs, everything)
        no_back = np.empty(0, np.int64)
        ok = _local_ok(same, self.prev, self._flight_prev, np.asarray(starts, np.int64), np.asarray(t, np.float64),
                       float(reach), no_back if back is None else np.asarray(back, np.int64))
        return self._merge(name, inputs, everything, ok, compute, whole=True)

    def _unchanged(self, name: str, inputs: Arrays, sub: np.ndarray) -> np.ndarray:
        """Whether each state of ``sub`` was computed in the last run with the same inputs."""
        ok = np.zeros(len(sub), bool)
        kept = self._kept.get(name)
        if kept is None or len(self._flight_prev) == 0:
            return ok
        k_inputs, _, known = kept
        ok = _known_before(self.prev, sub, known)
        for now, before in zip(inputs, k_inputs):
            same = self._same_as_before(now, before)
            ok &= same if len(sub) == len(same) and sub is self._everything else same[sub]
        return ok

    def _same_as_before(self, now: np.ndarray, before: np.ndarray) -> np.ndarray:
        """Whether each state's value in ``now`` (a whole-table array) is its value in the last run's ``before``
        (False where it was not there): worked out once a run for each pair of arrays, however many results read
        them (the projected positions are compared once, not once per area and question)."""
        key = (id(now), id(before))
        hit = self._same_rows.get(key)
        if hit is not None and hit[0] is now and hit[1] is before:
            return hit[2]
        same = _same_rows(now, before, self.prev)
        self._same_rows[key] = (now, before, same)  # the arrays held, so that their ids stay theirs
        return same

    def _merge(self, name: str, inputs: Arrays, sub: np.ndarray, ok: np.ndarray,
               compute: Callable[[np.ndarray], Arrays], whole: bool = False) -> Arrays:
        """The results for ``sub`` (``whole``: every state, in order): the last run's where ``ok``, computed
        where not."""
        n = len(self.prev)
        kept = self._kept.get(name)
        if whole:  # every state, in order: the last run's results gathered in one pass, the fresh ones written over
            fresh = np.flatnonzero(~ok)
            reused = n - len(fresh)
            got = _as_tuple(compute(fresh))
            outs = tuple(before.take(self._prev_at) for before in kept[1]) if reused else \
                tuple(np.empty(n, dtype=g.dtype) for g in got)
            for o, g in zip(outs, got):
                o[fresh] = g
            known = np.ones(n, bool)
        else:
            fresh, reuse = sub[~ok], sub[ok]
            reused = len(reuse)
            got = _as_tuple(compute(fresh))
            have = self._fresh.get(name)
            if have is None:
                outs, known = tuple(np.empty(n, dtype=g.dtype) for g in got), np.zeros(n, bool)
            else:
                _, outs, known = have
            for k, g in enumerate(got):
                if reused:
                    outs[k][reuse] = kept[1][k][self.prev[reuse]]
                outs[k][fresh] = g
            known[sub] = True
        self._fresh[name] = (inputs, outs, known)
        self.computed += len(fresh)
        self.reused += reused
        return tuple(_read_only(o) for o in outs) if whole else tuple(o[sub] for o in outs)


def _as_tuple(got) -> Arrays:
    return got if isinstance(got, tuple) else (got,)


def _read_only(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` that cannot be written through (what the memo keeps for the next run is handed out
    without a copy; a caller that changes a result copies it)."""
    v = a.view()
    v.flags.writeable = False
    return v


@nb.njit(cache=True)
def _same_rows(now: np.ndarray, before: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Whether each ``now[i]`` is ``before[prev[i]]`` (NaN equal to NaN; False where ``prev[i]`` is -1)."""
    out = np.zeros(len(prev), np.bool_)
    for i in range(len(prev)):
        p = prev[i]
        if p >= 0:
            a, b = now[i], before[p]
            out[i] = a == b or (a != a and b != b)
    return out


@nb.njit(cache=True)
def _local_ok(same: np.ndarray, prev: np.ndarray, flight_prev: np.ndarray, starts: np.ndarray, t: np.ndarray,
              reach: float, back: np.ndarray) -> np.ndarray:
    """Whether each state's result can be taken from the last run (:meth:`RowMemo.apply_local`): every state of
    its support (its flight's states within ``reach`` of it, one more each side, and back to ``back`` of the
    first) is ``same``, with the same neighbours in the same flight as before, and the flight began and ended
    where it did."""
    n, m = len(prev), len(flight_prev)
    link = np.zeros(n + 1, np.bool_)  # link[i]: state i and the one before it are neighbours now as they were
    for i in range(1, n):
        a, b = prev[i - 1], prev[i]
        link[i] = m > 0 and a >= 0 and b == a + 1 and flight_prev[b] == flight_prev[a]
    changed = np.zeros(n, np.bool_)
    for f in range(len(starts) - 1):
        s0, e0 = starts[f], starts[f + 1]
        for i in range(s0, e0):
            c = not same[i]
            q = prev[i]
            if q >= 0 and m > 0:  # a flight's first (last) state: its flight began (ended) there before too
                if i == s0 and not (q == 0 or flight_prev[q - 1] != flight_prev[q]):
                    c = True
                if i == e0 - 1 and not (q == m - 1 or flight_prev[q + 1] != flight_prev[q]):
                    c = True
            if i > s0 and not link[i]:  # a neighbour gone or come between two states
                c = True
            if i + 1 < e0 and not link[i + 1]:
                c = True
            changed[i] = c
    count = np.zeros(n + 1, np.int64)
    for i in range(n):
        count[i + 1] = count[i] + changed[i]
    ok = np.zeros(n, np.bool_)
    for f in range(len(starts) - 1):
        s0, e0 = starts[f], starts[f + 1]
        j_lo, j_hi = s0, s0
        for i in range(s0, e0):
            while t[j_lo] < t[i] - reach:
                j_lo += 1
            while j_hi < e0 and t[j_hi] <= t[i] + reach:
                j_hi += 1
            lo, hi = max(j_lo - 1, s0), min(j_hi, e0 - 1)
            if len(back):
                lo = min(lo, back[lo])
            ok[i] = count[hi + 1] - count[lo] == 0
    return ok


@nb.njit(cache=True)
def _known_before(prev: np.ndarray, sub: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Whether each state of ``sub`` was in the last run and its result known there."""
    out = np.zeros(len(sub), np.bool_)
    for k in range(len(sub)):
        p = prev[sub[k]]
        out[k] = p >= 0 and known[p]
    return out
