"""Event tables of successive windows turned into incident updates, each state change once.

Every tick the detectors see the same events again, a little further on. :class:`EventTracker` follows
each event from window to window by what it is (the aircraft, the area or the kind of manoeuvre) and
when (its interval overlapping the one already known), so an event keeps its identity whatever the
window boundaries: its id comes from its content (the aircraft, the area, the start to the second)
the first time it is trusted (:class:`skyfence.live.window.StateWindow`), and later windows only
move its figures on. It emits an update when the event's state changes:

- crossing: ``crossing_warning`` (predicted entry and time to entry; again with ``ended`` when the
  warning lapsed without a crossing), ``crossing_started``, ``crossing_ended`` (depth, duration, intent);
- encounter: ``level_changed`` as its highest level rises (separation at the alerted minimum and at the
  closest approach), ``level_fell`` / ``level_rose`` as the level at its latest instant falls (loss ->
  warning) or rises again below its highest (with the separation now), ``encounter_ended`` once it is
  over (the level falls back to none);
- manoeuvre and interaction: ``manoeuvre`` / ``interaction`` once detected (confirmed by the detector's
  own duration rules) and again once over.

An event that ended more than a context ago can no longer change: it is final and forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.behaviour import with_intent
from skyfence.analysis.pipeline import Events
from skyfence.detect.conflicts import LEVELS
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.live.contract import Aircraft, EventUpdate, incident_id
from skyfence.live.details import (aircraft_of, crossing_details, encounter_details, figure, floor_utc,
                                   iso_text, label, LatestRows, predict_entry, seconds_of, separation_at, shown,
                                   track_points, utc)

TRACK_AROUND = 300.0  # s of positions before the event (and after, as far as seen) sent with an update
KEEP_WHOLE = ("crossing", "encounter")
SETTLE = 60.0  # s: a manoeuvre or interaction is told once it began this long before the tick (at the window's
# newest edge the kinematics have no states after them yet, and a turn seen there may vanish with the next ones)
WARNING_MERGE = 120.0  # s: warning episodes of one aircraft and area this close are one warning; this long
# after the last warning state with no crossing, the warning has lapsed


@dataclass
class Followed:
    """One event followed across windows."""

    id: str
    kind: str
    key: tuple
    start: float  # Unix s, as first trusted
    end: float  # latest known end (the last time seen while it goes on)
    tracks: tuple[str, ...]
    emitted: dict[str, tuple] = field(default_factory=dict)  # event name -> signature last emitted
    level: int = 0
    now_level: int | None = None  # encounter: the level at its latest instant, as last told
    crossed: bool = False
    exited: float | None = None  # crossing: when it left, while its latest row says it has
    entered: float | None = None  # crossing: the earliest entry told (a row cut by the window's start enters later)
    ended_at: float | None = None
    told: datetime | None = None  # the time of the last update emitted


class EventTracker:
    """Follows events across windows and says what changed (a list of :class:`EventUpdate`)."""

    def __init__(self, agreement: Agreement, settings: EncounterSettings, context: float, tick: float) -> None:
        self.agreement = agreement
        self.settings = settings
        self.context = context
        self.tick = tick
        self.data_gap = agreement.thresholds.crossing.data_gap
        self.lookahead = agreement.thresholds.crossing.warning_lookahead
        self.flight_gap = agreement.thresholds.crossing.flight_gap
        self.following: dict[tuple, list[Followed]] = {}  # (kind, key) -> events
        self.crossings_made: dict[tuple[str, str], list[float]] = {}  # (track, zone) -> entry times seen
        self.resumed_from: dict[str, float] = {}  # aircraft -> the start of its history taken back at a restart
        self.end_words = "at the end of the data"  # how the last run's "still inside" says why it is the last
        self.finished = 0  # events final and forgotten

    # ---- the public surface -------------------------------------------------------------------

    def open_aircraft(self) -> dict[str, float]:
        """Aircraft in crossings and encounters not yet final, and from when their states are needed: their
        figures (depth, duration, intent; closest approach) are taken over the whole event. A manoeuvre or an
        interaction longer than the window (an orbit of hours) is followed by its overlap alone, so its aircraft
        keep no older states."""
        keep: dict[str, float] = {}
        for (kind, _), events in self.following.items():
            if kind not in KEEP_WHOLE:
                continue
            for f in events:
                if kind == "crossing" and not f.crossed:
                    continue
                for t in f.tracks:
                    keep[t] = min(keep.get(t, math.inf), f.start - self.context)
        return keep

    def open_count(self) -> int:
        return sum(len(v) for v in self.following.values())

    def update(self, ev: Events, df: pl.DataFrame, now: float, trusted_from: float, done: bool = False
               ) -> list[EventUpdate]:
        """The updates that the events of this window (detected over ``df`` up to ``now``) cause."""
        out: list[EventUpdate] = []
        self._last_seen: dict | None = None  # this window's last report per aircraft, gathered when first asked
        out += self._warnings(ev, df, now, trusted_from)
        out += self._crossings(ev, df, now, trusted_from, done)
        out += self._lapses(df, now)
        out += self._encounters(ev.encounters, df, now, trusted_from)
        out += self._spans(ev.manoeuvres, df, now, trusted_from, "manoeuvre", done)
        out += self._spans(ev.interactions, df, now, trusted_from, "interaction", done)
        if not done:
            self._forget(now)
        return sorted(out, key=lambda u: (u.time, u.incident_id))  # stable: an event's updates in the order made

    # ---- matching ------------------------------------------------------------------------------

    def _trusted(self, start: float, tracks: tuple[str, ...], trusted_from: float) -> bool:
        """Whether an event starting at ``start`` was seen with all the history it needs: after the window's
        trusted start or, for aircraft whose history a restarted monitor took back from its recording
        (``resumed_from``), a context after that history begins."""
        if self.resumed_from and any(t in self.resumed_from for t in tracks):
            return all(start >= self.resumed_from.get(t, -math.inf) + self.context for t in tracks)
        return start >= trusted_from

    def _match(self, kind: str, key: tuple, start: float, end: float, tol: float) -> Followed | None:
        for f in self.following.get((kind, key), []):
            if start <= f.end + tol and end >= f.start - tol:
                return f
        return None

    def _match_crossing(self, key: tuple, start: float, end: float, tol: float, after: float,
                        stay: tuple[float, float] | None = None) -> Followed | None:
        """The crossing (or warning) of this aircraft and area that ``start``..``end`` belongs to: one overlapping
        it within ``tol``, unless that crossing had left before ``after`` (a warning or an entry after a crossing
        ended is a new one, as ``analyze`` has it, however soon it comes), or, for a ``stay`` inside (entry, last
        time inside), one entered after that stay was over (an earlier stay, forgotten since but still in the
        window, cut by its start: not the crossing whose warning overlaps it)."""
        for f in self.following.get(("crossing", key), []):
            if f.exited is not None and after > f.exited + 1.0:
                continue
            if stay is not None and f.entered is not None and stay[1] < f.entered - 1.0:
                continue
            if start <= f.end + tol and end >= f.start - tol:
                return f
        return None

    def _follow(self, kind: str, key: tuple, start: float, end: float, tracks: tuple[str, ...], *id_parts
                ) -> Followed:
        f = Followed(incident_id(kind, *id_parts, floor_utc(start)), kind, key, start, end, tracks)
        self.following.setdefault((kind, key), []).append(f)
        return f

    def _forget(self, now: float) -> None:
        final_before = now - self.context
        for k in list(self.following):
            keep = [f for f in self.following[k] if f.end >= final_before]
            self.finished += len(self.following[k]) - len(keep)
            if keep:
                self.following[k] = keep
            else:
                del self.following[k]

    @staticmethod
    def _emit(f: Followed, event: str, sig: tuple) -> bool:
        if f.emitted.get(event) == sig:
            return False
        f.emitted[event] = sig
        return True

    # ---- crossings and their warnings ----------------------------------------------------------

    def _warnings(self, ev: Events, df: pl.DataFrame, now: float, trusted_from: float) -> list[EventUpdate]:
        """A warning as soon as an episode is trusted; the episodes of one aircraft and area close together are
        one warning (one incident)."""
        from skyfence.cluster.window import episodes

        self._warned: list[tuple[Followed, dict, str]] = []
        eps = episodes(df, ev.warnings)
        if eps.height == 0:
            return []
        out = []
        areas = {a.id: a for a in self.agreement.areas}
        latest = LatestRows(df)
        for zone, track, start, end in eps.sort("start").select("zone", "track_id", "start", "end").iter_rows():
            s, e = seconds_of(start), seconds_of(end)
            key = (track, zone)
            f = self._match_crossing(key, s, e, WARNING_MERGE, s)
            if f is None:
                if not self._trusted(s, (track,), trusted_from):
                    continue
                f = self._follow("crossing", key, s, e, (track,), track, zone)
            f.end = max(f.end, e)
            if f.crossed:
                continue
            row = latest.last(track, end)
            self._warned.append((f, row, zone))
            if "crossing_warning" in f.emitted:
                continue
            predicted = predict_entry(row, areas[zone], self.agreement, self.lookahead)
            details = {"zone": zone, "area": zone, "zone_kind": areas[zone].kind, "warning_start": iso_text(s),
                       "warning_end": iso_text(e), **predicted}
            self._emit(f, "crossing_warning", (round(f.start), False))
            ac = aircraft_of(row)
            tta = predicted.get("time_to_entry_s")
            what = f"{self._who(ac)} may enter {zone}" + (f" in {tta:.0f} s" if tta is not None else "")
            out.append(self._update(f, "crossing_warning", utc(f.start), "warning", (ac,), row["lat"], row["lon"],
                                    None, False, what, details, df))
        return out

    def _lapses(self, df: pl.DataFrame, now: float) -> list[EventUpdate]:
        """Warnings that lapsed: no crossing, and no warning of the same aircraft and area for a while (decided
        after the crossings of the window, so that a warning followed by its crossing never lapses)."""
        out, seen = [], set()
        for f, row, zone in getattr(self, "_warned", []):
            if f.crossed or id(f) in seen or f.end + WARNING_MERGE >= now:
                continue
            seen.add(id(f))
            if not self._emit(f, "crossing_warning", (round(f.start), True)):
                continue
            ac = aircraft_of(row)
            details = {"zone": zone, "area": zone, "warning_start": iso_text(f.start), "warning_end": iso_text(f.end),
                       "crossed": False}
            out.append(self._update(f, "crossing_warning", utc(f.end + WARNING_MERGE), "warning", (ac,), row["lat"],
                                    row["lon"], f.end, True, f"{self._who(ac)}: warning for {zone} over, no crossing",
                                    details, df))
        self._warned = []
        return out

    def _crossings(self, ev: Events, df: pl.DataFrame, now: float, trusted_from: float, done: bool = False
                   ) -> list[EventUpdate]:
        table = ev.crossings
        if table.height == 0:
            return []
        table = self._reassess(table, ev.crossing_signs)
        out = []
        for r in table.iter_rows(named=True):
            entry = seconds_of(r["entry_time"])
            lead = r["warning_lead_s"]
            first = entry - lead if lead is not None and math.isfinite(lead) else entry
            ended = r["exit_time"] is not None and not r["open"]
            last = seconds_of(r["exit_time"]) if ended else entry + (r["duration_s"] or 0.0)
            # an exit a return could still be merged into (analyze's hysteresis) is told once it is final
            pending = ended and not (r["exit_final"] or done or self._flight_over(df, r["track_id"], now))
            ended = ended and not pending
            # no reports for a flight gap while inside: its flight is over (any later report begins another, as
            # analyze has it) and the crossing with it, open at its last report (out of coverage, or landed)
            gone = not ended and bool(r["open"]) and last + self.flight_gap < now
            key = (r["track_id"], r["zone"])
            f = self._match_crossing(key, first, last, 1.0, entry, (entry, last))
            if f is None:
                if not self._trusted(entry, (r["track_id"],), trusted_from):
                    continue
                f = self._follow("crossing", key, first, last, (r["track_id"],), r["track_id"], r["zone"])
            f.end = max(f.end, last, now if pending else last)  # a stay whose exit may still change goes on
            f.entered = entry if f.entered is None else min(f.entered, entry)
            f.exited = seconds_of(r["exit_time"]) if ended else None
            crossed = r["entry_kind"] == "crossed"
            if crossed and not f.crossed:
                self.crossings_made.setdefault(key, []).append(entry)
            f.crossed = True
            ac = Aircraft(r["track_id"], r["callsign"], r["party"])
            details = crossing_details(r)
            if pending:
                details.update(exit_time=None, exit_lat=None, exit_lon=None, intent=None, intent_score=None,
                               intent_reasons=None)
            start_known = f.emitted.get("crossing_started")
            severity = self._severity("crossing", "crossing_started", details)
            what = (f"{self._who(ac)} crossed into {r['zone']}" if crossed else
                    f"{self._who(ac)} inside {r['zone']} ({r['entry_kind'].replace('_', ' ')})")
            lat = r["entry_lat"] if r["entry_lat"] is not None else r["deepest_lat"]
            lon = r["entry_lon"] if r["entry_lon"] is not None else r["deepest_lon"]
            if start_known is None or start_known[0] != round(entry):
                self._emit(f, "crossing_started", (round(entry), severity))
                out.append(self._update(f, "crossing_started", r["entry_time"], severity, (ac,), lat, lon, None, False,
                                        what, details, df))
            elif not ended and not gone and (start_known[1] != severity or done):
                # told again while it goes on: when it becomes deep, and with its figures at the end of the data
                self._emit(f, "crossing_started", (round(entry), severity, done))
                so_far = (f", {r['max_depth_km']:.1f} km deep after {r['duration_s']:.0f} s, still inside"
                          + (f" {self.end_words}" if done else ""))
                out.append(self._update(f, "crossing_started", utc(now), severity, (ac,), lat, lon, None, False,
                                        what + so_far, details, df))
            if gone and self._emit(f, "crossing_ended", ("gone", round(last), round(r["max_depth_km"] or 0.0, 2))):
                what = (f"{self._who(ac)}: no reports since {utc(last):%H:%M:%S} UTC, last seen inside "
                        f"{r['zone']} {r['max_depth_km']:.1f} km deep after {r['duration_s']:.0f} s"
                        + (f", {r['intent']}" if r["intent"] else ""))
                over = {**details, **{k: r.get(k) for k in ("intent", "intent_score", "intent_reasons")}}  # judged
                out.append(self._update(f, "crossing_ended", utc(last),
                                        self._severity("crossing", "crossing_ended", over), (ac,),
                                        r["deepest_lat"], r["deepest_lon"], last, True, what, over, df))
            if ended:
                sig = (round(seconds_of(r["exit_time"])), round(r["max_depth_km"] or 0.0, 2), r["intent"])
                if self._emit(f, "crossing_ended", sig):
                    what = (f"{self._who(ac)} left {r['zone']} after {r['duration_s']:.0f} s, "
                            f"{r['max_depth_km']:.1f} km deep" + (f", {r['intent']}" if r["intent"] else ""))
                    out.append(self._update(f, "crossing_ended", r["exit_time"],
                                            self._severity("crossing", "crossing_ended", details), (ac,),
                                            lat, lon, seconds_of(r["exit_time"]), True, what, details, df))  # at its entry
        return out

    def _who(self, a: Aircraft) -> str:
        """An aircraft as a summary names it: callsign (or address) and its party's name (as the hotline does)."""
        party = self.agreement.party(a.party) if a.party else None
        return f"{label(a)} ({party.name if party is not None else a.party or 'unknown party'})"

    def _flight_over(self, df: pl.DataFrame, track: str, now: float) -> bool:
        """No report of ``track`` for a flight gap: its flight is over, and a stay of it with it. The window's
        last report per aircraft is gathered once a window (not a filter of the whole window per crossing)."""
        if self._last_seen is None:
            last = df.group_by("track_id").agg(pl.col("time").max())
            self._last_seen = dict(zip(last["track_id"].to_list(), last["time"].to_list()))
        seen = self._last_seen.get(track)
        return seen is None or seconds_of(seen) + self.flight_gap < now

    def _reassess(self, table: pl.DataFrame, signs: list) -> pl.DataFrame:
        """Intent with the crossings the aircraft made before, in all the data the monitor saw (not only the
        window), as ``analyze`` counts them."""
        import dataclasses

        if not signs or all(s is None for s in signs):
            return table
        renewed = []
        for r, j in zip(table.select("track_id", "zone", "entry_time").iter_rows(), signs):
            if j is None:
                renewed.append(None)
                continue
            entry = seconds_of(r[2])
            before = sum(1 for t in self.crossings_made.get((r[0], r[1]), []) if t < entry - 1.0)
            renewed.append((dataclasses.replace(j[0], earlier_crossings=before), j[1]))
        return with_intent(table, renewed)

    # ---- encounters ----------------------------------------------------------------------------

    def _encounters(self, table: pl.DataFrame, df: pl.DataFrame, now: float, trusted_from: float) -> list[EventUpdate]:
        if table.height == 0:
            return []
        out = []
        # over once it can no longer merge with a new alert, told once its closest approach (which looks a
        # look-ahead past the end) is settled
        over_after = max(self.settings.merge_gap + self.settings.step, self.agreement.thresholds.separation.lookahead)
        for r in table.iter_rows(named=True):
            s, e = seconds_of(r["start_time"]), seconds_of(r["end_time"])
            a, b = sorted((r["track_a"], r["track_b"]))
            key = (a, b)
            f = self._match("encounter", key, s, e, self.settings.merge_gap)
            if f is None:
                if not self._trusted(s, key, trusted_from):
                    continue
                f = self._follow("encounter", key, s, e, key, a, b)
            f.end = max(f.end, e)
            level = LEVELS.index(r["max_level"]) if r["max_level"] in LEVELS else 0
            aircraft = (Aircraft(r["track_a"], r["callsign_a"], r["party_a"]),
                        Aircraft(r["track_b"], r["callsign_b"], r["party_b"]))
            details = encounter_details(r)
            lat, lon = r["lat_at_min"], r["lon_at_min"]
            if level > f.level:
                first = f.level == 0
                f.level = f.now_level = level
                self._emit(f, "level_changed", (level,))
                what = (f"{self._who(aircraft[0])} and {self._who(aircraft[1])}: "
                        f"{r['max_level']}, {shown(r['min_horizontal_nm'], 1)} NM / {shown(r['min_vertical_ft'], 0)} ft")
                # the first level at the encounter's start; a rise later at the tick that saw it (never the same
                # time twice, so the store keeps both)
                out.append(self._update(f, "level_changed", r["start_time"] if first else utc(now),
                                        self._severity("encounter", "level_changed", details), aircraft, lat, lon,
                                        None, False, what, details, df))
            # the level at the encounter's latest instant, while it goes on: told when it falls (loss -> warning)
            # or rises again below its highest
            now_level = LEVELS.index(r["last_level"]) if r.get("last_level") in LEVELS else level
            if f.now_level is None:
                f.now_level = f.level
            if now_level != f.now_level and e + over_after >= now and e >= now - self.tick - self.settings.step:
                event = "level_fell" if now_level < f.now_level else "level_rose"
                f.now_level = now_level
                h, v = separation_at(df, a, b, e, self.agreement)
                sep = f", {h:.1f} NM / {shown(v, 0)} ft apart" if h is not None else ""
                what = (f"{self._who(aircraft[0])} and {self._who(aircraft[1])}: now {LEVELS[now_level]} (highest "
                        f"{r['max_level']}){sep}")
                d = {**details, "level_now": LEVELS[now_level], "horizontal_now_nm": h, "vertical_now_ft": v}
                out.append(self._update(f, event, utc(now), self._severity("encounter", event, details), aircraft,
                                        lat, lon, None, False, what, d, df))
            if e + over_after < now:
                sig = (round(e),)
                if self._emit(f, "encounter_ended", sig):
                    f.ended_at = e
                    what = (f"{self._who(aircraft[0])} and {self._who(aircraft[1])}: encounter over (highest {r['max_level']}, "
                            f"closest {shown(r['closest_horizontal_nm'], 1)} NM / {shown(r['closest_vertical_ft'], 0)} ft)")
                    out.append(self._update(f, "encounter_ended", r["end_time"],
                                            self._severity("encounter", "encounter_ended", details), aircraft, lat,
                                            lon, e, True, what, details, df))
        return out

    # ---- manoeuvres and interactions -----------------------------------------------------------

    def _spans(self, table: pl.DataFrame, df: pl.DataFrame, now: float, trusted_from: float, kind: str,
               done: bool = False) -> list[EventUpdate]:
        if table.height == 0:
            return []
        out = []
        # a manoeuvre or interaction is over once it can no longer grow: its detector looks a context back
        over_after = self.context if not done else self.settings.merge_gap  # at the end of the data: as analyze
        for r in table.iter_rows(named=True):
            s, e = seconds_of(r["start_time"]), seconds_of(r["end_time"])
            if kind == "manoeuvre":
                what_kind = r["manoeuvre"]
                key = (r["track_id"], what_kind)
                tracks = (r["track_id"],)
                aircraft = (Aircraft(r["track_id"], r["callsign"], r["party"]),)
                details = {"type": what_kind, "peak": figure(r["peak"], 3), "peak_unit": r["peak_unit"],
                           "duration_s": figure(r["duration_s"], 1), "near_line_km": figure(r["near_line_km"], 2)}
            else:
                what_kind = r["interaction"]
                key = (what_kind, r["track_id"], r["other_track_id"])
                tracks = (r["track_id"], r["other_track_id"])
                aircraft = (Aircraft(r["track_id"], r["callsign"], r["party"]),
                            Aircraft(r["other_track_id"], r["other_callsign"], r["other_party"]))
                details = {"type": what_kind, "closest_nm": figure(r["closest_nm"], 3),
                           "duration_s": figure(r["duration_s"], 1)}
            # two manoeuvres of a kind a few seconds apart are two events: only overlapping sightings are one
            f = self._match(kind, key, s, e, 1.0)
            if f is None:
                if not self._trusted(s, tracks, trusted_from) or (s + SETTLE > now and not done):
                    continue  # not trusted, or too new: the newest states' kinematics still change with what follows
                f = self._follow(kind, key, s, e, tracks, *key)
            f.end = max(f.end, e)
            # an event longer than the window is seen cut at the window's start: its start is the one first seen
            start = min(f.start, s)
            details.update(start_time=iso_text(start), end_time=iso_text(e), duration_s=figure(e - start, 1))
            over = e + over_after < now
            if kind in f.emitted and (f.emitted[kind] != ("open",) or not over):
                continue  # told once when confirmed, once when over
            if self._emit(f, kind, ("over",) if over else ("open",)):
                if kind == "manoeuvre":
                    text = f"{self._who(aircraft[0])}: {what_kind.replace('_', ' ')}"
                else:
                    text = (f"{self._who(aircraft[0])} {what_kind.replace('_', ' ')} of "
                            f"{self._who(aircraft[1])}")
                if over:
                    text += f", {e - start:.0f} s"
                out.append(self._update(f, kind, r["end_time"] if over else r["start_time"],
                                        self._severity(kind, kind, details), aircraft, r["lat"], r["lon"],
                                        e if over else None, over, text, details, df))
        return out

    # ---- building an update --------------------------------------------------------------------

    def _severity(self, kind: str, event: str, details: dict) -> str:
        from skyfence.live.severity import severity

        return severity(self.agreement, kind, event, details)

    def _update(self, f: Followed, event: str, time, severity: str, aircraft: tuple[Aircraft, ...], lat, lon,
                end: float | None, ended: bool, summary: str, details: dict, df: pl.DataFrame) -> EventUpdate:
        if isinstance(time, (int, float)):
            time = utc(time)
        # an event's updates never go back in time (the store takes an update older than the last as stale): an
        # encounter's end comes before the tick that saw its last rise, and would be lost
        if f.told is not None and time < f.told:
            time = f.told
        f.told = time
        parties = tuple(sorted({a.party for a in aircraft if a.party and a.party != "unknown"}))
        if f.kind == "encounter":
            details["level"] = LEVELS[f.level]
        return EventUpdate(f.id, f.kind, event, time, severity, aircraft, parties,
                           float(lat) if lat is not None else math.nan, float(lon) if lon is not None else math.nan,
                           floor_utc(f.start) if f.kind != "crossing" else utc(f.start),
                           utc(end) if end is not None else None, ended, summary, details,
                           track_points(df, f.tracks, f.start - TRACK_AROUND))
