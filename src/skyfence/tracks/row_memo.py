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

import numpy as np
import polars as pl

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
    if len(b) > 1 and not (b[1:] > b[:-1]).all():  # not sorted by aircraft and time as names sort
        order = np.argsort(b, kind="stable")
        b = b[order]
    pos = np.minimum(np.searchsorted(b, a), len(b) - 1)
    found = b[pos] == a
    return np.where(found, pos if order is None else order[pos], -1).astype(np.int64)


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
        self.computed = 0  # states computed, over all calls
        self.reused = 0  # states taken from the last run

    def start(self, df: pl.DataFrame) -> None:
        """A new run over ``df`` (a cleaned table sorted by aircraft and time, with ``flight_id``)."""
        keys = StateKeys.of(df)
        if self._keys is None or len(self._keys.times) == 0 or len(keys.times) == 0:
            self.prev = np.full(len(keys.times), -1, np.int64)
        else:
            self.prev = rows_before(keys, self._keys)
        self._keys = keys
        self._same_rows = {}
        self._kept, self._fresh = self._fresh, {}
        self._flight_prev, self._flight = self._flight, df["flight_id"].to_numpy().astype(np.int64)

    def apply(self, name: str, inputs: Arrays, compute: Callable[[np.ndarray], Arrays],
              rows: np.ndarray | None = None) -> Arrays:
        """``compute(rows)`` (a tuple of arrays, one entry per row) for ``rows`` (all by default), with the last
        run's result for each state whose ``inputs`` (whole-table arrays) are the same. ``name`` says what is
        computed and with which settings."""
        n = len(self.prev)
        sub = np.arange(n) if rows is None else np.asarray(rows, np.int64)
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
        n = len(self.prev)
        everything = np.arange(n)
        same = self._unchanged(name, inputs, everything)
        prev = self.prev
        # the states either side must be the same neighbours as before, within the same flight as before
        link = np.zeros(n, bool)  # state i and the one before it are neighbours now as they were
        if n > 1 and len(self._flight_prev):
            a, b = prev[:-1], prev[1:]
            link[1:] = (a >= 0) & (b == a + 1)
            ok = link[1:]
            link[1:][ok] = self._flight_prev[b[ok]] == self._flight_prev[a[ok]]
        first = np.zeros(n, bool)
        first[starts[:-1]] = True
        last = np.zeros(n, bool)
        last[starts[1:] - 1] = True
        # a flight's first (last) state: its flight began (ended) there before too
        edge_ok = np.ones(n, bool)
        if len(self._flight_prev):
            m = len(self._flight_prev)
            p = prev
            f_ok = first & (p >= 0)
            q = p[f_ok]
            edge_ok[f_ok] = (q == 0) | (self._flight_prev[np.maximum(q - 1, 0)] != self._flight_prev[q])
            l_ok = last & (p >= 0)
            q = p[l_ok]
            edge_ok[l_ok] &= (q == m - 1) | (self._flight_prev[np.minimum(q + 1, m - 1)] != self._flight_prev[q])
        changed = ~same | ~edge_ok
        changed[1:] |= ~link[1:] & ~first[1:]  # a neighbour gone or come between two states
        changed[:-1] |= ~link[1:] & ~first[1:]
        # each state's support: its flight's states within reach, and one more each side
        span = (float(t.max()) - float(t.min()) + 2 * reach + 1.0) if n else 1.0
        flight_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
        key = (t - (t.min() if n else 0.0)) + flight_of * span
        lo = np.maximum(np.searchsorted(key, key - reach, side="left") - 1, starts[flight_of])
        hi = np.minimum(np.searchsorted(key, key + reach, side="right"), starts[flight_of + 1] - 1)
        if back is not None and n:
            lo = np.minimum(lo, back[lo])
        count = np.r_[0, np.cumsum(changed)]
        ok = count[hi + 1] - count[lo] == 0 if n else np.zeros(0, bool)
        return self._merge(name, inputs, everything, ok, compute, whole=True)

    def _unchanged(self, name: str, inputs: Arrays, sub: np.ndarray) -> np.ndarray:
        """Whether each state of ``sub`` was computed in the last run with the same inputs."""
        ok = np.zeros(len(sub), bool)
        kept = self._kept.get(name)
        if kept is None or len(self._flight_prev) == 0:
            return ok
        k_inputs, _, known = kept
        p = self.prev[sub]
        ok = p >= 0
        ok[ok] = known[p[ok]]
        for now, before in zip(inputs, k_inputs):
            ok &= self._same_as_before(now, before)[sub]
        return ok

    def _same_as_before(self, now: np.ndarray, before: np.ndarray) -> np.ndarray:
        """Whether each state's value in ``now`` (a whole-table array) is its value in the last run's ``before``
        (False where it was not there): worked out once a run for each pair of arrays, however many results read
        them (the projected positions are compared once, not once per area and question)."""
        key = (id(now), id(before))
        hit = self._same_rows.get(key)
        if hit is not None and hit[0] is now and hit[1] is before:
            return hit[2]
        p = self.prev
        same = p >= 0
        idx = np.flatnonzero(same)
        same[idx] = _same(now[idx], before[p[idx]])
        self._same_rows[key] = (now, before, same)  # the arrays held, so that their ids stay theirs
        return same

    def _merge(self, name: str, inputs: Arrays, sub: np.ndarray, ok: np.ndarray,
               compute: Callable[[np.ndarray], Arrays], whole: bool = False) -> Arrays:
        """The results for ``sub`` (``whole``: every state, in order): the last run's where ``ok``, computed
        where not."""
        n = len(self.prev)
        fresh, reuse = sub[~ok], sub[ok]
        got = compute(fresh)
        got = got if isinstance(got, tuple) else (got,)
        have = self._fresh.get(name)
        kept = self._kept.get(name)
        # every state at once: the last run's results gathered in one pass, the fresh ones written over below
        gathered = bool(whole and have is None and kept is not None and len(kept[2]) and n)
        if gathered:
            outs = tuple(before.take(np.maximum(self.prev, 0)) for before in kept[1])
            known = np.zeros(n, bool)
        elif have is None:
            outs = tuple(np.empty(n, dtype=g.dtype) for g in got)
            known = np.zeros(n, bool)
        else:
            _, outs, known = have
        for k, g in enumerate(got):
            if len(reuse) and not gathered:
                outs[k][reuse] = kept[1][k][self.prev[reuse]]
            outs[k][fresh] = g
        known[sub] = True
        self._fresh[name] = (inputs, outs, known)
        self.computed += len(fresh)
        self.reused += len(reuse)
        return tuple(o.copy() for o in outs) if whole else tuple(o[sub] for o in outs)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal, NaN equal to NaN."""
    eq = a == b
    if a.dtype.kind == "f":
        eq |= np.isnan(a) & np.isnan(b)
    return eq
