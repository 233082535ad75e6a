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
    """The rule of :func:`position_jumps`, row by row, over every row: the main segment and the main rows around
    a row from the rows within the horizon of it; a long stretch counted from its start up to the horizon."""
    n = len(t)
    seg = _segments_plainly(t, lat, lon)
    bad = np.zeros(n, bool)
    if len(set(seg)) < 2:
        return bad
    for p in range(n):
        known = [q for q in range(n) if t[q] <= t[p] + horizon]
        near = [q for q in known if t[q] >= t[p] - horizon]
        counts = {s: sum(seg[q] == s for q in near) for s in set(seg[q] for q in near)}
        main = min(counts, key=lambda s: (-counts[s], s != seg[p], s))
        if seg[p] == main:
            continue
        before = max((q for q in near if q < p and seg[q] == main), default=None)
        after = min((q for q in near if q > p and seg[q] == main), default=None)
        stretch = [r for r in near if seg[r] == seg[p] and (before is None or r > before)
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


def test_a_stray_report_after_a_discontinuity_does_not_take_the_track_before_it_away():
    """Review: the reported track shifts 20 km once (two aircraft on one address, a new position source), and a
    garbled report 90 km away five minutes later is reachable from the old side after so long. Counted over the
    whole track the old side was still the main one, the stray joined it, and the 300 genuine reports in between
    were dropped as an excursion. Counted around each report, only the stray goes (and the one report at the
    discontinuity that cannot tell)."""
    t = np.arange(2400.0)
    lon = 40.0 + 250.0 * t / 91_000.0
    lat = np.where(t < 1200, 35.0, 35.18)
    lat[1500] = 36.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert bad[1500] and not bad[1201:1500].any() and not bad[1501:].any() and bad.sum() <= 2
    assert not bad[:1200].any()


def test_many_stray_positions_cost_a_pass_not_a_pass_per_report():
    """Review: a long track pushed out of the segments a report may continue re-checked its whole stretch at
    every report (7 s for 6 h at 2 Hz). The same stretch between the same main reports is judged once."""
    t = np.arange(0.0, 6 * 3600.0, 0.5)
    lon = 40.0 + 250.0 * t / 91_000.0
    lat = np.full(len(t), 35.0)
    mid = len(t) // 2
    lat[mid:mid + 4] = [35.3, 35.6, 35.9, 36.2]  # four strays in two seconds
    plausibility.position_jumps(np.array([0, 100]), t[:100], lat[:100], lon[:100], SPEED_MAX, MARGIN)  # compiled
    import time

    started = time.perf_counter()
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == list(range(mid, mid + 4))
    assert time.perf_counter() - started < 1.0  # 0.02 s here; quadratic took 7 s


def test_a_track_of_garbage_positions_costs_the_segments_in_reach_not_all_of_them():
    """Review: the main segment at a report was chosen by looking at every segment of the track, so a track of
    garbage (each report a segment of its own: 43,200 of them) took 3 s. Only the segments with reports within
    the horizon can be the main one."""
    t = np.arange(0.0, 6 * 3600.0, 0.5)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(30, 40, len(t)), rng.uniform(30, 40, len(t))
    plausibility.position_jumps(np.array([0, 100]), t[:100], lat[:100], lon[:100], SPEED_MAX, MARGIN)  # compiled
    import time

    started = time.perf_counter()
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert time.perf_counter() - started < 1.0  # 0.13 s here; every segment at every report took 2.9 s
    short = slice(0, 200)  # the plain rule is cubic on such a track
    assert bad[short].tolist() == _jumps_plainly(t[short], lat[short], lon[short], 10, 30.0,
                                                 plausibility.JUMP_HORIZON).tolist()
