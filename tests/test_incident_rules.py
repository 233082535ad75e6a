"""Incident ids, severity and the agreement's incident thresholds (quiet period, deep crossing)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from skyfence.agreement import load_agreement
from skyfence.agreement.model import IncidentThresholds
from skyfence.errors import AgreementError
from skyfence.incidents.ids import flare_key, incident_id
from skyfence.incidents.model import SEVERITIES
from skyfence.incidents.severity import at_least, highest, rank, severity_of
from tests.agreements import simple, write


def test_ids_are_stable_and_content_derived():
    t = datetime(2017, 11, 1, 9, 30, tzinfo=timezone.utc)
    a = incident_id("crossing", "4b1805", "west", t)
    assert a == incident_id("crossing", "4b1805", "west", t.replace(tzinfo=None))  # naive is UTC
    assert a == "CR-" + __import__("hashlib").sha256(b"crossing|4b1805|west|2017-11-01T09:30:00Z").hexdigest()[:16]
    assert a != incident_id("crossing", "4b1805", "east", t)
    assert a != incident_id("encounter", "4b1805", "west", t)
    assert incident_id("encounter", ("a", "b"), t).startswith("EN-")
    with pytest.raises(ValueError, match="unknown incident kind"):
        incident_id("collision", "x")


def test_flare_key_ignores_aircraft_order():
    assert flare_key("encounter", ["b", "a"], {}) == flare_key("encounter", ["a", "b"], {"level": "loss"})
    assert flare_key("crossing", ["a"], {"area": "west"}) != flare_key("crossing", ["a"], {"area": "zone-1"})


def test_severity_order_and_mapping():
    assert SEVERITIES == ("info", "caution", "warning", "crossing", "deep_crossing", "loss", "nmac")
    assert highest("warning", "nmac", "crossing") == "nmac" and rank("info") == 0
    assert at_least("loss") == ("loss", "nmac")
    rules = IncidentThresholds(deep_crossing=5000.0)
    assert severity_of("crossing", "crossing_warning", {}, rules) == "warning"
    assert severity_of("crossing", "crossing_started", {"depth_km": 4.9}, rules) == "crossing"
    assert severity_of("crossing", "crossing_ended", {"depth_km": 5.0}, rules) == "deep_crossing"
    assert severity_of("crossing", "crossing_ended", {"depth_km": 1.0, "intent": "likely deliberate"},
                       rules) == "deep_crossing"
    for kind in ("first_seen_inside", "region_edge", "zone_opened"):  # inside, not seen to cross: no crossing
        assert severity_of("crossing", "crossing_ended", {"depth_km": 40.0, "entry_kind": kind}, rules) == "caution"
    assert severity_of("crossing", "crossing_ended", {"depth_km": 40.0, "entry_kind": "crossed"}, rules) == \
        "deep_crossing"
    assert severity_of("encounter", "level_changed", {"level": "NMAC"}) == "nmac"
    assert severity_of("encounter", "level_changed", {"level": "loss"}) == "loss"
    assert severity_of("interaction", "interaction", {"type": "intercept"}) == "caution"
    assert severity_of("manoeuvre", "manoeuvre", {"type": "hard turn"}) == "info"
    with pytest.raises(ValueError, match="unknown severity"):
        rank("severe")


def test_agreement_incident_thresholds(tmp_path):
    assert load_agreement("euphrates-2017").thresholds.incidents == IncidentThresholds(600.0, 10000.0)
    doc = simple(thresholds={"incidents": {"quiet_period": "3 min", "deep_crossing": "5 km"}})
    got = load_agreement(write(tmp_path, doc)).thresholds.incidents
    assert (got.quiet_period, got.deep_crossing) == (180.0, 5000.0)
    assert load_agreement(write(tmp_path, simple())).thresholds.incidents.quiet_period == 600.0  # the default
    for bad, field in ((-60, "thresholds.incidents.quiet_period"), ("ten minutes", "thresholds.incidents.quiet_period"),
                       ("0 km", "thresholds.incidents.deep_crossing")):
        key = field.rsplit(".", 1)[1]
        with pytest.raises(AgreementError, match=field.replace(".", r"\.")):
            load_agreement(write(tmp_path, simple(thresholds={"incidents": {key: bad}})))
