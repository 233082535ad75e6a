"""Plain-language hotline messages, one template per event kind, told to a party about its own aircraft
("your aircraft RFF90 crossed ...") or to the counterpart ("a Russia and Syria aircraft, RFF90, ...").

Times in UTC, positions as coordinates and as distance and bearing from the nearest bundled place,
figures in NM, ft and kt (the units of the people who answer the hotline).
"""

from __future__ import annotations

from datetime import datetime

from skyfence.hotline.places import describe_position

_KM_TO_NM = 1 / 1.852


def utc_text(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t is not None else "an unknown time"


def _num(v) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    s = int(round(seconds))
    if s < 120:
        return f"{s} s"
    return f"{s // 60} min" + (f" {s % 60:02d} s" if s % 60 else "")


def _label(aircraft) -> str:
    return aircraft.callsign or aircraft.track_id


def article(word: str) -> str:
    """"an" before a vowel sound ("an East aircraft"), else "a" ("a US-led", "a European", "a Ukrainian")."""
    you = word[:1] == "U" and (word[1:2].isupper() or word[:3].lower() in ("uni", "uk", "ukr", "use", "usu"))
    if word[:1].lower() in "aeiou" and not you and not word.lower().startswith(("eu", "uk", "one")):
        return "an"
    return "a"


def who(aircraft, party: str, party_names: dict[str, str], flying: str = "") -> str:
    """How the party hears of one aircraft: its own, another party's, or unknown (``flying``: "(FL240, 450 kt)")."""
    label = _label(aircraft) + (f" {flying}" if flying else "")
    if aircraft.party == party:
        return f"your aircraft {label}"
    if aircraft.party:
        name = party_names.get(aircraft.party, aircraft.party)
        return f"{article(name)} {name} aircraft, {label},"
    return f"an unidentified aircraft, {label},"


def _ordered(incident, party: str) -> list:
    """The involved aircraft, the party's own first."""
    return sorted(incident.aircraft, key=lambda a: a.party != party)


def render(incident, party: str, party_names: dict[str, str], line_name: str | None = None,
           area_names: dict[str, str] | None = None) -> str:
    """The message for ``party`` about the incident as it stands (its ``last_event``). A crossing of a
    side is "crossed the line" (``line_name``, e.g. "the Euphrates"); of a zone "crossed into" its name."""
    d = incident.details or {}
    event = incident.last_event or incident.kind
    when = utc_text(incident.last_update_time or incident.updated_at)
    where = describe_position(incident.lat, incident.lon)
    line = line_name or "the line"
    zone = d.get("zone") or d.get("area")
    crossed = f"into {(area_names or {}).get(zone, zone)}" if zone and d.get("zone_kind") == "zone" else line
    ac = _ordered(incident, party)
    alt = _num(d.get("altitude_ft") if d.get("altitude_ft") is not None else d.get("alt_max_ft"))
    speed = _num(d.get("ground_speed_kt"))
    flying = ", ".join(x for x in (f"FL{alt / 100:03.0f}" if alt is not None else "",
                                  f"{speed:.0f} kt" if speed is not None else "") if x)
    flying = f"({flying})" if flying else ""
    first = who(ac[0], party, party_names, flying if incident.kind in ("crossing", "manoeuvre") else "") \
        if ac else "an aircraft"
    second = who(ac[1], party, party_names) if len(ac) > 1 else "another aircraft"
    depth = _num(d.get("depth_km"))
    depth_text = f"{depth * _KM_TO_NM:.1f} NM ({depth:.1f} km) deep" if depth is not None else ""
    area = (area_names or {}).get(zone, zone) or line
    if incident.kind == "crossing" and event in ("crossing_warning", "crossing_started", "crossing_ended"):
        if event == "crossing_warning" and incident.ended_at is not None:
            event = "warning_over"  # the warning lapsed: no crossing came of it
        text = _crossing(event, d, first, crossed, area, where, when, depth_text)
    elif incident.kind == "encounter":
        level = d.get("level") or incident.severity
        h, v = _num(d.get("horizontal_nm")), _num(d.get("vertical_ft"))
        ch, cv = _num(d.get("closest_horizontal_nm")), _num(d.get("closest_vertical_ft"))
        apart = f": {h:.1f} NM and {v:,.0f} ft apart" if h is not None and v is not None else ""
        so_far = "" if event == "encounter_ended" else " so far"  # the closest approach is settled once it is over
        closest = f", closest{so_far} {ch:.1f} NM and {cv:,.0f} ft" if ch is not None and cv is not None else ""
        if event == "encounter_ended":
            text = f"The encounter of {first} and {second} ended at {when}, {where}{closest}."
        elif event in ("level_fell", "level_rose") and d.get("level_now"):
            hn, vn = _num(d.get("horizontal_now_nm")), _num(d.get("vertical_now_ft"))
            now_apart = f", {hn:.1f} NM and {vn:,.0f} ft apart" if hn is not None and vn is not None else ""
            text = (f"{first} and {second}: separation now {str(d['level_now']).upper()} (highest "
                    f"{str(level).upper()}) at {when}, {where}{now_apart}{closest}.")
        else:
            text = f"{first} and {second}: separation {str(level).upper()} at {when}, {where}{apart}{closest}."
    elif incident.kind == "interaction":
        what = str(d.get("type") or d.get("interaction") or "interaction").replace("_", " ")
        text = f"{first} and {second}: {what} at {when}, {where}."
    else:
        what = str(d.get("type") or d.get("manoeuvre") or "aggressive manoeuvre").replace("_", " ")
        text = f"{first}: {what} at {when}, {where}."
    text = text.replace(",:", ":").replace(", ,", ",").replace(",.", ".")  # after "a ... aircraft, RFF90,"
    text = text[0].upper() + text[1:]
    if incident.status == "resolved":
        text = f"RESOLVED: {text}"
    return f"[{incident.severity.replace('_', ' ').upper()}] {text} Incident {incident.id}."


ENTRY_WORDS = {"first_seen_inside": "first seen inside", "region_edge": "come in across the region's edge",
               "zone_opened": "inside as the zone opened"}


def _crossing(event: str, d: dict, first: str, crossed: str, area: str, where: str, when: str,
              depth_text: str) -> str:
    """A crossing's message: crossed (entering from the allowed side), or inside without being seen to cross;
    at its entry time; out again at its exit time and point, or no longer reported while inside."""
    entry = utc_text(_when(d.get("entry_time"))) if d.get("entry_time") else when
    before = ""  # a warning after the aircraft had been inside: what it did then
    if d.get("entry_kind") is not None:
        before = f"; it crossed {crossed} at {entry}" if d.get("entry_kind") == "crossed" else f"; it was inside at {entry}"
        before += f" and left at {utc_text(_when(d['exit_time']))}" if d.get("exit_time") else ""
    again = " again" if d.get("entry_kind") == "crossed" else ""  # never "again" of one not seen to cross
    if event == "warning_over":
        span = ""
        if d.get("warning_start") and d.get("warning_end"):
            span = (f" (warned from {utc_text(_when(d['warning_start']))} to "
                    f"{utc_text(_when(d['warning_end']))})")
        did_not = f"enter the {area}" if d.get("via_line") is False else f"cross {crossed}"
        return f"The warning for {first} is over: it did not {did_not}{again}{span}{before}."
    if event == "crossing_warning":
        tte = _num(d.get("time_to_entry_s"))
        soon = f"within {duration(tte)}" if tte is not None else "soon"
        lat, lon = _num(d.get("predicted_entry_lat")), _num(d.get("predicted_entry_lon"))
        at_point = describe_position(lat, lon) if lat is not None and lon is not None else where
        if d.get("via_line") is False:
            return (f"{first} is expected to enter the {area}{again} across the region's edge {soon}, {at_point}, "
                    f"at {when}{before}.")
        return f"{first} is expected to cross {crossed}{again} {soon}, {at_point}, at {when}{before}."
    deep = f", {depth_text}" if depth_text else ""
    if event == "crossing_started":
        still = ", still inside" + (f" at {when}" if when != entry else "")
        if d.get("entry_kind") in (None, "crossed"):
            return f"{first} crossed {crossed} {where} at {entry}{deep}{still}."
        how = ENTRY_WORDS.get(d.get("entry_kind"), str(d.get("entry_kind")).replace("_", " "))
        return f"{first} is inside the {area} ({how}, not seen to cross), {where}, at {entry}{deep}{still}."
    if not d.get("exit_time"):  # no report for a flight gap while inside
        return f"{first}: no reports since {when}, last seen inside the {area}{deep}, {where}."
    out = utc_text(_when(d.get("exit_time")))
    lat, lon = _num(d.get("exit_lat")), _num(d.get("exit_lon"))
    left_at = describe_position(lat, lon) if lat is not None and lon is not None else where
    intent = d.get("intent")
    return (f"{first} left the {area} at {out} after {duration(_num(d.get('duration_s')))} inside"
            + (f", {depth_text} at most" if depth_text else "") + f"; out at {left_at}"
            + (f"; intent: {str(intent).replace('_', ' ')}" if intent else "") + ".")


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def reminder(text: str, contact: str, within_s: float) -> str:
    """A re-sent message: not acknowledged within the contact's time."""
    return f"REMINDER, not acknowledged within {duration(within_s)}: {text}"


def escalation(text: str, previous: str, within_s: float) -> str:
    """A message escalated to the next contact."""
    return f"ESCALATED, {previous} did not acknowledge within {duration(within_s)}: {text}"
