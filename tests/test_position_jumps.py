"""Position jumps judged within a horizon: the kernel against the rule written out plainly, and a feed cut
anywhere giving the whole day's answers for the rows it has gone past by the horizon."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.tracks import plausibility
from skyfence.units import KNOT

SPEED_MAX, MARGIN = 1500 * KNOT, 1000.0
reachable = plausibility._reachable.py_func


def _segments_plainly(t, lat, lon) -> list[int]:
    """A position continues the most recently extended of the last four segments it can be reached from."""
    seg, last, recent = [], [], []  # recent: segment ids, most recently extended first
    for i in range(len(t)):
        found = next((k for k in recent if reachable(t, lat, lon, last[k], i, SPEED_MAX, MARGIN)), None)
        if found is None:
            found = len(last)
            last.append(i)
        last[found] = i
        seg.append(found)
        recent = [found] + [k for k in recent if k != found][:plausibility.SEGMENT_LOOKBACK - 1]
    return seg


def _jumps_plainly(t, lat, lon, min_points, min_duration, horizon) -> np.ndarray:
    """The rule of :func:`position_jumps`, row by row, over every row."""
    n = len(t)
    seg = _segments_plainly(t, lat, lon)
    bad = np.zeros(n, bool)
    if len(set(seg)) < 2:
        return bad
    for p in range(n):
        known = [q for q in range(n) if t[q] <= t[p] + horizon]
        counts = {s: sum(seg[q] == s for q in known) for s in set(seg[q] for q in known)}
        main = min(counts, key=lambda s: (-counts[s], s))
        if seg[p] == main:
            continue
        before = max((q for q in range(p) if seg[q] == main), default=None)
        after = min((q for q in known if q > p and seg[q] == main), default=None)
        stretch = [r for r in known if seg[r] == seg[p] and (before is None or r > before)
                   and (after is None or r < after)]
        ok = all((before is None or reachable(t, lat, lon, before, r, SPEED_MAX, MARGIN))
                 and (after is None or reachable(t, lat, lon, r, after, SPEED_MAX, MARGIN)) for r in stretch)
        if not ok and (before is None or after is None):
            own = [q for q in known if seg[q] == seg[p]]
            ok = len(own) >= min_points and t[own[-1]] - t[own[0]] >= min_duration
        bad[p] = not ok
    return bad


@st.composite
def jumpy_tracks(draw):
    """An aircraft flying east at 250 m/s whose reports sometimes come from one of a few other places (a
    spoofer, a second aircraft on the same address), for a stretch of reports at a time."""
    n = draw(st.integers(2, 45))
    dt = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 5.0, 20.0, 90.0]), min_size=n, max_size=n)))
    t = np.cumsum(dt)
    place = np.zeros(n, int)
    i = 0
    while i < n:
        run = draw(st.integers(1, 12))
        place[i:i + run] = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5]))
        i += run
    lat = np.full(n, 35.0) + 0.3 * (place % 4)
    lon = 40.0 + 250.0 * t / 91_000.0 + 0.25 * (place >= 3)
    return t, lat, lon


@settings(max_examples=300, deadline=None)
@given(track=jumpy_tracks(), min_points=st.integers(2, 6), min_duration=st.sampled_from([0.0, 10.0, 30.0]),
       horizon=st.sampled_from([15.0, 60.0, 300.0]))
def test_position_jumps_follow_the_rule_row_by_row(track, min_points, min_duration, horizon):
    t, lat, lon = track
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN, min_points,
                                      min_duration, horizon)
    assert bad.tolist() == _jumps_plainly(t, lat, lon, min_points, min_duration, horizon).tolist()


@settings(max_examples=300, deadline=None)
@given(track=jumpy_tracks(), cut=st.integers(1, 44), min_points=st.integers(2, 6),
       horizon=st.sampled_from([15.0, 60.0, 300.0]))
def test_a_feed_cut_anywhere_gives_the_whole_tracks_answers_past_the_horizon(track, cut, min_points, horizon):
    """What a live monitor relies on: a row's answer is final once the feed has a report more than the
    horizon after it."""
    t, lat, lon = track
    cut = min(cut, len(t))
    whole = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN, min_points, 10.0,
                                        horizon)
    part = plausibility.position_jumps(np.array([0, cut]), t[:cut], lat[:cut], lon[:cut], SPEED_MAX, MARGIN,
                                       min_points, 10.0, horizon)
    final = t[:cut] + horizon < t[cut - 1]
    assert part[final].tolist() == whole[:cut][final].tolist()
    if cut == len(t):
        assert part.tolist() == whole.tolist()


def test_a_track_broken_up_by_more_stray_positions_than_it_looks_back_over_is_kept_whole():
    """Four stray positions from four places in four seconds push the true track out of the segments a new
    position may continue, so its next reports start a segment of their own. Its first report still fits
    them (reachable at 1,500 kt), and stays; the strays go."""
    t = np.arange(16.0)
    lat = np.r_[35.0, 35.3, 35.6, 35.9, 36.2, np.full(11, 35.0)]
    lon = 40.0 + 250.0 * t / 91_000.0
    assert _segments_plainly(t, lat, lon) == [0, 1, 2, 3, 4] + [5] * 11
    bad = plausibility.position_jumps(np.array([0, 16]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [1, 2, 3, 4]
    assert bad.tolist() == _jumps_plainly(t, lat, lon, 10, 30.0, plausibility.JUMP_HORIZON).tolist()
