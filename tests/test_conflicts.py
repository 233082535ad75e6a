"""The conflict engine against a brute-force all-pairs reference, geometry against geodesy, and edge cases."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pyproj import Geod

import skyfence
import skyfence.parallel
from skyfence.agreement.model import SeparationThresholds
from skyfence.detect.search_memo import SearchMemo
from skyfence.detect.conflicts import (
    CAUTION, LOSS, NMAC, WARNING, ConflictRules, StateVectors, allowed_pairs, evaluate_pairs, find_conflicts,
)
from skyfence.units import FOOT, NAUTICAL_MILE

GEOD = Geod(ellps="WGS84")
TH = SeparationThresholds()
RULES = ConflictRules.from_thresholds(TH)


def scenario(seed: int, n: int, extent_km: float, lat0: float = 35.0, lon0: float = 40.0):
    rng = np.random.default_rng(seed)
    half = extent_km / 2 / 111.0
    lat = lat0 + rng.uniform(-half, half, n)
    lon = lon0 + rng.uniform(-half, half, n) / np.cos(np.radians(lat0))
    # altitudes on flight levels (some exactly 1000 ft apart, some shared), some off-level, some unknown
    alt = rng.choice(np.arange(100, 400, 10), n) * 100 * FOOT + rng.choice([0.0, 0.0, 25 * FOOT, -50 * FOOT], n)
    alt[rng.random(n) < 0.05] = np.nan
    speed = rng.choice([0.0, 60.0, 150.0, 230.0, 300.0], n) * rng.uniform(0.8, 1.0, n)
    track = rng.uniform(0, 360, n)
    vz = rng.choice([0.0, 0.0, 0.5, 5.0, -10.0, 20.0], n)
    code = rng.integers(0, 3, n)  # two parties and unknown (code 2)
    return lon, lat, alt, speed, track, vz, code


def brute_force(sv, code, allowed, rules, min_level):
    n = len(sv)
    i, j = np.triu_indices(n, k=1)
    keep = allowed[code[i], code[j]]
    figs = evaluate_pairs(sv, i[keep], j[keep], rules)
    return figs.take(figs.level >= min_level)


def as_set(figs):
    return set(zip(figs.a.tolist(), figs.b.tolist(), figs.level.tolist()))


@given(seed=st.integers(0, 10**6), n=st.integers(2, 400), extent=st.sampled_from([20.0, 100.0, 400.0, 1500.0]),
       mode=st.sampled_from(["parties", "unknown", "all"]), min_level=st.sampled_from([CAUTION, WARNING, LOSS, NMAC]),
       lat0=st.sampled_from([0.0, 35.0, 60.0, -45.0]))
def test_engine_finds_exactly_the_brute_force_pairs(seed, n, extent, mode, min_level, lat0):
    lon, lat, alt, speed, track, vz, code = scenario(seed, n, extent, lat0=lat0)
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    allowed = allowed_pairs(2, mode)
    want = brute_force(sv, code, allowed, RULES, min_level)
    for parallel_from in (0, 10**9):  # on numba's worker threads, and on the calling thread alone
        with mock.patch.object(skyfence.parallel, "PARALLEL_FROM", parallel_from):
            got = find_conflicts(sv, RULES, code=code, allowed=allowed, min_level=min_level)
        assert as_set(got) == as_set(want)


def test_small_work_runs_on_the_calling_thread_alone_and_only_there():
    import threading

    import numba

    before = numba.get_num_threads()
    seen = {}

    def other():
        seen["other"] = numba.get_num_threads()

    with skyfence.parallel.serial_below(10, threshold=100):
        assert numba.get_num_threads() == 1
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert numba.get_num_threads() == before and seen["other"] == before
    with skyfence.parallel.serial_below(100, threshold=100):
        assert numba.get_num_threads() == before


@given(seed=st.integers(0, 10**6), n=st.integers(2, 600), instants=st.integers(1, 40), part=st.integers(1, 200))
def test_instants_searched_in_parts_give_the_same_pairs_in_the_same_order(seed, n, instants, part):
    lon, lat, alt, speed, track, vz, code = scenario(seed, n, 100.0)
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    group = np.random.default_rng(seed).integers(0, instants, n) * 7  # unsorted, with gaps between instants
    allowed = allowed_pairs(2, "all")
    whole = find_conflicts(sv, RULES, group=group, code=code, allowed=allowed)
    with mock.patch("skyfence.detect.conflicts.SEARCH_STATES", part):
        parts = find_conflicts(sv, RULES, group=group, code=code, allowed=allowed)
    assert whole.a.tolist() == parts.a.tolist() and whole.b.tolist() == parts.b.tolist()
    assert np.array_equal(whole.level, parts.level)
    assert (group[whole.a] == group[whole.b]).all()


@given(seed=st.integers(0, 10**6), n=st.integers(2, 500), instants=st.integers(1, 30),
       changed=st.floats(0.0, 1.0), mode=st.sampled_from(["parties", "all"]),
       min_level=st.sampled_from([CAUTION, WARNING]))
@example(seed=924704, n=2, instants=2, changed=0.0, mode="parties", min_level=CAUTION)  # one state left: no search
def test_a_memo_of_earlier_searches_gives_the_pairs_of_a_fresh_search(seed, n, instants, changed, mode, min_level):
    """The monitor's next run: the same instants moved on (a few states changed, a few instants gone, new ones)
    searched with the memo of the run before give exactly the pairs and figures of a search without it."""
    rng = np.random.default_rng(seed)
    lon, lat, alt, speed, track, vz, code = scenario(seed, n, 100.0)
    group = rng.integers(0, instants, n)
    allowed = allowed_pairs(2, mode)
    memo = SearchMemo()
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    first = find_conflicts(sv, RULES, group=group, code=code, allowed=allowed, min_level=min_level, memo=memo)
    assert as_set(first) == as_set(find_conflicts(sv, RULES, group=group, code=code, allowed=allowed,
                                                  min_level=min_level))
    # a tick on: the oldest instant gone, a new one, some states moved, an aircraft's party unknown
    keep = group > 0
    lon2, lat2, alt2, speed2, track2, vz2, code2 = (x[keep].copy() for x in (lon, lat, alt, speed, track, vz, code))
    group2 = group[keep]
    moved = rng.random(len(lon2)) < changed * 0.2
    lon2[moved] += 0.01
    climbed = rng.random(len(alt2)) < changed * 0.05
    alt2[climbed] += 300.0
    unknown = rng.random(len(code2)) < changed * 0.05
    code2[unknown] = 2
    touched = set(group[keep][moved | climbed | unknown].tolist())
    kept_instants = set(group[keep].tolist())
    extra = scenario(seed + 1, int(rng.integers(0, 60)), 100.0)
    lon2, lat2, alt2, speed2, track2, vz2, code2 = (np.r_[a, b] for a, b in
                                                   zip((lon2, lat2, alt2, speed2, track2, vz2, code2), extra))
    group2 = np.r_[group2, np.full(len(extra[0]), instants)]
    sv2 = StateVectors.from_arrays(lon2, lat2, alt2, speed2, track2, vz2)
    got = find_conflicts(sv2, RULES, group=group2, code=code2, allowed=allowed, min_level=min_level, memo=memo)
    want = find_conflicts(sv2, RULES, group=group2, code=code2, allowed=allowed, min_level=min_level)
    assert as_set(got) == as_set(want)
    by_pair = {(a, b): k for k, (a, b) in enumerate(zip(want.a.tolist(), want.b.tolist()))}
    k = [by_pair[p] for p in zip(got.a.tolist(), got.b.tolist())]
    for f in ("horizontal", "vertical", "t_cpa", "d_cpa", "v_cpa", "t_los"):
        assert np.array_equal(getattr(got, f), getattr(want, f)[k], equal_nan=True)
    # only what changed was searched again: the instants whose states all stayed came from the memo (a single
    # state is no search at all, so nothing is taken from the memo then)
    if len(lon2) >= 2:
        assert len(kept_instants) - len(touched) <= memo.reused <= len(kept_instants)


@given(seed=st.integers(0, 10**6), n=st.integers(2, 300), instants=st.integers(1, 12),
       digest=st.sampled_from(["constant", "by size"]))
def test_a_digest_shared_by_chance_never_gives_another_instants_pairs(seed, n, instants, digest):
    """The memo finds a kept instant by a 64-bit digest of its states and takes its pairs only if the states are
    the same bit for bit: with every digest the same (or one per instant size), the pairs are still a fresh
    search's, and an instant seen again whole is still taken from the memo when it is the candidate."""
    from skyfence.detect import search_memo

    rng = np.random.default_rng(seed)
    lon, lat, alt, speed, track, vz, code = scenario(seed, n, 60.0)
    group = rng.integers(0, instants, n)
    allowed = allowed_pairs(2, "all")
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    fake = ((lambda blocks, order, starts, sizes: np.zeros(len(sizes), np.uint64)) if digest == "constant"
            else (lambda blocks, order, starts, sizes: sizes.astype(np.uint64)))
    with mock.patch.object(search_memo, "_digests", fake):
        memo = SearchMemo()
        find_conflicts(sv, RULES, group=group, code=code, allowed=allowed, memo=memo)
        lon2 = lon.copy()
        lon2[rng.random(n) < 0.3] += 0.02  # some instants changed, some not
        sv2 = StateVectors.from_arrays(lon2, lat, alt, speed, track, vz)
        got = find_conflicts(sv2, RULES, group=group, code=code, allowed=allowed, memo=memo)
        again = find_conflicts(sv2, RULES, group=group, code=code, allowed=allowed, memo=memo)
    want = find_conflicts(sv2, RULES, group=group, code=code, allowed=allowed)
    assert as_set(got) == as_set(want) == as_set(again)
    assert memo.reused >= 1  # the last search's first candidate matched itself


@given(seed=st.integers(0, 10**6), lookahead=st.sampled_from([60.0, 300.0, 900.0]),
       caution_nm=st.sampled_from([5.0, 20.0, 50.0]))
def test_exact_for_other_thresholds_and_across_the_antimeridian(seed, lookahead, caution_nm):
    th = SeparationThresholds(caution_horizontal=caution_nm * NAUTICAL_MILE, lookahead=lookahead,
                              caution_vertical=5000 * FOOT)
    rules = ConflictRules.from_thresholds(th)
    lon, lat, alt, speed, track, vz, code = scenario(seed, 300, 600.0, lat0=10.0, lon0=179.5)
    lon = (lon + 180) % 360 - 180
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    allowed = allowed_pairs(2, "all")
    assert as_set(find_conflicts(sv, rules, code=code, allowed=allowed)) == as_set(
        brute_force(sv, code, allowed, rules, CAUTION))


def test_many_instants_at_once_never_mix():
    lon, lat, alt, speed, track, vz, code = scenario(5, 600, 200.0)
    sv = StateVectors.from_arrays(lon, lat, alt, speed, track, vz)
    group = np.repeat([0, 1, 2], 200)
    got = find_conflicts(sv, RULES, group=group)
    assert len(got) > 0 and np.all(group[got.a] == group[got.b])
    for g in range(3):
        part = StateVectors.from_arrays(*(x[group == g] for x in (lon, lat, alt, speed, track, vz)))
        alone = find_conflicts(part, RULES)
        mine = got.take(group[got.a] == g)
        assert as_set(alone) == {(a - 200 * g, b - 200 * g, lv) for a, b, lv in as_set(mine)}


def one_pair(lon_b, lat_b, alt_b=6000.0, track_a=90.0, track_b=270.0, speed=200.0, vz_b=0.0, alt_a=6000.0,
             th=TH, lon_a=40.0, lat_a=35.0):
    states = {"track_id": ["a", "b"], "party": ["blue", "red"], "lon": [lon_a, lon_b], "lat": [lat_a, lat_b],
              "altitude": [alt_a, alt_b], "ground_speed": [speed, speed], "track": [track_a, track_b],
              "vertical_rate": [0.0, vz_b]}
    rows = skyfence.detect_conflicts(states, th, min_level="caution")
    return rows.row(0, named=True) if rows.height else None


def test_head_on():
    lon_b, _, d = GEOD.fwd(40.0, 35.0, 90.0, 30_000.0)
    row = one_pair(lon_b, 35.0 + 0 * d)
    distance = GEOD.inv(40.0, 35.0, lon_b, 35.0)[2]
    assert row["level"] == "warning"
    assert row["horizontal_m"] == pytest.approx(distance, rel=1e-4)
    assert row["t_cpa_s"] == pytest.approx(distance / 400.0, rel=1e-3)
    assert row["d_cpa_m"] < 50
    assert row["t_los_s"] == pytest.approx((distance - 5 * NAUTICAL_MILE) / 400.0, rel=1e-3)


def test_parallel_and_zero_relative_velocity():
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 3 * NAUTICAL_MILE)
    row = one_pair(lon_b, lat_b, track_a=90.0, track_b=90.0)  # side by side, same speed: loss now, stays
    assert row["level"] == "loss" and row["t_los_s"] == 0.0
    assert row["d_cpa_m"] == pytest.approx(3 * NAUTICAL_MILE, rel=1e-3)
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 8 * NAUTICAL_MILE)
    row = one_pair(lon_b, lat_b, track_a=90.0, track_b=90.0)  # 8 NM apart, parallel: caution only
    assert row["level"] == "caution" and row["t_los_s"] is None


def test_exactly_1000_ft_apart_is_not_a_loss_and_950_is():
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 1 * NAUTICAL_MILE)
    assert one_pair(lon_b, lat_b, alt_b=6000.0 + 1000 * FOOT, track_a=90, track_b=90)["level"] == "caution"
    assert one_pair(lon_b, lat_b, alt_b=6000.0 + 900 * FOOT, track_a=90, track_b=90)["level"] == "caution"
    assert one_pair(lon_b, lat_b, alt_b=6000.0 + 850 * FOOT, track_a=90, track_b=90)["level"] == "loss"


def test_exactly_at_the_horizontal_minimum_is_not_a_loss():
    th = SeparationThresholds(horizontal=10_000.0, caution_horizontal=20_000.0)
    # two aircraft on the same meridian, exactly 10 km apart by the engine's own measure, parallel
    lon, lat = np.array([40.0, 40.0]), np.array([35.0, 35.0])
    lat[1] = 35.0 + 10_000.0 / 110_950.0
    sv = StateVectors.from_arrays(lon, lat, [6000.0] * 2, [200.0] * 2, [90.0] * 2, [0.0] * 2)
    h = evaluate_pairs(sv, np.array([0]), np.array([1]), ConflictRules.from_thresholds(th)).horizontal[0]
    th = SeparationThresholds(horizontal=h, caution_horizontal=20_000.0)
    figs = evaluate_pairs(sv, np.array([0]), np.array([1]), ConflictRules.from_thresholds(th))
    assert figs.level[0] == CAUTION
    th = SeparationThresholds(horizontal=h + 1e-3, caution_horizontal=20_000.0)
    assert evaluate_pairs(sv, np.array([0]), np.array([1]), ConflictRules.from_thresholds(th)).level[0] == LOSS


def test_nmac_and_climb_into_conflict():
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 100.0)
    assert one_pair(lon_b, lat_b, alt_b=6010.0, track_a=90, track_b=90)["level"] == "nmac"
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 2 * NAUTICAL_MILE)
    row = one_pair(lon_b, lat_b, alt_b=6000.0 - 3000 * FOOT, vz_b=10.0, track_a=90, track_b=90)
    # climbing at 10 m/s from 3000 ft below: loses 900 ft (the minimum less the tolerance) after (3000-900) ft
    assert row["level"] == "warning" and row["t_los_s"] == pytest.approx(2100 * FOOT / 10.0, rel=1e-6)


def test_level_rate_dead_band():
    lon_b, lat_b, _ = GEOD.fwd(40.0, 35.0, 0.0, 2 * NAUTICAL_MILE)
    # 1000 ft apart with 128 ft/min of rate noise: no predicted loss
    row = one_pair(lon_b, lat_b, alt_b=6000.0 + 1000 * FOOT, vz_b=-128 * FOOT / 60, track_a=90, track_b=90)
    assert row["level"] == "caution"


@given(seed=st.integers(0, 10**6), lat0=st.floats(-70, 70))
def test_closest_approach_matches_aircraft_flying_geodesics(seed, lat0):
    """The engine's straight-line prediction against aircraft moved along geodesics with pyproj."""
    rng = np.random.default_rng(seed)
    lon = np.array([20.0, 20.0]) + rng.uniform(-0.3, 0.3, 2)
    lat = np.array([lat0, lat0]) + rng.uniform(-0.3, 0.3, 2)
    speed, track = rng.uniform(100, 280, 2), rng.uniform(0, 360, 2)
    sv = StateVectors.from_arrays(lon, lat, [6000.0] * 2, speed, track, [0.0] * 2)
    figs = evaluate_pairs(sv, np.array([0]), np.array([1]), RULES)
    t = np.linspace(0, RULES.lookahead, 3001)
    la, pa, _ = GEOD.fwd(np.full_like(t, lon[0]), np.full_like(t, lat[0]), np.full_like(t, track[0]), speed[0] * t)
    lb, pb, _ = GEOD.fwd(np.full_like(t, lon[1]), np.full_like(t, lat[1]), np.full_like(t, track[1]), speed[1] * t)
    d = GEOD.inv(la, pa, lb, pb)[2]
    assert figs.horizontal[0] == pytest.approx(d[0], rel=1e-3)
    assert figs.d_cpa[0] == pytest.approx(d.min(), rel=0.01, abs=150.0)


def test_bad_states_table():
    with pytest.raises(skyfence.errors.InputError, match="missing column"):
        skyfence.detect_conflicts({"track_id": ["a"], "lon": [1.0]})


@given(st.lists(st.sampled_from(["coalition", "russia_syria", "unknown", "zeta", None]), max_size=40),
       st.booleans())
def test_party_codes_number_the_known_parties_in_order_and_the_rest_last(parties, categorical):
    """Each row's code against the rule itself: known parties sorted and numbered, unknown and missing last."""
    import polars as pl

    from skyfence.detect.conflict_table import party_codes

    series = pl.Series("party", parties, dtype=pl.String)
    codes, known = party_codes(series.cast(pl.Categorical) if categorical else series)
    assert known == tuple(sorted({p for p in parties if p not in (None, "unknown")}))
    assert codes.tolist() == [known.index(p) if p in known else len(known) for p in parties]


@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 6), st.floats(1e3, 3e5))
def test_pairs_at_the_same_instant_within_a_range_are_the_plain_ones_in_order(seed, n, instants, radius):
    """The pairs a crossing flight's turn toward another aircraft is judged on: each of its states with the
    allowed states of the same instant within the range, as a plain loop over every candidate finds them (the
    kernel prefilters with a hair of slack; the caller's exact test of the distance is applied after)."""
    from skyfence.detect.pairs import same_instant_within

    rng = np.random.default_rng(seed)
    group = np.sort(rng.integers(0, instants, n))
    pos = rng.uniform(-2e5, 2e5, (n, 3))
    keep = rng.random(n) < 0.7
    order = np.argsort(group, kind="stable")
    mine = np.sort(rng.choice(n, size=max(1, n // 4), replace=False))
    lo, hi = np.searchsorted(group[order], group[mine]), np.searchsorted(group[order], group[mine], side="right")
    i, j = same_instant_within(mine, lo, hi, order, keep, pos, radius)
    exact = np.linalg.norm(pos[j] - pos[i], axis=1) <= radius
    plain = [(a, b) for a in mine for b in order if group[b] == group[a] and keep[b]
             and np.linalg.norm(pos[b] - pos[a]) <= radius]
    assert list(zip(i[exact].tolist(), j[exact].tolist())) == plain


def test_a_memo_asked_about_no_states_gives_no_pairs():
    memo = SearchMemo()
    never = lambda sub: (_ for _ in ()).throw(AssertionError("searched nothing"))  # noqa: E731
    for _ in range(2):
        a, b = memo.pairs("k", np.empty((0, 7)), np.empty(0, np.int64), never)
        assert a.tolist() == [] and b.tolist() == []


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-90, 90), st.floats(0, 400), st.floats(-720, 720)),
                min_size=1, max_size=50))
def test_ground_velocity_is_east_and_north_scaled_bit_for_bit(rows):
    """The ECEF velocity is worked out component by component (no (n, 3) temporaries): it must be, bit for bit,
    the east unit vector times the east speed plus the north one times the north speed."""
    from skyfence.geo.ecef import ground_velocity

    lon, lat, gs, trk = (np.array(c, dtype=float) for c in zip(*rows))
    lam, phi, t = np.radians(lon), np.radians(lat), np.radians(trk)
    east = np.column_stack([-np.sin(lam), np.cos(lam), np.zeros_like(lam)])
    north = np.column_stack([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])
    want = east * (gs * np.sin(t))[:, None] + north * (gs * np.cos(t))[:, None]
    got = ground_velocity(lon, lat, gs, trk)
    assert got.shape == want.shape and np.array_equal(got.view(np.uint64), want.view(np.uint64))


@given(groups=st.lists(st.integers(-3, 40), max_size=200), far=st.booleans(),
       blocks=st.lists(st.integers(0, 3), min_size=1, max_size=4), seed=st.integers(0, 1000),
       changed=st.floats(0.0, 0.3))
def test_the_memos_instants_are_in_a_stable_order_and_compared_bit_for_bit(groups, far, blocks, seed, changed):
    """What the memo matches instants by, worked out in compiled passes over the arrays where they are: each
    instant's states in their own order (a counting sort, or a sort where the numbers are spread), and two
    instants the same exactly where their rows of every column are the same 64 bits (NaNs equal to NaNs, 0.0
    not -0.0), with the same digest then."""
    from skyfence.detect.search_memo import _as_words, _by_instant, _digests, _same_instants

    group = np.array(groups, np.int64) + (10**12 if far else 0)
    order = _by_instant(group)
    assert order.tolist() == np.argsort(group, kind="stable").tolist()
    rng = np.random.default_rng(seed)
    n = len(group)
    cols = [rng.choice([0.0, -0.0, 1.5, np.nan], size=(n, k) if k else n) for k in blocks]
    other = [c.copy() for c in cols]
    for c in other:
        c[rng.random(c.shape) < changed] = rng.choice([0.0, -0.0, 1.5, np.nan])
    g = group[order]
    bounds = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True]) if n else np.zeros(1, np.int64)
    starts, sizes = bounds[:-1], np.diff(bounds)
    a, b = _as_words(cols, n), _as_words(other, n)
    same = _same_instants(a, order, starts, b, order, starts, sizes)
    rows_a = np.column_stack([x for x in a])[order] if n else np.empty((0, 0), np.uint64)
    rows_b = np.column_stack([x for x in b])[order] if n else np.empty((0, 0), np.uint64)
    want = [bool((rows_a[s:s + z] == rows_b[s:s + z]).all()) for s, z in zip(starts, sizes)]
    assert same.tolist() == want
    da, db = _digests(a, order, starts, sizes), _digests(b, order, starts, sizes)
    assert all(x == y for x, y, w in zip(da, db, want) if w)
