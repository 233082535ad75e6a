"""The incident store: incidents, their audit trail and tracks, in SQLite (one file) or PostgreSQL.

``apply`` turns the monitor's event updates into incidents in one transaction and is idempotent: an
update already applied, recognised by ``(incident_id, event, time)``, changes nothing, so a monitor
restarted on the same recording, or retrying a batch after the store came back, adds nothing twice.
Committed means durable. Every change is a :class:`Change` (the audit trail); followers poll
``changes_since`` or ``subscribe`` in the same process.

    store = IncidentStore.open("incidents.db")            # or "postgresql://user@host/db"
    changes = store.apply(updates, now)
    store.acknowledge(changes[0].incident_id, by="duty officer", party="coalition")
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from skyfence.agreement.model import IncidentThresholds
from skyfence.incidents import lifecycle, migrations
from skyfence.incidents import tables as t
from skyfence.incidents.database import create_engine, describe, engine_url, reading, unavailable_as_error, writing
from skyfence.incidents.errors import NotAllowed, StoreError, UnknownIncident
from skyfence.incidents.ids import flare_key
from skyfence.incidents.model import (
    EVENTS, KINDS, SEVERITIES, STATUSES, SYSTEM, Change, EventUpdate, Incident, TrackPoint, incident_from_json,
    incident_json, utc,
)
from skyfence.incidents.severity import at_least, rank

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _many(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class IncidentStore:
    """Incidents in a database; see the module docstring. Safe to share between threads."""

    def __init__(self, engine: sa.Engine, quiet_period: float = IncidentThresholds.quiet_period,
                 name: str = "") -> None:
        self._engine = engine
        self.quiet_period = float(quiet_period)
        """Seconds an ended event's incident waits for a flare-up before it resolves itself (the
        agreement's ``thresholds.incidents.quiet_period``; applies to events that end from now on)."""
        self.name = name or describe(engine.url)
        self._followers: list[Callable[[Change], None]] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str | Path, *, quiet_period: float | None = None, create: bool = True) -> "IncidentStore":
        """Open the store at ``url`` (a file path, ``sqlite:///PATH`` or ``postgresql://...``) and migrate
        it to the head revision. ``create=False`` refuses a SQLite file that does not exist yet.
        A bad URL or an unreachable database raises :class:`StoreError` (one line)."""
        name = describe(url)
        sa_url = engine_url(url, create=create)
        try:
            engine = create_engine(sa_url)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
            raise StoreError(f"bad store URL {name}: {e}") from None
        try:
            with _guarded(engine, f"open the store {name}", write=True) as conn:
                migrations.upgrade(conn)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, IncidentThresholds.quiet_period if quiet_period is None else quiet_period, name)

    @property
    def engine(self) -> sa.Engine:
        """The engine; other packages keep their own tables in the same database (their own migration)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "IncidentStore":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------

    def apply(self, updates: Sequence[EventUpdate], now: datetime | None = None) -> list[Change]:
        """Apply the monitor's updates in one transaction and return the changes they made (none for
        an update applied before). The changes are timed by the data (each update's time) and carry
        the wall clock of the commit as ``recorded_at`` (acknowledgement times are measured from it).
        ``now``, the caller's clock (data time when replaying), is accepted as :meth:`tick` takes it
        and does not change the result: the same updates give the same changes whenever applied."""
        for u in updates:
            _check(u)
        with self._writing("apply updates") as conn:
            changes = _Batch(conn, self.quiet_period, _now()).apply(updates)
        self._notify(changes)
        return changes

    def tick(self, now: datetime) -> list[Change]:
        """Resolve, as ``system``, every incident whose event ended and whose quiet period has passed by
        ``now`` (data time); each resolution is timed at the end of its quiet period."""
        now = utc(now)
        with self._writing("resolve quiet incidents") as conn:
            ids = conn.execute(sa.select(t.incidents.c.id).where(
                t.incidents.c.status != "resolved", t.incidents.c.quiet_until <= now)
                .order_by(t.incidents.c.quiet_until, t.incidents.c.id)).scalars().all()
            batch = _Batch(conn, self.quiet_period, _now())
            changes = []
            for cid in ids:
                inc = batch.load(cid)
                if lifecycle.due(inc, now):
                    action, why = lifecycle.auto_resolve(inc)
                    changes.append(batch.record(inc, inc.resolved_at, SYSTEM, action, why))
                    batch.save(inc)
        self._notify(changes)
        return changes

    def acknowledge(self, incident_id: str, by: str, party: str | None = None, why: str = "",
                    at: datetime | None = None) -> Change:
        """``by`` acknowledges the incident for ``party`` (or for themselves)."""
        return self._by_hand(incident_id, "acknowledge", lambda inc, at: lifecycle.acknowledge(inc, by, party, why, at),
                             by, at)

    def resolve(self, incident_id: str, by: str, why: str = "", at: datetime | None = None) -> Change:
        """``by`` resolves the incident (NotAllowed if it is resolved already)."""
        def step(inc: Incident, at: datetime):
            if inc.status == "resolved":
                raise NotAllowed(f"incident {inc.id} is resolved already (by {inc.resolved_by})")
            return lifecycle.resolve(inc, by, why, at)
        return self._by_hand(incident_id, "resolve", step, by, at)

    def comment(self, incident_id: str, by: str, text: str, at: datetime | None = None) -> Change:
        """``by`` adds a comment (kept in the audit trail)."""
        if not text.strip():
            raise StoreError("the comment is empty")

        def step(inc: Incident, at: datetime):
            lifecycle.comment(inc, at)
            return "commented", text
        return self._by_hand(incident_id, "comment on", step, by, at)

    def _by_hand(self, incident_id: str, what: str, step, by: str, at: datetime | None) -> Change:
        if not by or not by.strip():
            raise StoreError(f"cannot {what} {incident_id}: say who (a user or a party)")
        at = utc(at) or _now()
        with self._writing(f"{what} {incident_id}") as conn:
            batch = _Batch(conn, self.quiet_period, _now())
            inc = batch.load(incident_id)
            if inc is None:
                raise UnknownIncident(f"no incident {incident_id} in {self.name}")
            action, why = step(inc, at)
            change = batch.record(inc, at, by.strip(), action, why)
            batch.save(inc)
        self._notify([change])
        return change

    def _writing(self, what: str):
        return _guarded(self._engine, what, write=True)

    # -- reading -------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident | None:
        """The incident with this id (or the id of a flare-up it absorbed), None if there is none."""
        with _guarded(self._engine, f"read incident {incident_id}") as conn:
            return _Batch(conn, self.quiet_period, _now()).load(incident_id)

    def audit(self, incident_id: str) -> list[Change]:
        """Every change of the incident, oldest first."""
        with _guarded(self._engine, f"read the audit of {incident_id}") as conn:
            cid = _resolve_id(conn, incident_id) or incident_id
            rows = conn.execute(sa.select(t.changes).where(t.changes.c.incident_id == cid)
                                .order_by(t.changes.c.seq)).all()
        return [_change(r) for r in rows]

    def changes_since(self, seq: int, limit: int = 1000) -> list[Change]:
        """The changes after ``seq`` (0: from the start), oldest first, at most ``limit``."""
        with _guarded(self._engine, "read changes") as conn:
            rows = conn.execute(sa.select(t.changes).where(t.changes.c.seq > seq)
                                .order_by(t.changes.c.seq).limit(limit)).all()
        return [_change(r) for r in rows]

    def incidents(self, *, party: str | Iterable[str] | None = None, kind: str | Iterable[str] | None = None,
                  status: str | Iterable[str] | None = None, severity: str | None = None,
                  since: datetime | None = None, aircraft: str | None = None, limit: int | None = None,
                  ) -> list[Incident]:
        """Incidents, newest start first, that match every filter given:

        ``party``, ``kind``, ``status``: any of the values; ``severity``: this severity or higher;
        ``since``: still going on at or after this time (ended at or after it, or not ended);
        ``aircraft``: an aircraft involved, by track id or callsign (either case)."""
        i = t.incidents
        q = sa.select(i.c.body)
        if (kinds := _many(kind)) is not None:
            _known("kind", kinds, KINDS)
            q = q.where(i.c.kind.in_(kinds))
        if (statuses := _many(status)) is not None:
            _known("status", statuses, STATUSES)
            q = q.where(i.c.status.in_(statuses))
        if severity is not None:
            _known("severity", [severity], SEVERITIES)
            q = q.where(i.c.severity_rank >= rank(severity))
        if (parties := _many(party)) is not None:
            q = q.where(sa.exists().where(t.incident_parties.c.incident_id == i.c.id,
                                          t.incident_parties.c.party.in_(parties)))
        if since is not None:
            q = q.where(sa.or_(i.c.end_time.is_(None), i.c.end_time >= utc(since)))
        if aircraft:
            a = t.incident_aircraft
            needle = aircraft.strip().lower()
            q = q.where(sa.exists().where(a.c.incident_id == i.c.id, sa.or_(
                sa.func.lower(a.c.track_id) == needle, sa.func.lower(sa.func.trim(a.c.callsign)) == needle)))
        q = q.order_by(i.c.start_time.desc(), i.c.id)
        if limit is not None:
            q = q.limit(limit)
        with _guarded(self._engine, "list incidents") as conn:
            rows = conn.execute(q).all()
        return [incident_from_json(body) for (body,) in rows]

    def track(self, incident_id: str) -> list[TrackPoint]:
        """The positions of the aircraft involved around the incident, by aircraft and time."""
        p = t.track_points
        with _guarded(self._engine, f"read the track of {incident_id}") as conn:
            cid = _resolve_id(conn, incident_id) or incident_id
            rows = conn.execute(sa.select(p.c.track_id, p.c.time, p.c.lat, p.c.lon, p.c.alt_ft)
                                .where(p.c.incident_id == cid).order_by(p.c.track_id, p.c.time)).all()
        return [TrackPoint(*r) for r in rows]

    def last_seq(self) -> int:
        """The number of the last committed change (0: none yet)."""
        with _guarded(self._engine, "read changes") as conn:
            return conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.changes.c.seq), 0))).scalar_one()

    # -- followers -----------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None]) -> None:
        """Call ``callback`` with every change this store object commits, after the commit, in order.
        A callback that raises is logged and does not stop the others (changes from other processes
        reach followers through :meth:`changes_since`)."""
        with self._lock:
            self._followers.append(callback)

    def unsubscribe(self, callback: Callable[[Change], None]) -> None:
        with self._lock:
            if callback in self._followers:
                self._followers.remove(callback)

    def _notify(self, changes: list[Change]) -> None:
        with self._lock:
            followers = list(self._followers)
        for change in changes:
            for f in followers:
                try:
                    f(change)
                except Exception:  # a follower's bug must not stop the store or the other followers
                    log.exception("incident follower %r failed on change %d", f, change.seq)


@contextlib.contextmanager
def _guarded(engine: sa.Engine, what: str, write: bool = False) -> Iterator[sa.Connection]:
    """A transaction whose lost database (on the way in, inside, or at the commit) raises StoreUnavailable."""
    with unavailable_as_error(f"cannot {what}"), (writing if write else reading)(engine) as conn:
        yield conn


def _check(u: EventUpdate) -> None:
    if u.kind not in KINDS:
        raise ValueError(f"update of {u.incident_id}: unknown kind {u.kind!r}")
    if u.severity not in SEVERITIES:
        raise ValueError(f"update of {u.incident_id}: unknown severity {u.severity!r}")
    if u.event not in EVENTS:
        raise ValueError(f"update of {u.incident_id}: unknown event {u.event!r}")
    for name in ("time", "start_time"):
        if getattr(u, name).tzinfo is None:
            raise ValueError(f"update of {u.incident_id}: {name} has no time zone (give UTC)")


def _known(name: str, values: list[str], known: tuple[str, ...]) -> None:
    for v in values:
        if v not in known:
            raise StoreError(f"unknown {name} {v!r} (one of {', '.join(known)})")


def _resolve_id(conn: sa.Connection, incident_id: str) -> str | None:
    """The incident an id names: itself, or the incident a flare-up with this id continued."""
    if conn.execute(sa.select(t.incidents.c.id).where(t.incidents.c.id == incident_id)).first():
        return incident_id
    return conn.execute(sa.select(t.incident_aliases.c.incident_id)
                        .where(t.incident_aliases.c.alias == incident_id)).scalar_one_or_none()


def _change(row) -> Change:
    return Change(seq=row.seq, incident_id=row.incident_id, time=row.time, who=row.who, action=row.action,
                  why=row.why, incident=incident_from_json(row.incident), recorded_at=row.recorded_at)


class _Batch:
    """The work of one write transaction: incidents loaded once, saved once, changes recorded in order."""

    def __init__(self, conn: sa.Connection, quiet_period: float, now: datetime) -> None:
        self.conn, self.quiet_period, self.now = conn, quiet_period, now
        self.loaded: dict[str, Incident] = {}
        self.stored: set[str] = set()
        self.seen: set[tuple] = set()

    def load(self, incident_id: str) -> Incident | None:
        cid = _resolve_id(self.conn, incident_id) if incident_id not in self.loaded else incident_id
        if cid is None:
            return None
        if cid not in self.loaded:
            body = self.conn.execute(sa.select(t.incidents.c.body).where(t.incidents.c.id == cid)).scalar_one()
            self.loaded[cid] = incident_from_json(body)
            self.stored.add(cid)
        return self.loaded[cid]

    def apply(self, updates: Sequence[EventUpdate]) -> list[Change]:
        changes: list[Change] = []
        for u in updates:
            key = (u.incident_id, u.event, utc(u.time))
            if key in self.seen or self.conn.execute(sa.select(sa.literal(1)).where(
                    t.applied_updates.c.incident_id == key[0], t.applied_updates.c.event == key[1],
                    t.applied_updates.c.time == key[2])).first():
                continue
            self.seen.add(key)
            self.conn.execute(sa.insert(t.applied_updates).values(incident_id=key[0], event=key[1], time=key[2]))
            inc = self.load(u.incident_id) or self._flared(u)
            if inc is None:
                inc, steps = lifecycle.open_incident(u, self.quiet_period)
                self.loaded[inc.id] = inc
                changed = True
            else:
                before = incident_json(inc)
                steps = lifecycle.apply_update(inc, u, self.quiet_period)
                changed = incident_json(inc) != before  # also when only the last update time moved on
            if changed:
                self.save(inc)  # the row exists before the changes and track points that refer to it
            for action, why in steps:
                changes.append(self.record(inc, u.time, SYSTEM, action, why))
            self._track(inc.id, u.track)
        return changes

    def _flared(self, u: EventUpdate) -> Incident | None:
        """The ended incident that ``u`` (a new event) continues, if it flares up within its quiet period."""
        i = t.incidents
        key = flare_key(u.kind, [a.track_id for a in u.aircraft], u.details)
        cid = self.conn.execute(sa.select(i.c.id).where(
            i.c.flare_key == key, i.c.ended_at <= utc(u.time), i.c.quiet_until >= utc(u.time))
            .order_by(i.c.quiet_until.desc(), i.c.id).limit(1)).scalar_one_or_none()
        if cid is None:
            return None
        inc = self.load(cid)
        if inc.ended_at is None:  # changed earlier in this batch, no longer ended
            return None
        inc.aliases = (*inc.aliases, u.incident_id)
        self.conn.execute(sa.insert(t.incident_aliases).values(alias=u.incident_id, incident_id=cid))
        return inc

    def record(self, inc: Incident, time: datetime, who: str, action: str, why: str) -> Change:
        snapshot = incident_json(inc)
        seq = self.conn.execute(sa.insert(t.changes).values(
            incident_id=inc.id, time=time, who=who, action=action, why=why, incident=snapshot,
            recorded_at=self.now).returning(t.changes.c.seq)).scalar_one()
        return Change(seq, inc.id, utc(time), who, action, why, incident_from_json(snapshot), self.now)

    def save(self, inc: Incident) -> None:
        """Write the incident's row, its parties and aircraft."""
        values = dict(kind=inc.kind, status=inc.status, severity=inc.severity, severity_rank=rank(inc.severity),
                      start_time=inc.start_time, end_time=inc.end_time, updated_at=inc.updated_at,
                      ended_at=inc.ended_at, quiet_until=inc.quiet_until,
                      flare_key=flare_key(inc.kind, [a.track_id for a in inc.aircraft], inc.details),
                      body=incident_json(inc))
        if inc.id in self.stored:
            self.conn.execute(sa.update(t.incidents).where(t.incidents.c.id == inc.id).values(**values))
            self.conn.execute(sa.delete(t.incident_parties).where(t.incident_parties.c.incident_id == inc.id))
            self.conn.execute(sa.delete(t.incident_aircraft).where(t.incident_aircraft.c.incident_id == inc.id))
        else:
            self.conn.execute(sa.insert(t.incidents).values(id=inc.id, **values))
            self.stored.add(inc.id)
        if inc.parties:
            self.conn.execute(sa.insert(t.incident_parties),
                              [{"incident_id": inc.id, "party": p} for p in inc.parties])
        if inc.aircraft:
            self.conn.execute(sa.insert(t.incident_aircraft),
                              [{"incident_id": inc.id, "track_id": a.track_id, "callsign": a.callsign,
                                "party": a.party} for a in inc.aircraft])

    def _track(self, incident_id: str, points: Sequence[TrackPoint]) -> None:
        if not points:
            return
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        rows = {(p.track_id, utc(p.time)): p for p in points}
        stmt = insert(t.track_points).on_conflict_do_nothing()
        self.conn.execute(stmt, [{"incident_id": incident_id, "track_id": k[0], "time": k[1], "lat": p.lat,
                                  "lon": p.lon, "alt_ft": p.alt_ft} for k, p in rows.items()])
