"""Position jumps judged within a horizon: the kernel against the rule written out plainly, and a feed cut
anywhere giving the whole day's answers for the rows it has gone past by the horizon."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.tracks import plausibility
from skyfence.units import KNOT

SPEED_MAX, MARGIN = 1500 * KNOT, 1000.0
reachable = plausibility._reachable.py_func


def _jumps_plainly(t, lat, lon, min_points, min_duration, horizon, settled: list | None = None) -> np.ndarray:
    """The rule of :func:`position_jumps`, written out: along the track, a row continues the most recently
    extended of the established segment and the last four open candidates that can reach it, or begins a
    candidate; a candidate long within the horizon of its first, with more rows there than the established
    segment, takes over once the track has gone past that (or ends), otherwise it goes. ``settled`` gets the
    rows whose answer was final as they came: rows of the established segment, begun more than the horizon
    before, with no candidate open."""
    n = len(t)
    bad = [False] * n
    seg, first, last = [0] * n, [0], [0]
    est, candidates, pending = 0, [], []

    def settle(c, seen):
        f = first[c]
        span = [i for i in range(f, seen) if t[i] <= t[f] + horizon]
        mine = [i for i in span if seg[i] == c]
        if len(mine) <= sum(seg[i] == est for i in span) or len(mine) < min_points \
                or t[mine[-1]] - t[f] < min_duration:
            return est
        own = [i for i in range(f) if seg[i] == est]
        short = len(own) < min_points or t[own[-1]] - t[own[0]] < min_duration
        young = t[f] - t[first[est]] <= horizon and short
        for i in range(seen):
            if seg[i] == est and (i >= f or young):
                bad[i] = True
            elif seg[i] == c:
                bad[i] = False
        return c

    for i in range(1, n):
        while pending and t[first[pending[0]]] + horizon < t[i]:
            c = pending.pop(0)
            est = settle(c, i)
            candidates = [k for k in candidates if k != c]
        order = sorted([est] + candidates, key=lambda k: -last[k])
        found = next((k for k in order if reachable(t, lat, lon, last[k], i, SPEED_MAX, MARGIN)), None)
        if found is None:
            found = len(first)
            first.append(i)
            last.append(i)
            pending.append(found)
        seg[i], last[found] = found, i
        if found == est and not pending and t[i] - t[first[est]] > horizon and settled is not None:
            settled.append(i)
        if found != est:
            bad[i] = True
            candidates = [found] + [k for k in candidates if k != found][:plausibility.SEGMENT_LOOKBACK - 1]
    while pending:
        est = settle(pending.pop(0), n)
    return np.array(bad, dtype=bool)


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
def test_a_feed_cut_anywhere_gives_the_whole_tracks_answers_past_two_horizons(track, cut, min_points, horizon):
    """What a live monitor relies on: a row's answer is final once the feed has a report more than two horizons
    after it, and at once for a row of a settled track with no candidate open."""
    t, lat, lon = track
    cut = min(cut, len(t))
    whole = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN, min_points, 10.0,
                                        horizon)
    part = plausibility.position_jumps(np.array([0, cut]), t[:cut], lat[:cut], lon[:cut], SPEED_MAX, MARGIN,
                                       min_points, 10.0, horizon)
    final = t[:cut] + 2 * horizon < t[cut - 1]
    settled = []
    _jumps_plainly(t, lat, lon, min_points, 10.0, horizon, settled)
    final[[i for i in settled if i < cut]] = True
    assert part[final].tolist() == whole[:cut][final].tolist()
    if cut == len(t):
        assert part.tolist() == whole.tolist()


def test_a_track_broken_up_by_more_stray_positions_than_it_looks_back_over_is_kept_whole():
    """Four stray positions from four places in four seconds: four candidates, as many as a position may
    continue. The established track is looked at beside them whatever their number, so the true track's next
    reports continue it; the strays go."""
    t = np.arange(16.0)
    lat = np.r_[35.0, 35.3, 35.6, 35.9, 36.2, np.full(11, 35.0)]
    lon = 40.0 + 250.0 * t / 91_000.0
    bad = plausibility.position_jumps(np.array([0, 16]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [1, 2, 3, 4]
    assert bad.tolist() == _jumps_plainly(t, lat, lon, 10, 30.0, plausibility.JUMP_HORIZON).tolist()


def test_a_stray_report_after_a_discontinuity_does_not_take_the_track_before_it_away():
    """Review: the reported track shifts 20 km once (two aircraft on one address, a new position source), and a
    garbled report 90 km away five minutes later is reachable from the old side after so long. A rule counting
    over the whole track kept the old side as the main one, the stray joined it, and the 300 genuine reports in
    between were dropped as an excursion. Here the new side takes over two minutes after the shift, the old side
    stays before it, and only the stray goes."""
    t = np.arange(2400.0)
    lon = 40.0 + 250.0 * t / 91_000.0
    lat = np.where(t < 1200, 35.0, 35.18)
    lat[1500] = 36.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [1500]


def test_many_stray_positions_cost_a_pass_not_a_pass_per_report():
    """Review (of an earlier rule, which re-checked a stretch at every report: 7 s for 6 h at 2 Hz): strays cost
    their contests, each the reports within the horizon."""
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
    assert time.perf_counter() - started < 1.0  # 0.001 s here; the quadratic rule took 7 s


def test_a_track_of_garbage_positions_costs_the_segments_in_reach_not_all_of_them():
    """Review (of an earlier rule, which looked at every segment of the track at every report: 3 s): a track of
    garbage, each report a candidate of its own (43,200 of them), costs each contest the reports within the
    horizon of its start."""
    t = np.arange(0.0, 6 * 3600.0, 0.5)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(30, 40, len(t)), rng.uniform(30, 40, len(t))
    plausibility.position_jumps(np.array([0, 100]), t[:100], lat[:100], lon[:100], SPEED_MAX, MARGIN)  # compiled
    import time

    started = time.perf_counter()
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert time.perf_counter() - started < 1.0  # 0.03 s here; every segment at every report took 2.9 s
    assert bad.mean() > 0.99
    short = slice(0, 600)  # the plain rule is quadratic on such a track
    assert plausibility.position_jumps(np.array([0, 600]), t[short], lat[short], lon[short], SPEED_MAX,
                                       MARGIN).tolist() == _jumps_plainly(t[short], lat[short], lon[short], 10, 30.0,
                                                                          plausibility.JUMP_HORIZON).tolist()
