"""The monitor loop: states in, detection every tick over a rolling window, incident updates out.

Each tick (``tick`` seconds of data time) the states received since the last tick are checked row by
row (:func:`skyfence.tracks.clean.clean_rows`, counted), identified, de-duplicated across receivers
and added to the air picture (and, with ``record``, to hourly Parquet files). At each detection run they are
cleaned along each track by a fold (:class:`~skyfence.tracks.clean_fold.CleaningFold`: each report once its
cleaning is final, the same as cleaning the whole feed gives it, into the window; the reports not final yet as
cleaned on what has come), and the window with those is run through
:func:`skyfence.analysis.pipeline.detect_events`,
the same function ``analyze`` calls, and :class:`skyfence.live.updates.EventTracker` turns what changed
into :class:`EventUpdate` s, which go to the store through an :class:`~skyfence.live.outbox.Outbox`
and to every listener.

Clocks: when every source is a recorded file, the monitor runs on the data's own clock (ticks at whole
multiples of ``tick`` since the epoch, so two runs see the same windows), paced by ``speed`` (1 real
time, 60 a minute a second, 0 as fast as it can), and ends once the data does. With a live source, a
tick comes every ``tick`` seconds of wall time and the data time is the latest state's: the loop
receives, records and ticks the air picture at every tick, and detection runs beside it on its own
thread (:class:`~skyfence.live.detection_thread.DetectionThread`), each run on the latest data time, so
a detection run longer than a tick delays the incidents (``behind`` in the report) but not the picture.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from skyfence.agreement.model import Agreement
from skyfence.analysis.pipeline import DetectionMemo, detect_events
from skyfence.cluster.archive import context_seconds
from skyfence.detect.encounter_table import EncounterSettings
from skyfence.live.detection_thread import DetectionThread
from skyfence.live.merge import Deduplicator
from skyfence.live.outbox import Outbox, OutboxWriter
from skyfence.live.picture import Picture
from skyfence.live.sources import FileSource, Source
from skyfence.live.details import utc
from skyfence.live.updates import EventTracker
from skyfence.live.window import OPEN_CAP, StateWindow, data_time, detection_view
from skyfence.stopping import stop_on_signals
from skyfence.sources.tabular import ReadReport
from skyfence.tracks.clean import clean_rows
from skyfence.tracks.clean_fold import CleaningFold
from skyfence.tracks.schema import empty_tracks

RECORD_FLUSH = 1.0  # s of wall time between writes of the recording (what a kill -9 can lose of it)
BEHIND_TOLD = 30.0  # s: detection trailing the feed this much is said in the log
FUTURE_SKEW = 600.0  # s: a live state dated this far ahead of the feed's clock is a bad record
LIVE_LATENESS = 30.0  # s: how far behind the feed's clock a live state may come and still be cleaned with its track
LATE = f"came over {LIVE_LATENESS:g} s behind the feed (too late to clean with its track)"


@dataclass
class MonitorReport:
    """What a run did."""

    states: int = 0  # accepted (after row checks and de-duplication)
    records: int = 0  # received from the sources
    bad: Counter = field(default_factory=Counter)
    duplicates: int = 0
    ticks: int = 0
    detections: int = 0
    updates: int = 0
    incidents: set = field(default_factory=set)
    detect_seconds: list = field(default_factory=list)  # wall time of each detection run
    latencies: list = field(default_factory=list)  # arrival of a tick's earliest state -> its updates handed over
    update_latencies: list = field(default_factory=list)  # the same, one per update emitted
    window_states: list = field(default_factory=list)
    behind: list = field(default_factory=list)  # live, at each tick: wall s since the oldest data not yet detected came
    tick_gaps: list = field(default_factory=list)  # live: wall seconds between ticks of the picture
    first_time: datetime | None = None
    last_time: datetime | None = None
    seconds: float = 0.0
    store_waiting: int = 0
    store_written: int = 0
    store_changes: int = 0  # the changes those updates made (none for one the store had: a restart's replay)
    store_failures: int = 0
    recorded: list = field(default_factory=list)

    def as_dict(self) -> dict:
        def pct(v, q):
            if not v:
                return None
            s = sorted(v)
            return round(s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)], 4)

        return {"records_received": self.records, "states": self.states, "bad_records": sum(self.bad.values()),
                "bad_by_reason": dict(sorted(self.bad.items())), "duplicates_removed": self.duplicates,
                "ticks": self.ticks, "detections": self.detections, "updates": self.updates,
                "events": len(self.incidents), "seconds": round(self.seconds, 3),
                "detect_s_p50": pct(self.detect_seconds, 0.5), "detect_s_p99": pct(self.detect_seconds, 0.99),
                "latency_s_p50": pct(self.latencies, 0.5), "latency_s_p99": pct(self.latencies, 0.99),
                "update_latency_s_p50": pct(self.update_latencies, 0.5),
                "update_latency_s_p99": pct(self.update_latencies, 0.99),
                "behind_s_p50": pct(self.behind, 0.5), "behind_s_p99": pct(self.behind, 0.99),
                "picture_tick_s_p50": pct(self.tick_gaps, 0.5), "picture_tick_s_p99": pct(self.tick_gaps, 0.99),
                "first_time": self.first_time.isoformat() if self.first_time else None,
                "last_time": self.last_time.isoformat() if self.last_time else None,
                "store_waiting": self.store_waiting, "store_written": self.store_written,
                "store_changes": self.store_changes,
                "store_failures": self.store_failures, "recorded_files": self.recorded}


class Monitor:
    """One run of the monitor over ``sources`` (opened, not started) against ``agreement``."""

    def __init__(self, sources: Sequence[Source], agreement: Agreement, store=None, record: str | Path | None = None,
                 tick: float = 1.0, speed: float = 1.0, duration: float | None = None,
                 settings: EncounterSettings = EncounterSettings(), log: Callable[[str], None] = lambda _: None,
                 picture: Picture | None = None) -> None:
        if not (tick > 0 and math.isfinite(tick)):
            from skyfence.errors import InputError

            raise InputError("--tick must be positive")
        if not (speed >= 0 and math.isfinite(speed)):
            from skyfence.errors import InputError

            raise InputError("--speed must be 0 (as fast as possible) or more")
        self.sources = list(sources)
        self.agreement = agreement
        self.tick_s = tick
        self.speed = speed
        self.duration = duration
        self.settings = settings
        self.log = log
        self.context = context_seconds(agreement)
        # an event is first seen up to a tick after its detector confirms it (up to a context after its start):
        # the window keeps a context before that, and the tick
        self.window = StateWindow(2.0 * self.context + tick, self.context, tick)
        # a replay hands over every state before a tick at the tick; live feeds come as they come
        self.cleaning = CleaningFold(lateness=0.0 if all(not s.live for s in self.sources) else LIVE_LATENESS)
        self.tracker = EventTracker(agreement, settings, self.context, tick)
        self.memo = DetectionMemo()  # what a detection run keeps for the next
        self.dedupe = Deduplicator()
        self.picture = picture or Picture()
        self.outbox = Outbox(store, log=log) if store is not None else None
        self.writer: OutboxWriter | None = None  # live: the store written beside detection, which never waits for it
        self.sink = None
        if record is not None:
            from skyfence.live.sink import HourlySink

            self.sink = HourlySink(record)
            if self.sink.recovered:
                log(f"recovered {self.sink.recovered} hour(s) of states left by an interrupted recording")
        self.listeners: list[Callable[[list], None]] = []
        self.report = MonitorReport()
        self._new = 0  # states received since the last detection run took the window
        self._lock = threading.Lock()  # _new and _arrival, between the receiving loop and the detection thread
        self.detection: DetectionThread | None = None
        self.behind_told = BEHIND_TOLD
        self._behind_told: float | None = None
        self._last_picture_tick: float | None = None
        self._row_bad: Counter = Counter()
        self._arrival: float | None = None
        self._last: tuple | None = None
        self._provisional = empty_tracks()  # the states whose cleaning is not final yet, as cleaned at the last run
        self._stop = threading.Event()
        self.data_ended = False  # every source was a file, and their data ended (not --duration, not a stop)
        self._feed_clock: float | None = None  # live: the feed's time as more than one aircraft tells it (Unix s)
        self._last_record_flush = time.monotonic()

    # ---- listening -----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[list], None]) -> None:
        """``listener(updates)`` with the updates of every tick that has some."""
        self.listeners.append(listener)

    def stop(self) -> None:
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """A stop was asked for (``stop()``, Ctrl-C, SIGTERM), as opposed to the recorded data ending."""
        return self._stop.is_set()

    # ---- the loop ------------------------------------------------------------------------------

    def run(self) -> MonitorReport:
        started = time.monotonic()

        def on_signal(_signum: int) -> None:
            self.log("stopping: writing what was received")
            self._stop.set()

        try:
            with stop_on_signals(on_signal):  # a second Ctrl-C while a source closes only asks again to stop
                try:
                    if all(not s.live for s in self.sources):
                        self._replay(started)
                    else:
                        self._live(started)
                finally:
                    for s in self.sources:
                        s.close()
        finally:
            self._close()
            self.report.seconds = time.monotonic() - started
        return self.report

    def _replay(self, started: float) -> None:
        files = [s for s in self.sources if isinstance(s, FileSource)]
        firsts = [f.first_time for f in files if f.first_time is not None]
        if not firsts:
            return
        t_first = min(firsts)
        now = math.floor(t_first / self.tick_s) * self.tick_s
        while not self._stop.is_set():
            boundary = now + self.tick_s
            if self.speed > 0:
                due = started + (boundary - t_first) / self.speed
                while not self._stop.is_set() and self._time_left(started) > 0:
                    wait = due - time.monotonic()  # once: read twice, a busy machine made it negative between
                    if wait <= 0:
                        break
                    time.sleep(min(0.05, wait))
                self._tell_replay_lag(time.monotonic() - due, boundary - t_first, time.monotonic() - started)
            batch = [f.take_until(boundary) for f in files]
            self._receive(pl.concat(batch, how="vertical_relaxed") if batch else empty_tracks(), time.monotonic())
            if all(f.exhausted for f in files):
                self._tick(boundary, done=True)
                self.data_ended = True
                break
            self._tick(boundary)
            now = boundary
            if self.speed == 0 and self._new == 0 and self._quiet():
                nxt = min(f.times[f.position] for f in files if not f.exhausted)
                now = max(now, math.floor(nxt / self.tick_s) * self.tick_s)  # nothing to watch: skip the quiet
            if self._time_left(started) <= 0:
                break

    def _live(self, started: float) -> None:
        for s in self.sources:
            s.start(self.log)
        files = [s for s in self.sources if isinstance(s, FileSource)]
        t_first = min((f.first_time for f in files if f.first_time is not None), default=None)
        next_tick = time.monotonic() + self.tick_s
        now_data: float | None = None
        if self.outbox is not None:
            self.writer = OutboxWriter(self.outbox)
        self._resume()
        self.detection = DetectionThread(self._detect)
        try:
            now_data = self._follow_live(files, t_first, started, next_tick)
            # what the feeds hold at the stop is taken before waiting for detection, and detected at the end
            for s in self.sources:
                s.close()
            frames = [s.take()[0] for s in self.sources if s.live]
            last = pl.concat(frames, how="vertical_relaxed") if frames else empty_tracks()
            latest = self._receive(last, time.monotonic())
            if latest is not None:
                now_data = latest if now_data is None else max(now_data, latest)
        finally:
            self.detection.close(drop_pending=True)  # the end's own run below covers what it was asked
        error, self.detection = self.detection.error, None
        if error is not None:
            raise error
        if now_data is not None or self._new:
            self.tracker.end_words = "when the monitor stopped"  # a live feed goes on: its data did not end
            self._tick(now_data if now_data is not None else time.time(), done=True)

    def _follow_live(self, files: list, t_first: float | None, started: float, next_tick: float) -> float | None:
        now_data: float | None = None
        while not self._stop.is_set():
            pause = min(next_tick - time.monotonic(), self._time_left(started))  # --duration ends mid-tick
            if pause > 0:
                self._stop.wait(pause)
            next_tick = max(next_tick + self.tick_s, time.monotonic())
            frames, arrivals = [], []
            for s in self.sources:
                if isinstance(s, FileSource):
                    if t_first is None:
                        continue
                    reach = math.inf if self.speed == 0 else t_first + (time.monotonic() - started) * self.speed
                    df, arrival = s.take_until(reach), time.monotonic()
                else:
                    df, arrival = s.take()
                if df.height:
                    frames.append(df)
                    arrivals.append(arrival)
            batch = pl.concat(frames, how="vertical_relaxed") if frames else empty_tracks()
            latest = self._receive(batch, min(arrivals) if arrivals else None)
            if latest is not None:
                now_data = latest if now_data is None else max(now_data, latest)
            if now_data is not None:
                self._live_tick(now_data)
            if self._time_left(started) <= 0:
                break
        return now_data

    def _resume(self) -> None:
        """A live run on a recording that holds states already (a restart, after a kill -9 say) takes back the last
        window of them, and each event still going on in the store from its start, so that the first detection
        run sees what the run before saw: the events going on at the stop go on under their ids, none is opened
        twice (as first seen inside at the restart) and none is left open for ever. An event is trusted a context
        after its aircraft's history taken back begins, as it would have been."""
        if self.sink is None:
            return
        latest = self.sink.latest_recorded()
        if latest is None:
            return
        end = latest.timestamp()
        since = end - self.window.length - self.context
        back: dict[str, float] = {}
        if self.outbox is not None and self.outbox.store is not None:
            from skyfence.errors import SkyfenceError

            try:
                going_on = [i for i in self.outbox.store.incidents(since=utc(end - OPEN_CAP))
                            if i.ended_at is None]
            except SkyfenceError:
                going_on = []  # the store is not there now: the last window alone
            for inc in going_on:
                start = max(inc.start_time.timestamp(), end - OPEN_CAP) - self.context
                for a in inc.aircraft:
                    back[a.track_id] = min(back.get(a.track_id, since), start)
        earliest = min([since, *back.values()])
        states = self.sink.recorded(utc(earliest))
        if back:
            kept = pl.DataFrame({"track_id": list(back), "_from": [utc(v) for v in back.values()]},
                                schema={"track_id": pl.String, "_from": states.schema["time"]})
            states = states.join(kept, on="track_id", how="left").filter(
                (pl.col("time") >= utc(since)) | (pl.col("time") >= pl.col("_from"))).drop("_from")
        else:
            states = states.filter(pl.col("time") >= utc(since))
        if states.height == 0:
            return
        taken = self._receive(states, None, resumed=True)
        if taken is None:
            return
        self.tracker.resumed_from = {t: back.get(t, since) for t in states["track_id"].unique().to_list()}
        self.log(f"resumed from the recording: {states.height:,} states of {len(self.tracker.resumed_from):,} "
                 f"aircraft back to {utc(earliest):%Y-%m-%d %H:%M:%S} UTC, "
                 f"{len(set(back))} aircraft in events going on")

    def _time_left(self, started: float) -> float:
        """Wall seconds left of ``--duration`` (infinite without it)."""
        return math.inf if self.duration is None else started + self.duration - time.monotonic()

    # ---- one batch, one tick -------------------------------------------------------------------

    def _receive(self, batch: pl.DataFrame, arrival: float | None, resumed: bool = False) -> float | None:
        """Take in a batch of states (``resumed``: taken back from the recording, not recorded nor counted again);
        the latest time taken (None if none was)."""
        self._count()
        if batch.height == 0:
            return None
        if self.sink is not None and not resumed:
            self.sink.write(batch)
        rep = ReadReport()
        batch = clean_rows(batch, rep)
        if not resumed:
            self._row_bad.update(rep.dropped)
        if batch.height and any(s.live for s in self.sources):
            batch = self._not_ahead(batch)
        self._count()
        if batch.height == 0:
            return None
        batch = batch.with_columns(self.agreement.identifier.assign(batch["track_id"], batch["callsign"]))
        if len(self.sources) > 1 or any(not isinstance(s, FileSource) for s in self.sources):
            batch = self.dedupe(batch)
        self.report.duplicates = self.dedupe.duplicates
        if batch.height == 0:
            return
        self.picture.update(batch)
        self.window.saw(batch)
        self.cleaning.push(batch)
        if not resumed:
            self.report.states += batch.height
        t0, t1 = batch["time"].min(), batch["time"].max()
        self.report.first_time = t0 if self.report.first_time is None else min(self.report.first_time, t0)
        self.report.last_time = t1 if self.report.last_time is None else max(self.report.last_time, t1)
        with self._lock:
            self._new += batch.height
            if arrival is not None:
                self._arrival = arrival if self._arrival is None else min(self._arrival, arrival)
        return t1.timestamp()

    def _not_ahead(self, batch: pl.DataFrame) -> pl.DataFrame:
        """A live batch without the states dated far ahead of the rest of the feed (``FUTURE_SKEW``), counted as
        bad: one record dated 2030 made the data's clock jump, and every open crossing ended with "no reports
        since" (user trial). What the rest of the feed says is the latest state of the aircraft second to report
        latest in the batch (one aircraft cannot vouch for itself), or the clock so far if later; a batch of one
        aircraft is taken as it is, and a backlog sent at once, minutes of many aircraft, is taken whole."""
        latest = batch.group_by("track_id").agg(pl.col("time").max())["time"].sort(descending=True)
        if len(latest) < 2:
            return batch
        ref = latest[1].timestamp()
        if self._feed_clock is not None:
            ref = max(ref, self._feed_clock)
        ahead = batch["time"].dt.epoch("us") > int((ref + FUTURE_SKEW) * 1e6)
        if ahead.any():
            self._row_bad["time far ahead of the feed"] += int(ahead.sum())
            batch = batch.filter(~ahead)
        self._feed_clock = max(ref, self._feed_clock) if self._feed_clock is not None else ref
        return batch

    def _count(self) -> None:
        """Records and bad records: each source's own counts and the row checks'."""
        self.report.records = sum(s.records for s in self.sources)
        bad = Counter(self._row_bad)
        if self.cleaning.late:
            bad[LATE] = self.cleaning.late
        for s in self.sources:
            bad.update(s.bad)
        self.report.bad = bad

    def _tick(self, now: float, done: bool = False) -> None:
        """One tick with its detection run (a replay, and the end of a live run)."""
        self.report.ticks += 1
        self._detect(now, done)
        self._flush_record()
        self._picture_tick(now)

    def _live_tick(self, now: float) -> None:
        """One tick of a live run: detection is asked for, and runs on its own thread."""
        if self.detection.error is not None:
            raise self.detection.error
        self.report.ticks += 1
        behind = self.detection.behind()  # before asking: what the run under way, or waiting, still owes
        self.detection.ask(now)
        self.report.behind.append(behind)
        self._tell_behind(behind)
        self._flush_record()
        self._picture_tick(now)

    def _tell_behind(self, behind: float) -> None:
        """A line in the log when detection trails the feed by ``behind_told`` s or more (again every 10 min),
        and one when it has caught up."""
        t = time.monotonic()
        if self._behind_told is not None and behind < self.behind_told / 4:
            self._behind_told = None
            self.log("detection has caught up with the feed")
            return
        if behind < self.behind_told or (self._behind_told is not None and t - self._behind_told < 600.0):
            return
        self._behind_told = t
        runs = self.report.detect_seconds[-5:]
        run = f"; a detection run takes {sum(runs) / len(runs):.1f} s" if runs else ""
        size = f" over {self.report.window_states[-1]:,} states" if runs and self.report.window_states else ""
        self.log(f"detection is {behind:.0f} s behind the feed{run}{size}: incidents are told late "
                 "(docs/stream-detectors.md says what the monitor holds)")

    def _tell_replay_lag(self, lag: float, data_s: float, wall_s: float) -> None:
        """A line in the log when a replay falls ``behind_told`` s or more behind ``--speed`` (again every 10 min),
        with the speed it holds, and one when it has caught up."""
        t = time.monotonic()
        if self._behind_told is not None and lag < self.behind_told / 4:
            self._behind_told = None
            self.log(f"the replay has caught up with --speed {self.speed:g}")
            return
        if lag < self.behind_told or (self._behind_told is not None and t - self._behind_told < 600.0):
            return
        self._behind_told = t
        self.log(f"the replay is {lag:.0f} s behind --speed {self.speed:g}: it holds {data_s / max(wall_s, 1e-9):.0f}x "
                 "real time, detection takes longer than that (a longer --tick, or a lower --speed)")

    def _picture_tick(self, now: float) -> None:
        t = time.monotonic()
        if self._last_picture_tick is not None and self.detection is not None:
            self.report.tick_gaps.append(t - self._last_picture_tick)
        self._last_picture_tick = t
        self.picture.tick(datetime.fromtimestamp(now, timezone.utc))

    def _flush_record(self) -> None:
        if self.sink is not None and time.monotonic() - self._last_record_flush >= RECORD_FLUSH:
            self.sink.flush()
            self._last_record_flush = time.monotonic()

    def _detect(self, now: float, done: bool = False) -> None:
        """A detection run over the window up to ``now``, and the updates it causes."""
        with self._lock:
            new, arrival = self._new, self._arrival
            self._new, self._arrival = 0, None
        trusted = self.window.trusted_from(now)
        updates: list = []
        t0 = time.perf_counter()
        # live, what is complete goes by the feed's clock as more than one aircraft tells it (one record dated
        # ahead must not make every report late)
        final, provisional = self.cleaning.step(now, self._feed_clock if self.detection is not None else None)
        self.window.append(final)
        provisional = provisional.filter(pl.col("time") <= data_time(now))  # came after the run was asked for
        self._provisional = provisional
        if new or (done and self._last is None and (self.window.rows or provisional.height)):
            keep = self.tracker.open_aircraft()
            df = detection_view(self.window, provisional, now, keep, self.agreement.thresholds.crossing.flight_gap)
            ev = detect_events(df, self.agreement, self.settings, memo=self.memo)
            self.report.detect_seconds.append(time.perf_counter() - t0)
            self.report.window_states.append(df.height)
            self.report.detections += 1
            self._last = (ev, df)
            updates = self.tracker.update(ev, df, now, trusted, done)
        elif self._last is not None:
            updates = self.tracker.update(*self._last, now, trusted, done)
        self.window.prune(now, self.tracker.open_aircraft())
        if self._quiet():
            self._last = None
        self._emit(updates, now)
        if arrival is not None:
            lat = time.monotonic() - arrival
            self.report.latencies.append(lat)
            self.report.update_latencies.extend([lat] * len(updates))

    def _quiet(self) -> bool:
        """Nothing to watch: no states in the window nor waiting for their cleaning, no event open."""
        return self.window.rows == 0 and self._provisional.height == 0 and self.tracker.open_count() == 0

    def _emit(self, updates: list, now: float) -> None:
        if updates:
            self.report.updates += len(updates)
            self.report.incidents.update(u.incident_id for u in updates)
            if self.outbox is not None and self.writer is None:
                self.outbox.add(updates)
            for listener in self.listeners:
                listener(updates)
        if self.writer is not None:
            self.writer.put(updates, datetime.fromtimestamp(now, timezone.utc))
        elif self.outbox is not None:
            self.outbox.flush(datetime.fromtimestamp(now, timezone.utc))
        if self.outbox is not None:
            self.report.store_waiting = len(self.outbox.waiting)
            self.report.store_written = self.outbox.written
            self.report.store_changes = self.outbox.changes
            self.report.store_failures = self.outbox.failures

    def _close(self) -> None:
        if self.writer is not None:  # it tries for 30 s more
            self.writer.close(timeout=30.0)
            self.writer = None
        elif self.outbox is not None and self.outbox.waiting:
            deadline = time.monotonic() + 30.0
            while self.outbox.waiting and time.monotonic() < deadline:
                if self.outbox.flush(force=True):
                    break
                time.sleep(1.0)
        if self.outbox is not None:
            if self.outbox.waiting:
                self.log(f"store still unavailable: {len(self.outbox.waiting)} update(s) not written")
            self.report.store_waiting = len(self.outbox.waiting)
            self.report.store_written = self.outbox.written
            self.report.store_changes = self.outbox.changes
            self.report.store_failures = self.outbox.failures
        if self.sink is not None:
            self.sink.close()
            self.report.recorded = sorted(str(f) for f in self.sink.files)
