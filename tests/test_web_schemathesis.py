"""No 5xx under schemathesis: every operation of the OpenAPI schema, fuzzed, against the real server
over a real store (SQLite and PostgreSQL), with an admin's token and with none."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from skyfence.agreement import load_agreement
from skyfence.incidents import IncidentStore
from skyfence.web import WebContext
from skyfence.web.recording import Recording
from skyfence.web.users import Users
from tests.incident_stores import pg_database  # noqa: F401
from tests.web_helpers import Server, crossing_updates, make_recording

AGREEMENT = load_agreement("euphrates-2017")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = str(tmp / "incidents.db")
    else:
        url = request.getfixturevalue("pg_database")
    rec = Recording.load([make_recording(tmp / "small.parquet")], AGREEMENT)
    store = IncidentStore.open(url)
    store.apply(crossing_updates(rec))
    token = Users(store.engine).add(f"fuzz{request.param}", "admin")
    srv = Server(WebContext(store=store, agreement=AGREEMENT, recording=rec))
    yield srv, token
    srv.stop()
    with store.engine.begin() as conn:  # leave a shared database as found
        import sqlalchemy as sa

        conn.execute(sa.text("DELETE FROM web_users WHERE name LIKE 'fuzz%'"))
    store.close()


def test_no_server_error(live):
    srv, token = live
    schema = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    seen = []
    for op, mode in [(op, mode) for op in operations for mode in GenerationMode]:  # valid and invalid input
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def fuzz(case):
            for headers in ({"Authorization": f"Bearer {token}"}, {}):
                response = case.call(base_url=srv.url, headers=headers)
                seen.append(response.status_code)
                assert response.status_code < 500, (f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                                                     f"{response.status_code} {response.text[:300]}")
        try:
            fuzz()
        except Unsatisfiable:  # nothing in the operation can be made invalid (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE, op.label
    assert {200, 401, 422} <= set(seen)
