"""The pairs each instant's search found, kept from one detection run to the next.

The live monitor runs the detectors every tick over a window that has moved on by a tick: nearly every
instant in it is one the last run searched already. An instant's pairs depend on that instant's states alone
(instants never pair), so an instant whose states are the same as when it was searched (the same aircraft
in the same order, with the same positions, velocities, altitudes, vertical rates and party codes) has the
same pairs. :class:`SearchMemo` keeps each instant's pairs under a digest of those states, and
:func:`skyfence.detect.conflicts.find_conflicts` searches only the instants it does not hold: in a window
moved on by a tick, the newest ones and any whose states changed (a report cleaned away, a new aircraft).
It is exact by construction: a different state is a different digest. ``analyze`` runs once and keeps none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

import numpy as np

from skyfence.detect.ranges import range_rows

Search = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""The search itself on some states (ascending indices): the pairs found among them, as indices into all states."""


class SearchMemo:
    """Each instant's pairs, by a digest of its states, for each kind of search (its rules and who may pair).

    Only the instants of a kind's latest search are kept: a window moves on, and an instant it has left is
    not seen again."""

    def __init__(self) -> None:
        self._kinds: dict[Hashable, dict[bytes, np.ndarray]] = {}
        self.searched = 0  # instants searched, over all calls
        self.reused = 0  # instants whose pairs were taken from the memo

    def pairs(self, kind: Hashable, states: np.ndarray, group: np.ndarray, search: Search
              ) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(a, b)`` (``a < b``, indices into ``states``) of every instant, instant by instant.

        ``states`` holds, row for row, everything the search reads of a state (one row of float64 per state);
        ``group`` numbers the instants. Instants held are not searched again; the others are searched together
        with ``search``."""
        order = np.argsort(group, kind="stable")  # each instant's states in their own order
        g = group[order]
        bounds = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True]) if len(g) else np.zeros(1, np.int64)
        rows = np.ascontiguousarray(np.take(states, order, axis=0))
        held = self._kinds.get(kind, {})
        keys, cached = [], []
        for s, e in zip(bounds[:-1], bounds[1:]):
            key = hashlib.blake2b(rows[s:e].tobytes(), digest_size=16).digest()
            keys.append(key)
            cached.append(held.get(key))
        missing = [k for k, c in enumerate(cached) if c is None]
        if missing:
            starts, ends = bounds[:-1][missing], bounds[1:][missing]
            sub = np.sort(order[range_rows(starts, ends - starts)[0]])
            a, b = search(sub)
            # each pair as ranks within its instant (a < b keeps its order there: ranks follow the indices)
            where = np.empty(len(order), np.int64)
            where[order] = np.arange(len(order))
            inst = np.searchsorted(bounds, where[a], side="right") - 1
            ra, rb = where[a] - bounds[inst], where[b] - bounds[inst]
            by = np.argsort(inst, kind="stable")
            inst, ra, rb = inst[by], ra[by], rb[by]
            cut = np.searchsorted(inst, missing)
            cut = np.r_[cut, len(inst)]
            for m, k in enumerate(missing):
                cached[k] = np.stack([ra[cut[m]:cut[m + 1]], rb[cut[m]:cut[m + 1]]]).astype(np.int32)
        self.searched += len(missing)
        self.reused += len(cached) - len(missing)
        self._kinds[kind] = dict(zip(keys, cached))
        if not cached:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        sizes = np.array([c.shape[1] for c in cached], np.int64)
        ranks = np.concatenate(cached, axis=1).astype(np.int64)
        base = np.repeat(bounds[:-1], sizes)
        return order[base + ranks[0]], order[base + ranks[1]]


