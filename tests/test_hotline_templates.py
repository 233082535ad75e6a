"""Plain-language messages: per event kind, own aircraft or the counterpart's, UTC, NM/ft/kt, and where
from the nearest bundled place (checked against a geodesic computed here)."""

from datetime import datetime, timezone

import pytest
from pyproj import Geod

from skyfence.hotline.places import compass, describe_position, nearest_place
from skyfence.hotline.templates import render
from skyfence.incidents.model import Aircraft, Incident

T = datetime(2017, 11, 1, 6, 4, 12, tzinfo=timezone.utc)
NAMES = {"coalition": "US-led coalition", "russia_syria": "Russia and Syria"}
RFF = Aircraft("155a3f", "RFF90", "russia_syria")
RCH = Aircraft("ae01c5", "RCH871", "coalition")


def incident(kind, event, severity, details, aircraft=(RFF,), status="open"):
    return Incident(id="X-1", kind=kind, status=status, severity=severity,
                    parties=tuple(sorted({a.party for a in aircraft})), aircraft=aircraft, start_time=T,
                    end_time=None, lat=35.41, lon=40.27, summary="", details=details, opened_at=T, updated_at=T,
                    last_event=event, last_update_time=T)


def test_nearest_place_distance_and_bearing_agree_with_a_geodesic():
    place, dist, bearing = nearest_place(35.41, 40.27)
    assert place.name == "Dayr az Zawr"
    az, _, d = Geod(ellps="WGS84").inv(place.lon, place.lat, 40.27, 35.41)
    assert dist == pytest.approx(d) and bearing == pytest.approx(az % 360)
    assert describe_position(35.41, 40.27) == f"{d / 1852:.0f} NM NE of Dayr az Zawr (35.4100N 40.2700E)"
    assert [compass(b) for b in (0, 11.3, 45, 180, 348.75, 359)] == ["N", "NNE", "NE", "S", "N", "N"]
    # far from every bundled place (a user's agreement over Paris): the position alone
    assert describe_position(48.9295, 2.0639) == "48.9295N 2.0639E"


def test_a_party_name_takes_its_article():
    from skyfence.hotline.templates import who

    ac = Aircraft("ae1c01", "RCH331", "east")
    assert who(ac, "west", {"east": "East"}).startswith("an East aircraft")
    assert who(ac, "west", {"east": "Coalition"}).startswith("a Coalition aircraft")
    from skyfence.hotline.templates import article

    assert [article(w) for w in ("East", "Iranian", "US-led", "European", "Ukrainian", "UN", "Russian")] == \
        ["an", "an", "a", "a", "a", "a", "a"]


def test_crossing_started_told_to_the_party_and_to_the_counterpart():
    inc = incident("crossing", "crossing_started", "crossing",
                   {"zone": "coalition-side", "zone_kind": "side", "depth_km": 3.1, "alt_max_ft": 24000})
    own = render(inc, "russia_syria", NAMES, "the Euphrates")
    assert own == ("[CROSSING] Your aircraft RFF90 (FL240) crossed the Euphrates 8 NM NE of Dayr az Zawr "
                   "(35.4100N 40.2700E) at 2017-11-01 06:04:12 UTC, 1.7 NM (3.1 km) deep, still inside. "
                   "Incident X-1.")
    other = render(inc, "coalition", NAMES, "the Euphrates")
    assert other.startswith("[CROSSING] A Russia and Syria aircraft, RFF90 (FL240), crossed the Euphrates 8 NM NE")


def test_warning_zone_end_encounter_interaction_manoeuvre_resolved():
    w = incident("crossing", "crossing_warning", "warning", {"zone": "at-tanf", "zone_kind": "zone",
                                                             "time_to_entry_s": 95})
    assert "is expected to cross into At-Tanf zone within 95 s" in render(w, "russia_syria", NAMES, None,
                                                                         {"at-tanf": "At-Tanf zone"})
    e = incident("crossing", "crossing_ended", "deep_crossing",
                 {"zone": "coalition-side", "zone_kind": "side", "depth_km": 12.0, "duration_s": 400,
                  "intent": "likely_deliberate", "entry_time": "2017-11-01T05:57:32.000000Z",
                  "exit_time": "2017-11-01T06:04:12.000000Z", "exit_lat": 35.2, "exit_lon": 40.1})
    text = render(e, "russia_syria", NAMES, None, {"coalition-side": "coalition side of the line (east)"})
    assert text.startswith("[DEEP CROSSING] Your aircraft RFF90 left the coalition side of the line (east) at "
                           "2017-11-01 06:04:12 UTC after 6 min 40 s inside, 6.5 NM (12.0 km) deep at most; out at ")
    assert "(35.2000N 40.1000E)" in text and "35.4100N" not in text  # where it left, not the deepest point
    assert text.endswith("; intent: likely deliberate. Incident X-1.")
    enc = incident("encounter", "level_changed", "loss", {"level": "loss", "horizontal_nm": 3.2, "vertical_ft": 400,
                                                         "closest_horizontal_nm": 2.9, "closest_vertical_ft": 300},
                   aircraft=(RFF, RCH))
    assert render(enc, "coalition", NAMES).startswith(
        "[LOSS] Your aircraft RCH871 and a Russia and Syria aircraft, RFF90: separation LOSS at 2017-11-01 "
        "06:04:12 UTC, 8 NM NE of Dayr az Zawr (35.4100N 40.2700E): 3.2 NM and 400 ft apart, closest so far 2.9 NM "
        "and 300 ft.")
    ended = incident("encounter", "encounter_ended", "loss", {"closest_horizontal_nm": 2.9, "closest_vertical_ft": 300},
                     aircraft=(RFF, RCH), status="resolved")
    assert render(ended, "russia_syria", NAMES).startswith("[LOSS] RESOLVED: The encounter of your aircraft RFF90 "
                                                           "and a US-led coalition aircraft, RCH871, ended")
    i = incident("interaction", "interaction", "caution", {"type": "intercept"}, aircraft=(RFF, RCH))
    assert "Your aircraft RFF90 and a US-led coalition aircraft, RCH871: intercept at" in render(i, "russia_syria",
                                                                                                 NAMES)
    m = incident("manoeuvre", "manoeuvre", "info", {"type": "hard_turn"})
    assert render(m, "coalition", NAMES).startswith("[INFO] A Russia and Syria aircraft, RFF90: hard turn at")


def test_a_crossing_is_told_at_its_entry_and_exit_and_only_a_crossing_as_crossed():
    """From a user trial: an aircraft first seen inside was told as having crossed the line; a deepening crossing
    re-told gave the tick's time as the crossing time; a warning for an entry across the region's edge said it
    would cross the line."""
    areas = {"east-side": "east side of the line (east)"}
    entry = {"zone": "east-side", "zone_kind": "side", "depth_km": 14.0, "entry_time": "2017-11-01T05:58:00.000000Z"}
    deep = incident("crossing", "crossing_started", "deep_crossing", {**entry, "entry_kind": "crossed"})
    text = render(deep, "russia_syria", NAMES, "the Aar", areas)
    assert "crossed the Aar 8 NM NE of Dayr az Zawr (35.4100N 40.2700E) at 2017-11-01 05:58:00 UTC, 7.6 NM " \
        "(14.0 km) deep, still inside at 2017-11-01 06:04:12 UTC." in text
    seen = incident("crossing", "crossing_started", "caution", {**entry, "entry_kind": "first_seen_inside"})
    text = render(seen, "coalition", NAMES, "the Aar", areas)
    assert "crossed" not in text
    assert "RFF90 (FL" not in text and "is inside the east side of the line (east) (first seen inside, not seen " \
        "to cross)" in text
    edge = incident("crossing", "crossing_warning", "warning", {"zone": "east-side", "zone_kind": "side",
                                                                "time_to_entry_s": 6, "via_line": False})
    assert "is expected to enter the east side of the line (east) across the region's edge within 6 s" in \
        render(edge, "russia_syria", NAMES, "the Aar", areas)
    gone = incident("crossing", "crossing_ended", "caution", {**entry, "entry_kind": "crossed", "exit_time": None})
    assert "Your aircraft RFF90: no reports since 2017-11-01 06:04:12 UTC, last seen inside the east side of the " \
        "line (east), 7.6 NM (14.0 km) deep" in render(gone, "russia_syria", NAMES, "the Aar", areas)


def test_a_warning_after_a_crossing_and_a_lapsed_warning_say_what_happened():
    """From a user trial: after SYR73486 had crossed and left, its party was told it 'is expected to cross within
    2 min 43 s' (the first warning's figure, from before the crossing); a warning that lapsed was sent as a fresh
    warning, and resolved as 'RESOLVED: ... is expected to cross'."""
    after = {"zone": "coalition-side", "zone_kind": "side", "entry_kind": "crossed",
             "entry_time": "2017-11-01T01:43:37.000000Z", "exit_time": "2017-11-01T01:45:31.000000Z",
             "time_to_entry_s": 94, "predicted_entry_lat": 35.3, "predicted_entry_lon": 40.15}
    text = render(incident("crossing", "crossing_warning", "crossing", after), "russia_syria", NAMES, "the Euphrates")
    assert text.startswith("[CROSSING] Your aircraft RFF90 is expected to cross the Euphrates again within 94 s, ")
    assert "(35.3000N 40.1500E)" in text  # where it would cross
    assert text.endswith("; it crossed the Euphrates at 2017-11-01 01:43:37 UTC and left at 2017-11-01 01:45:31 UTC. "
                         "Incident X-1.")
    warned = {"zone": "coalition-side", "zone_kind": "side", "time_to_entry_s": 153, "crossed": False,
              "warning_start": "2017-11-01T06:01:00.000000Z", "warning_end": "2017-11-01T06:02:40.000000Z"}
    lapsed = incident("crossing", "crossing_warning", "warning", warned)
    lapsed.ended_at = T
    assert render(lapsed, "coalition", NAMES, "the Euphrates") == (
        "[WARNING] The warning for a Russia and Syria aircraft, RFF90, is over: it did not cross the Euphrates "
        "(warned from 2017-11-01 06:01:00 UTC to 2017-11-01 06:02:40 UTC). Incident X-1.")
    lapsed.status = "resolved"
    assert render(lapsed, "russia_syria", NAMES, "the Euphrates").startswith(
        "[WARNING] RESOLVED: The warning for your aircraft RFF90 is over: it did not cross the Euphrates (warned")


def test_a_warning_over_for_one_never_seen_to_cross_or_entering_across_the_edge():
    """Review: 'again' of an aircraft first seen inside, and 'did not cross the line' of a warning of an entry
    across the region's edge."""
    inside = {"zone": "coalition-side", "zone_kind": "side", "entry_kind": "first_seen_inside",
              "entry_time": "2017-11-01T01:43:37.000000Z", "exit_time": "2017-11-01T01:45:31.000000Z",
              "time_to_entry_s": 94}
    text = render(incident("crossing", "crossing_warning", "caution", inside), "russia_syria", NAMES, "the Euphrates")
    assert "again" not in text and "is expected to cross the Euphrates within 94 s" in text
    assert "; it was inside at 2017-11-01 01:43:37 UTC and left at 2017-11-01 01:45:31 UTC." in text
    edge = incident("crossing", "crossing_warning", "warning", {"zone": "coalition-side", "zone_kind": "side",
                                                                "via_line": False, "crossed": False})
    edge.ended_at = T
    assert "is over: it did not enter the coalition-side." in render(edge, "russia_syria", NAMES, "the Euphrates")
