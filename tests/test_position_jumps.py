"""Position jumps judged within a horizon: the kernel against the rule written out plainly, and a feed cut
anywhere giving the whole day's answers for the rows it has gone past by the horizon."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfence.tracks import plausibility
from skyfence.units import KNOT

SPEED_MAX, MARGIN = 1500 * KNOT, 1000.0
gap = plausibility._gap.py_func


def _jumps_plainly(t, lat, lon, min_points, min_duration, horizon, settled: list | None = None) -> np.ndarray:
    """The rule of :func:`position_jumps`, written out with each segment's rows as a list: along the track, a
    row joins the nearest segment it can be reached from among the established one and the last four open
    candidates, or begins a candidate; once the track has gone the horizon past a candidate's first row (or ends), the candidate takes
    over if it is long and has more rows than the established segment has from its row in force then, and goes
    otherwise. ``settled`` gets the rows whose answer was final as they came: rows of the established segment,
    begun more than the horizon before, with no candidate open."""
    n = len(t)
    rows = [[0]]  # each segment's rows
    est, candidates, pending, dropped = 0, [], [], set()

    def long(stretch):
        span = t[stretch[-1]] - t[stretch[0]] if stretch else 0.0
        return (len(stretch) >= min_points and span >= min_duration) or (len(stretch) >= 2 and span >= horizon / 2)

    def settle(c):
        f = rows[c][0]
        in_force = max(i for i in rows[est] if i < f)
        theirs = [i for i in rows[est] if i >= in_force]
        if len(rows[c]) <= len(theirs) or not long(rows[c]):
            dropped.update(rows[c])
            return est
        before = [i for i in rows[est] if i < f]
        young = t[f] - t[rows[est][0]] <= horizon and not long(before)
        dropped.update(rows[est] if young else [i for i in rows[est] if i >= f])
        return c

    for i in range(1, n):
        while pending and t[rows[pending[0]][0]] + horizon < t[i]:
            c = pending.pop(0)
            est = settle(c)
            candidates.remove(c) if c in candidates else None
        gaps = {k: gap(t, lat, lon, rows[k][-1], i, SPEED_MAX, MARGIN) for k in [est] + candidates}
        best = min(gaps, key=lambda k: (gaps[k], k != est, candidates.index(k) if k != est else 0))
        if not gaps[best] < np.inf:
            best = len(rows)
            rows.append([])
            pending.append(best)
        elif best == est and not pending and t[i] - t[rows[est][0]] > horizon and settled is not None:
            settled.append(i)
        rows[best].append(i)
        if best != est:
            candidates = [best] + [k for k in candidates if k != best][:plausibility.SEGMENT_LOOKBACK - 1]
    while pending:
        est = settle(pending.pop(0))
    bad = np.zeros(n, dtype=bool)
    bad[sorted(dropped)] = True
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


def _east(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An aircraft flying east at 250 m/s along 35 N."""
    return np.full(len(t), 35.0), 40.0 + 250.0 * t / 91_000.0


def test_two_aircraft_on_one_address_at_the_same_rate_leave_the_established_one():
    """Review: a second aircraft 111 km away reports on the same address, alternating with the first, from 5
    minutes on. Counted from its own first report, the newcomer out-counted the established track by one in every
    contest, and the kept track jumped between the two every two minutes. Counted from the established report in
    force when it began, it does not: the first aircraft is kept throughout, the second goes."""
    t = np.arange(0.0, 1200.0)
    lat, lon = _east(t)
    other = (t >= 300) & (t % 2 == 1)
    lat[other] = 36.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert bad.tolist() == other.tolist()


@pytest.mark.parametrize("every", [8.0, 15.0])
def test_a_stray_on_a_sparse_track_goes_alone(every):
    """Review: on a track reporting every 8 or 15 s, one report 5 km off, 1 s after another. The next true
    report could be reached from the stray as well (at Mach 2.5 in 7 s); joining the segment extended last, it
    took the stray's side, and the stray was kept (8 s) or went with the eight true reports after it (15 s). A
    report joins the nearest segment it can be reached from, the true track."""
    t = np.arange(0.0, 1800.0, every)
    t = np.sort(np.r_[t, t[74] + 1.0])
    lat, lon = _east(t)
    lat[75] += 5_000.0 / 111_195.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [75]


def test_a_garbled_first_report_of_a_sparse_track_goes_alone():
    """Review: the first report of a track reporting every 15 s is 2,000 km off. The true track has eight
    reports in the two minutes of its contest, short of ten, so it never took over, and 45 minutes of it went
    until it could be reached from the garbled report. A stretch over half the horizon counts as long too."""
    t = np.arange(0.0, 7200.0, 15.0)
    lat, lon = _east(t)
    lat[0] += 18.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [0]


def test_a_short_stretch_long_before_a_discontinuity_stays():
    """Nine reports over 16 s, three minutes of silence, then a track 300 km away that no aircraft could have
    reached. The short stretch began long before the new one, so it is not taken for garbage at a track's start:
    which side is true cannot be told, and both stay."""
    t = np.r_[np.arange(0.0, 18.0, 2.0), np.arange(200.0, 800.0)]
    lat, lon = _east(t)
    lat[9:] += 3.0
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert not bad.any()
    assert bad.tolist() == _jumps_plainly(t, lat, lon, 10, 30.0, plausibility.JUMP_HORIZON).tolist()


def test_a_report_without_a_position_goes_alone():
    """Cleaning drops such rows before this rule; called on its own, a row with no position fits no segment."""
    t = np.arange(0.0, 600.0)
    lat, lon = _east(t)
    lat[100] = np.nan
    bad = plausibility.position_jumps(np.array([0, len(t)]), t, lat, lon, SPEED_MAX, MARGIN)
    assert np.flatnonzero(bad).tolist() == [100]


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
