"""The lifecycle as pure functions: opened, updated, severity raised, acknowledged per party,
resolved by hand or by the system after the quiet period, reopened on a flare-up."""

from __future__ import annotations

from datetime import timedelta

from skyfence.incidents import Aircraft
from skyfence.incidents import lifecycle as lc
from tests.incident_stores import T0, crossing, encounter

Q = 600.0


def test_open_then_updates():
    inc, steps = lc.open_incident(crossing("crossing_warning", 0, "warning"), Q)
    assert (inc.status, inc.severity, steps[0][0]) == ("open", "warning", "opened")
    assert lc.apply_update(inc, crossing("crossing_warning", 0, "warning"), Q) == []  # nothing new
    assert lc.apply_update(inc, crossing("crossing_started", 30, "crossing"), Q)[0][0] == "severity_raised"
    (step,) = lc.apply_update(inc, crossing("crossing_ended", 90, "crossing", ended=True), Q)
    assert step[0] == "updated" and inc.ended_at == T0 + timedelta(seconds=90)
    assert inc.quiet_until == T0 + timedelta(seconds=90 + Q) and inc.updated_at == T0 + timedelta(seconds=90)


def test_a_stale_update_adds_only_aircraft_and_severity():
    inc, _ = lc.open_incident(encounter("level_changed", 60, "warning"), Q)
    late = encounter("level_changed", 30, "loss")
    late = type(late)(**{**late.__dict__, "aircraft": late.aircraft + (Aircraft("ffffff", None, None),),
                         "summary": "an older summary"})
    (step,) = lc.apply_update(inc, late, Q)
    assert step[0] == "severity_raised" and inc.severity == "loss"
    assert inc.summary != "an older summary" and inc.last_update_time == T0 + timedelta(seconds=60)
    assert "ffffff" in [a.track_id for a in inc.aircraft]


def test_a_later_callsign_fills_a_missing_one():
    u = encounter("level_changed", 0, "caution")
    first = type(u)(**{**u.__dict__, "aircraft": (Aircraft("4b1805", None, None), u.aircraft[1])})
    inc, _ = lc.open_incident(first, Q)
    lc.apply_update(inc, encounter("level_changed", 10, "caution"), Q)
    assert inc.aircraft[0] == Aircraft("4b1805", "RFF01", "red") and len(inc.aircraft) == 2


def test_acknowledge_per_party_and_for_oneself():
    inc, _ = lc.open_incident(encounter("level_changed", 0, "warning"), Q)
    at = T0 + timedelta(minutes=1)
    # the who is the change's own field: not repeated in the why ("Lt Col Hayes: Lt Col Hayes for coalition")
    assert lc.acknowledge(inc, "Maj. Smith", "blue", "", at) == ("acknowledged", "for blue")
    assert lc.acknowledge(inc, "Maj. Smith", "blue", "called RFF90", at) == ("acknowledged", "for blue: called RFF90")
    assert lc.acknowledge(inc, "analyst", None, "looking", at) == ("acknowledged", "looking")
    assert inc.status == "acknowledged" and inc.acks == {"blue": ("Maj. Smith", at), "analyst": ("analyst", at)}


def test_resolved_by_hand_stays_resolved_on_routine_updates_and_reopens_on_a_rise():
    inc, _ = lc.open_incident(encounter("level_changed", 0, "warning"), Q)
    lc.resolve(inc, "ops", "handled", T0 + timedelta(minutes=1))
    assert lc.apply_update(inc, encounter("level_changed", 70, "warning"), Q) == []  # same as before, still resolved
    assert inc.status == "resolved"
    (step,) = lc.apply_update(inc, encounter("level_changed", 80, "nmac"), Q)
    assert step[0] == "reopened" and "severity rose to nmac" in step[1]
    assert inc.status == "open" and inc.resolved_by is None


def test_due_and_auto_resolve():
    inc, _ = lc.open_incident(crossing("crossing_ended", 100, "crossing", ended=True), Q)
    assert not lc.due(inc, T0 + timedelta(seconds=100 + Q - 1))
    assert lc.due(inc, T0 + timedelta(seconds=100 + Q))
    action, why = lc.auto_resolve(inc)
    assert action == "resolved" and inc.resolved_by == "system" and inc.resolved_at == inc.quiet_until
    assert "600 s" in why and not lc.due(inc, T0 + timedelta(days=1))
    (step,) = lc.apply_update(inc, crossing("crossing_started", 300, "crossing"), Q)
    assert step[0] == "reopened" and "flared up" in step[1] and inc.quiet_until is None


def test_a_lesser_update_keeps_the_worst_told_and_goes_to_the_audit():
    """A warning that lapsed after a crossing of the same aircraft (merged within the quiet period), or an
    encounter's level falling: the incident still reads as its worst; the lesser update is a change."""
    inc, _ = lc.open_incident(crossing("crossing_started", 0, "deep_crossing", depth_km=9.0), Q)
    lc.apply_update(inc, crossing("crossing_ended", 60, "deep_crossing", ended=True), Q)
    lapsed = crossing("crossing_warning", 200, "warning", ended=True)
    lapsed = type(lapsed)(**{**lapsed.__dict__, "summary": "warning over, no crossing", "lat": 36.0,
                             "details": {"area": "west", "lapsed": True}})
    (step,) = lc.apply_update(inc, lapsed, Q)
    assert step == ("updated", "warning over, no crossing")
    assert inc.summary == "4b1805 crossing ended (west)" and inc.lat == 35.0 and inc.severity == "deep_crossing"
    assert inc.details == {"area": "west", "depth_km": 9.0}  # not the lapsed warning's figures
    assert inc.end_time == lapsed.end_time and inc.last_event == "crossing_warning"

    enc, _ = lc.open_incident(encounter("level_changed", 0, "loss"), Q)
    (step,) = lc.apply_update(enc, encounter("level_changed", 30, "warning"), Q)
    assert step[0] == "updated" and "warning" in step[1]
    assert enc.summary == "4b1805 and ae1234: loss" and enc.details["level"] == "loss"
    (step,) = lc.apply_update(enc, encounter("level_changed", 40, "nmac"), Q)
    assert step[0] == "severity_raised" and enc.summary == "4b1805 and ae1234: nmac"


def test_an_aircraft_seen_inside_is_told_over_the_warnings_around_it():
    """AFR51LU was warned, came in across the region's edge (a caution: not seen to cross), stayed 11 minutes 78 km
    deep, left, was warned again and the warning lapsed: the incident read "warning for lowcost-side over, no
    crossing" (user trial). What it says is the stay; the warnings are in the audit."""
    def with_kind(u, summary, **details):
        return type(u)(**{**u.__dict__, "summary": summary, "details": {**u.details, **details}})

    inc, _ = lc.open_incident(crossing("crossing_warning", 0, "warning"), Q)
    lc.apply_update(inc, with_kind(crossing("crossing_started", 5, "caution"), "inside (region edge)",
                                   entry_kind="region_edge"), Q)
    assert inc.summary == "inside (region edge)" and inc.severity == "warning"
    lc.apply_update(inc, with_kind(crossing("crossing_ended", 680, "caution", ended=True), "left after 674 s, 78 km",
                                   entry_kind="region_edge", depth_km=78.4), Q)
    assert inc.summary == "left after 674 s, 78 km"
    lc.apply_update(inc, crossing("crossing_warning", 1000, "warning"), Q)
    lapsed = with_kind(crossing("crossing_warning", 1300, "warning", ended=True), "warning over, no crossing",
                       crossed=False)
    lc.apply_update(inc, lapsed, Q)
    assert inc.summary == "left after 674 s, 78 km" and inc.details["depth_km"] == 78.4
    assert "crossed" not in inc.details and inc.severity == "warning" and inc.last_event == "crossing_warning"


def test_a_warning_after_a_crossing_gives_its_own_prediction():
    """The crossing stays told, but the prediction is the latest warning's (a user trial was told 'within 2 min
    43 s', the first warning's figure from before the crossing, for a warning giving 94 s)."""
    def with_details(u, **details):
        return type(u)(**{**u.__dict__, "details": {**u.details, **details}})

    inc, _ = lc.open_incident(with_details(crossing("crossing_warning", 0, "warning"), time_to_entry_s=163.0), Q)
    lc.apply_update(inc, with_details(crossing("crossing_started", 160, "crossing"), entry_kind="crossed"), Q)
    lc.apply_update(inc, crossing("crossing_ended", 274, "crossing", ended=True), Q)
    lc.apply_update(inc, with_details(crossing("crossing_warning", 311, "warning"), time_to_entry_s=94.0,
                                      predicted_entry_lat=35.5, crossed=False), Q)
    assert inc.details["time_to_entry_s"] == 94.0 and inc.details["predicted_entry_lat"] == 35.5
    assert inc.details["entry_kind"] == "crossed" and "crossed" not in inc.details
    assert inc.summary == "4b1805 crossing ended (west)" and inc.last_event == "crossing_warning"
    # a later warning that predicts no entry (no track reported): the last figure is not told as if still so
    lc.apply_update(inc, crossing("crossing_warning", 330, "warning"), Q)
    assert inc.details["time_to_entry_s"] is None and inc.details["entry_kind"] == "crossed"
