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

from collections.abc import Callable, Hashable, Sequence

import numba
import numpy as np

from skyfence.detect.ranges import range_rows
from skyfence.parallel import serial_below

Search = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""The search itself on some states (ascending indices): the pairs found among them, as indices into all states."""


class SearchMemo:
    """Each instant's pairs, by its states, for each kind of search (its rules and who may pair).

    Only the instants of a kind's latest search are kept: a window moves on, and an instant it has left is
    not seen again. Instants are matched in bulk: a 64-bit digest of each instant's states finds the candidate
    among those kept, and the states themselves, compared bit for bit, decide (a digest shared by chance costs a
    search, never a wrong pair). One digest per instant in a Python loop took a seventh of a small window's run."""

    def __init__(self) -> None:
        self._kinds: dict[Hashable, _Kept] = {}
        self.searched = 0  # instants searched, over all calls
        self.reused = 0  # instants whose pairs were taken from the memo

    def pairs(self, kind: Hashable, states: np.ndarray | Sequence[np.ndarray], group: np.ndarray, search: Search
              ) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(a, b)`` (``a < b``, indices into the states) of every instant, instant by instant.

        ``states`` holds, row for row, everything the search reads of a state: one array of float64 with a row per
        state, or several (each with a row per state, or one value per state), read as their columns side by side;
        ``group`` numbers the instants. Instants held are not searched again; the others are searched together
        with ``search``."""
        group = np.asarray(group, np.int64)
        order = _by_instant(group)  # each instant's states in their own order
        g = group[order]
        bounds = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True]) if len(g) else np.zeros(1, np.int64)
        blocks = _as_words(states, len(group))  # bit for bit: NaNs compare equal to themselves
        starts, sizes = bounds[:-1], np.diff(bounds)
        with serial_below(len(order)):
            digest = _digests(blocks, order, starts, sizes)
        held = self._kinds.get(kind)
        old = (held.match(digest, blocks, order, starts, sizes) if held is not None
               else np.full(len(sizes), -1, np.int64))
        missing = np.flatnonzero(old < 0)
        # every instant's pairs as ranks within it: (instant, rank a, rank b), by instant
        parts_i, parts_a, parts_b = [], [], []
        hit = np.flatnonzero(old >= 0)
        if len(hit):
            counts = held.pair_start[old[hit] + 1] - held.pair_start[old[hit]]
            at, _ = range_rows(held.pair_start[old[hit]], counts)
            parts_i.append(np.repeat(hit, counts))
            parts_a.append(held.rank_a[at])
            parts_b.append(held.rank_b[at])
        if len(missing):
            sub = np.sort(order[range_rows(starts[missing], sizes[missing])[0]])
            a, b = search(sub)
            where = np.empty(len(order), np.int64)
            where[order] = np.arange(len(order))
            inst = np.searchsorted(bounds, where[a], side="right") - 1
            # a < b keeps its order within an instant: ranks follow the indices
            parts_i.append(inst)
            parts_a.append((where[a] - bounds[inst]).astype(np.int32))
            parts_b.append((where[b] - bounds[inst]).astype(np.int32))
        self.searched += len(missing)
        self.reused += len(hit)
        inst = np.concatenate(parts_i) if parts_i else np.empty(0, np.int64)
        by = np.argsort(inst, kind="stable")  # each instant's pairs in the order its search gave them
        inst = inst[by]
        ra = (np.concatenate(parts_a) if parts_a else np.empty(0, np.int32))[by]
        rb = (np.concatenate(parts_b) if parts_b else np.empty(0, np.int32))[by]
        self._kinds[kind] = _Kept(digest, blocks, order, starts, sizes, ra, rb,
                                  np.searchsorted(inst, np.arange(len(sizes) + 1)).astype(np.int64))
        base = bounds[inst]
        return order[base + ra.astype(np.int64)], order[base + rb.astype(np.int64)]


class _Kept:
    """One kind's instants of the latest search: their digests (and in digest order), their states (the arrays
    searched, as 64-bit words, and the order of the states by instant), and their pairs as ranks within each
    instant (``pair_start``: where each instant's pairs begin)."""

    def __init__(self, digest, blocks, order, starts, sizes, rank_a, rank_b, pair_start) -> None:
        self.by_digest = np.argsort(digest, kind="stable")
        self.sorted_digest = digest[self.by_digest]
        self.blocks, self.order, self.starts, self.sizes = blocks, order, starts, sizes
        self.rank_a, self.rank_b, self.pair_start = rank_a, rank_b, pair_start

    def match(self, digest: np.ndarray, blocks: tuple, order: np.ndarray, starts: np.ndarray,
              sizes: np.ndarray) -> np.ndarray:
        """For each instant, the kept instant with the same states bit for bit (its number), or -1."""
        out = np.full(len(digest), -1, np.int64)
        if len(self.sorted_digest) == 0 or len(digest) == 0 or \
                [b.shape[1] for b in blocks] != [b.shape[1] for b in self.blocks]:
            return out
        at = np.minimum(np.searchsorted(self.sorted_digest, digest), len(self.sorted_digest) - 1)
        cand = self.by_digest[at]
        ok = (self.sorted_digest[at] == digest) & (self.sizes[cand] == sizes)
        k = np.flatnonzero(ok)
        if len(k) == 0:
            return out
        with serial_below(int(sizes[k].sum())):
            same = _same_instants(blocks, order, starts[k], self.blocks, self.order, self.starts[cand[k]], sizes[k])
        k = k[same]
        out[k] = cand[k]
        return out


@numba.njit(cache=True, parallel=True)
def _same_instants(new: tuple, new_order: np.ndarray, new_starts: np.ndarray, old: tuple, old_order: np.ndarray,
                   old_starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Whether each instant's states (``sizes[j]`` of them, from ``new_starts[j]`` in ``new_order``) are bit for
    bit those kept (from ``old_starts[j]`` in ``old_order``): read where they are (gathering them in order first
    copied every state)."""
    same = np.ones(len(sizes), dtype=np.bool_)
    for j in numba.prange(len(sizes)):
        for r in range(sizes[j]):
            a, b = new_order[new_starts[j] + r], old_order[old_starts[j] + r]
            for blk in range(len(new)):
                x, y = new[blk], old[blk]
                for c in range(x.shape[1]):
                    if x[a, c] != y[b, c]:
                        same[j] = False
                        break
                if not same[j]:
                    break
            if not same[j]:
                break
    return same


def _by_instant(group: np.ndarray) -> np.ndarray:
    """The states in order of their instant, each instant's in their own order (a stable sort, counted: the
    instants of a window are a few thousand numbers)."""
    if len(group) == 0:
        return np.empty(0, np.int64)
    lo, hi = int(group.min()), int(group.max())
    if hi - lo > 4 * len(group) + (1 << 16):
        return np.argsort(group, kind="stable")
    return _counted_order(group - lo, hi - lo + 1)


@numba.njit(cache=True)
def _counted_order(key: np.ndarray, k: int) -> np.ndarray:
    at = np.zeros(k + 1, np.int64)
    for i in range(len(key)):
        at[key[i] + 1] += 1
    for j in range(k):
        at[j + 1] += at[j]
    out = np.empty(len(key), np.int64)
    for i in range(len(key)):
        out[at[key[i]]] = i
        at[key[i]] += 1
    return out


def _as_words(states: np.ndarray | Sequence[np.ndarray], n: int) -> tuple[np.ndarray, ...]:
    """The states' arrays as 64-bit words, each a (states, columns) array (views: an array of float64 is copied
    only where it is not one already). The memo keeps them for the next run: they are not to be changed after."""
    parts = [states] if isinstance(states, np.ndarray) else list(states)
    out = []
    for p in parts:
        b = np.require(p, dtype=np.float64, requirements=["C", "W"])  # (one type to the compiled kernels)
        out.append((b if b.ndim == 2 else b.reshape(n, 1)).view(np.uint64))
    return tuple(out)


_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _mix(x):
    """splitmix64's finaliser (wrapping uint64 arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, parallel=True)
def _digests(blocks: tuple, order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A 64-bit digest of each instant's states (``sizes[k]`` of them from ``starts[k]`` in ``order``), in that
    order."""
    out = np.empty(len(sizes), np.uint64)
    for k in numba.prange(len(sizes)):
        h = np.uint64(0)
        for r in range(sizes[k]):
            i = order[starts[k] + r]
            row = np.uint64(0)
            c = np.uint64(0)
            for blk in range(len(blocks)):
                x = blocks[blk]
                for j in range(x.shape[1]):
                    row = _mix((row ^ x[i, j]) * _M1 + c)
                    c += np.uint64(1)
            h += _mix(row ^ (np.uint64(r) * _M2))
        out[k] = _mix(h ^ np.uint64(sizes[k]))
    return out
