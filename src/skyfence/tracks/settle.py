"""Which of cleaning's answers no later report can change, from what each rule answered (a
:class:`skyfence.tracks.clean.Trace`) and how far the reports are complete: every report before ``complete``
(Unix s) is present, any still to come is at or after it.

What each rule reads after a report, and so when its answer is final:

* a duplicate, a stale position, a stale velocity: nothing after it (at once);
* too slow for its altitude: the next report, up to 20 s on (the speed the positions imply);
* an altitude spike: the next report with an altitude, whether that one is a spike by the first pass (which
  reads the one after it), and so on while they are; up to 60 s on;
* a position jump: final once the track is settled at or after the report (no contest open, the established
  segment older than the horizon: :func:`skyfence.tracks.plausibility.position_contests`), or once no report can
  come before every open contest's horizon has passed;
* the vertical rate, speed and track checks: the reports up to 30 s on, once their own answers are final.

A report is final when its own answers and those of every report before it on its track are. Where cleaning can
start an aircraft again with the same answers (its *restart*, :func:`settle`), the reports before it are no longer
needed: the rules read nothing from before a restart that the restart does not carry.
"""

from __future__ import annotations

import numba
import numpy as np

from skyfence.kernels import as_kernel_array
from skyfence.tracks import clean, consistency, plausibility

SLOW_WINDOW = plausibility.LEG_WINDOW
SPIKE_WINDOW = plausibility.SPIKE_WINDOW
CONSISTENCY = consistency.WINDOW
STALE_VELOCITY = clean.Limits().stale_velocity_window
SPEED_MEMORY = clean.SPEED_MEMORY + 1.0  # s: it counts whole seconds, so a speed 30.9 s old still stands


@numba.njit(cache=True)
def _next_altitude(i: int, b: int, alt: np.ndarray) -> int:
    for j in range(i + 1, b):
        if np.isfinite(alt[j]):
            return j
    return -1


@numba.njit(cache=True)
def _spike_final(i: int, b: int, t: np.ndarray, alt: np.ndarray, first_pass: np.ndarray, complete: float,
                 window: float) -> bool:
    """Whether row ``i``'s spike answer is final: the next altitude it is compared with (the first pass's next,
    and the second's, the next that the first pass did not find a spike) is known, or none can come within the
    window."""
    j = _next_altitude(i, b, alt)
    while True:
        if j < 0:
            return complete > t[i] + window
        if t[j] - t[i] > window:  # this one, and any after it, too far to make a spike of it
            return True
        k = _next_altitude(j, b, alt)
        if k < 0 and not complete > t[j] + window:
            return False  # j's first-pass answer waits for its next altitude
        if not first_pass[j]:
            return True
        j = k


@numba.njit(cache=True)
def _settle(starts, t, duplicate, stale, alt, first_pass, spike, slow_input, slow_alone, jump_input, settled, kept,
            has_speed, complete, horizon):
    n = len(t)
    final = np.zeros(n, dtype=np.bool_)
    restart = np.full(len(starts) - 1, -1, dtype=np.int64)
    for g in range(len(starts) - 1):
        a, end = starts[g], starts[g + 1]
        # only the rows before ``complete`` are known: a report may still come between any two after it
        b = a
        while b < end and t[b] < complete:
            b += 1
        if b == a:
            continue
        # the rules before the position jumps, row by row, then as a prefix
        upstream = np.ones(b - a, dtype=np.bool_)
        nxt = -1  # the next row reaching the too-slow rule
        for i in range(b - 1, a - 1, -1):
            if duplicate[i] or stale[i] or not slow_input[i]:
                continue
            ok = nxt >= 0 or complete > t[i] + SLOW_WINDOW
            if ok and np.isfinite(alt[i]):
                ok = _spike_final(i, b, t, alt, first_pass, complete, SPIKE_WINDOW)
            upstream[i - a] = ok
            nxt = i
        for i in range(a + 1, b):
            upstream[i - a] = upstream[i - a] and upstream[i - a - 1]
        # position jumps: settled at or after the row (its answers up to there final), or no report can come
        # before every contest open has been decided on the rows present
        last_jump = -1
        for i in range(a, b):
            if jump_input[i]:
                last_jump = i
        all_jumps = upstream[b - 1 - a] and (last_jump < 0 or complete > t[last_jump] + horizon)
        plausible = np.zeros(b - a, dtype=np.bool_)
        later = all_jumps
        for i in range(b - 1, a - 1, -1):
            # settled after the last known row may have been told by a row after ``complete`` (contests decided
            # before it): another may still come before that one
            if jump_input[i] and settled[i] and upstream[i - a] and (i < b - 1 or b == end):
                later = True
            plausible[i - a] = upstream[i - a] and (later or not jump_input[i])
        for i in range(a + 1, b):
            plausible[i - a] = plausible[i - a] and plausible[i - a - 1]
        # the consistency checks: the reports up to 30 s on present and final
        q = b  # the first row not plausibly final
        for i in range(a, b):
            if not plausible[i - a]:
                q = i
                break
        for i in range(a, b):
            if not plausible[i - a] or not complete > t[i] + CONSISTENCY:
                break
            if q < b and not t[q] > t[i] + CONSISTENCY:
                break
            final[i] = True
        # a restart: the latest final row kept, settled, with an altitude that is no spike and a reported speed,
        # no stale position within the stale-velocity window before it, and the 30 s before every row not final
        first_open = complete  # the time of the first row not final (final rows are a prefix)
        for i in range(a, b):
            if not final[i]:
                first_open = t[i]
                break
        last_stale = last_speed = last_altitude = -np.inf
        for i in range(a, b):
            if not final[i] or t[i] > first_open - CONSISTENCY:
                break
            if stale[i]:
                last_stale = t[i]
            if (kept[i] and jump_input[i] and settled[i] and not slow_alone[i]
                    and not last_stale > t[i] - STALE_VELOCITY
                    and (has_speed[i] or not last_speed > t[i] - SPEED_MEMORY)
                    and ((np.isfinite(alt[i]) and not spike[i]) or not last_altitude > t[i] - SPIKE_WINDOW)):
                restart[g] = i
            if has_speed[i] and not duplicate[i]:
                last_speed = t[i]
            if np.isfinite(alt[i]) and not first_pass[i]:  # what the first pass compares the next with
                last_altitude = t[i]
    return final, restart


def settle(starts: np.ndarray, trace, has_speed: np.ndarray, complete: float,
           horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``trace.table`` (groups of one aircraft at ``starts``): whether its cleaning is final with the
    reports complete before ``complete``; per aircraft, the row cleaning can start again from (-1: none): the
    latest final row that is kept, settled in its position contests, not too slow had it come first, with no stale
    position within the stale-velocity window before it, a reported ground speed or none for the too-slow rule's
    memory before it, an altitude that is no spike or none for the spike window before it, and at least the
    consistency checks' reach before any row not final.

    Started again there (the rows before it left out, the established segment given as older than the horizon),
    cleaning answers for the rows from it as on the whole track: what those rules read before a row is the row
    before (a duplicate, a stale position), the last reported speed, the last altitude that is no spike, the
    stale positions of the stale-velocity window, the position contests (none open) and the reports of the
    consistency checks' reach, and the restart keeps each of them as it was."""
    n = len(trace.table)
    if n == 0:
        return np.zeros(0, dtype=bool), np.full(max(len(starts) - 1, 0), -1, dtype=np.int64)
    t = trace.table["time"].dt.epoch("us").to_numpy() / 1e6
    return _settle(as_kernel_array(starts, np.int64), t, trace.duplicate, trace.stale, as_kernel_array(trace.spike_input), trace.spike_first, trace.spike,
                   trace.slow_input, trace.slow_alone, trace.jump_input, trace.settled, trace.kept, np.ascontiguousarray(has_speed),
                   float(complete), float(horizon))
