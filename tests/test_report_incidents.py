"""``skyfence report --store``: the incidents section (counts by kind, severity and status, time to
acknowledge, the list) holds the store's numbers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from skyfence.cli import app
from skyfence.incidents import IncidentStore
from skyfence.report.incidents import incident_figures
from skyfence.report.results import Period
from tests.incident_stores import T0, crossing, encounter
from tests.report_data import analysed, quiet_day, runner


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quiet")
    return analysed(quiet_day(tmp), tmp / "results")


@pytest.fixture
def store(tmp_path):
    url = str(tmp_path / "incidents.db")
    with IncidentStore.open(url) as s:
        s.apply([crossing("crossing_started", 0, "crossing"),
                 crossing("crossing_ended", 200, "deep_crossing", ended=True, depth_km=15.0),
                 encounter("level_changed", 60, "loss")], T0)
        s.apply([crossing("crossing_started", 86400, "crossing", track_id="151abc", area="zone-a",
                          key_time=T0 + timedelta(days=1))], T0 + timedelta(days=1))
        enc = s.incidents(kind="encounter")[0].id
        recorded = s.audit(enc)[0].recorded_at  # the wall clock when the store wrote it
        s.acknowledge(enc, by="blue ops", party="blue", at=recorded + timedelta(seconds=90))
        s.acknowledge(enc, by="red ops", party="red", at=recorded + timedelta(seconds=300))
        s.tick(T0 + timedelta(hours=2))  # the first crossing resolves itself
    return url


def test_incident_figures(store):
    with IncidentStore.open(store) as s:
        fig = incident_figures(s)
        assert fig.total == 3
        assert fig.by_kind == {"crossing": 2, "encounter": 1, "manoeuvre": 0, "interaction": 0}
        assert fig.by_severity["deep_crossing"] == 1 and fig.by_severity["loss"] == 1 and fig.by_severity["crossing"] == 1
        assert fig.by_status == {"open": 1, "acknowledged": 1, "resolved": 1}
        assert fig.resolved_by_system == 1
        assert (fig.ack.acknowledged, fig.ack.of, fig.ack.seconds) == (1, 3, [90.0])
        assert fig.ack_by_party["blue"].seconds == [90.0] and fig.ack_by_party["red"].seconds == [300.0]
        assert (fig.ack_by_party["red"].acknowledged, fig.ack_by_party["red"].of) == (1, 3)
        day_one = incident_figures(s, Period(T0, T0 + timedelta(days=1)))
        assert day_one.total == 2 and "151abc" not in {a.track_id for i in day_one.incidents for a in i.aircraft}


def test_report_has_the_incidents_section(folder, store, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--out", str(out), "--store", store, "-q"])
    assert result.exit_code == 0, result.output
    assert "3 incidents" in result.output
    html = out.read_text()
    assert "Incidents</h2>" in html
    figures = dict(re.findall(r'data-figure="(incidents[^"]*)">([^<]*)<', html))
    assert figures["incidents.total"] == "3"
    assert figures["incidents.by_kind.crossing"] == "2" and figures["incidents.by_kind.encounter"] == "1"
    assert figures["incidents.by_status.resolved"] == "1" and figures["incidents.by_severity.loss"] == "1"
    assert figures["incidents.acknowledged"] == "1" and figures["incidents.acknowledged.blue"] == "1"
    assert "90 s" in html and "5 min" in html  # median time to acknowledge, for anyone / blue, and red
    with IncidentStore.open(store) as s:
        for inc in s.incidents():
            assert inc.id in html


def test_report_without_store_has_no_incidents_section(folder, tmp_path):
    out = tmp_path / "report.html"
    assert runner.invoke(app, ["report", str(folder), "--out", str(out), "-q"]).exit_code == 0
    assert "Incidents</h2>" not in out.read_text()
