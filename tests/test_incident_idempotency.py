"""Idempotency as a property: any sequence of updates, with repeats, split into batches any way, gives
the same incidents and the same audit trail as the sequence applied once, without repeats, in one batch.
Flare-ups (a new event of the same aircraft soon after one ended) are in the mix."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyfence.incidents import IncidentStore, incident_json
from tests.incident_stores import T0, crossing, encounter, pg_database  # noqa: F401

SEVERITY_OF_CROSSING = {"crossing_warning": "warning", "crossing_started": "crossing",
                        "crossing_ended": "deep_crossing"}


@st.composite
def an_update(draw):
    start = draw(st.sampled_from([0, 900, 1200]))  # events that begin soon after each other: flare-ups
    seconds = start + 60 * draw(st.integers(0, 10))  # coarse: same-time and reordered updates
    if draw(st.booleans()):
        event = draw(st.sampled_from(sorted(SEVERITY_OF_CROSSING)))
        return crossing(event, seconds, SEVERITY_OF_CROSSING[event], track_id=draw(st.sampled_from(["aaa111", "bbb222"])),
                        ended=event == "crossing_ended", key_time=T0 + timedelta(seconds=start),
                        points=draw(st.integers(0, 3)))
    ended = draw(st.booleans())
    return encounter("encounter_ended" if ended else "level_changed", seconds,
                     draw(st.sampled_from(["caution", "warning", "loss", "nmac"])), ended=ended,
                     key_time=T0 + timedelta(seconds=start))


@st.composite
def repeated_and_split(draw):
    """(the updates once, the same with repeats, cut into batches)."""
    once = draw(st.lists(an_update(), min_size=1, max_size=14, unique_by=lambda u: (u.incident_id, u.event, u.time)))
    sequence = []
    for u in once:
        sequence.append(u)
        if draw(st.integers(0, 3)) == 0:  # a repeat, now or later
            sequence.insert(draw(st.integers(len(sequence), len(sequence))), u)
    extra = draw(st.lists(st.sampled_from(once), max_size=5))  # and repeats of anything at the end
    sequence += extra
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(sequence) - 1)), max_size=6)))
    batches = [sequence[a:b] for a, b in zip([0, *cuts], [*cuts, len(sequence)]) if sequence[a:b]]
    return once, batches


def _state(store: IncidentStore):
    incidents = sorted((incident_json(i) for i in store.incidents()), key=lambda d: d["id"])
    audit = [(c.seq, c.incident_id, c.time, c.who, c.action, c.why, incident_json(c.incident))
             for c in store.changes_since(0, limit=10**6)]
    tracks = {i["id"]: store.track(i["id"]) for i in incidents}
    return incidents, audit, tracks


def _check(once, batches, url_once: str, url_split: str) -> None:
    with IncidentStore.open(url_once) as a:
        a.apply(once, T0)
        expected = _state(a)
    with IncidentStore.open(url_split) as b:
        returned = []
        for batch in batches:
            returned += b.apply(batch, T0)
        got = _state(b)
    assert got == expected
    assert [(c.seq, c.action) for c in returned] == [(s[0], s[4]) for s in expected[1]]


@given(repeated_and_split())
def test_idempotent_on_sqlite(case):
    once, batches = case
    with tempfile.TemporaryDirectory() as tmp:
        _check(once, batches, str(Path(tmp) / "once.db"), str(Path(tmp) / "split.db"))


@pytest.fixture
def pg_schemas(pg_database):
    """Makes fresh schemas in the session's database on demand (hypothesis runs many examples per test)."""
    import psycopg

    def make() -> str:
        schema = f"h_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        return f"{pg_database}?options=-csearch_path%3D{schema}"
    return make


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=repeated_and_split())
def test_idempotent_on_postgresql(pg_schemas, case):
    once, batches = case
    _check(once, batches, pg_schemas(), pg_schemas())


def test_the_mix_has_flare_ups():
    """The strategy's pool does produce the cases that matter (else the property proves little)."""
    with tempfile.TemporaryDirectory() as tmp, IncidentStore.open(Path(tmp) / "s.db") as store:
        store.apply([crossing("crossing_started", 0, "crossing", track_id="aaa111"),
                     crossing("crossing_ended", 300, "deep_crossing", track_id="aaa111", ended=True),
                     crossing("crossing_started", 900, "crossing", track_id="aaa111",
                              key_time=T0 + timedelta(seconds=900))], T0)
        (inc,) = store.incidents()
        assert len(inc.aliases) == 1


def test_an_update_that_changes_nothing_visible_still_moves_the_clock(tmp_path):
    """An update that changes nothing but the last update time is kept, so an older one after it is
    stale in a later batch just as in the same batch."""
    ups = [crossing("crossing_started", 60, "crossing"), crossing("crossing_started", 120, "crossing"),
           crossing("crossing_warning", 90, "warning")]
    _check(ups, [ups[:2], ups[2:]], str(tmp_path / "a.db"), str(tmp_path / "b.db"))
    with IncidentStore.open(tmp_path / "b.db") as store:
        (inc,) = store.incidents()
        assert inc.last_event == "crossing_started" and inc.last_update_time == T0 + timedelta(seconds=120)


def test_an_event_and_its_flare_up_in_one_batch(tmp_path):
    """A new incident that ends and flares up within one batch (its alias names a row written in the
    same transaction), as in separate batches."""
    ups = [crossing("crossing_started", 0, "crossing", track_id="aaa111"),
           crossing("crossing_ended", 300, "crossing", track_id="aaa111", ended=True),
           crossing("crossing_started", 900, "crossing", track_id="aaa111", key_time=T0 + timedelta(seconds=900))]
    _check(ups, [ups[:1], ups[1:2], ups[2:]], str(tmp_path / "a.db"), str(tmp_path / "b.db"))
    with IncidentStore.open(tmp_path / "a.db") as store:
        (inc,) = store.incidents()
        assert inc.aliases == (ups[2].incident_id,) and store.get(ups[2].incident_id).id == inc.id
