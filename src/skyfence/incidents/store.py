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
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from skyfence.agreement.thresholds import IncidentThresholds
from skyfence.incidents import lifecycle, migrations
from skyfence.incidents import tables as t
from skyfence.incidents.database import create_engine, describe, engine_url, reading, unavailable_as_error, writing
from skyfence.incidents.errors import NotAllowed, StoreError, UnknownIncident
from skyfence.incidents.model import (
    EVENTS, KINDS, SEVERITIES, STATUSES, SYSTEM, Change, EventUpdate, Incident, TrackPoint, incident_from_json, utc,
)
from skyfence.incidents.severity import rank
from skyfence.incidents.writer import WriteBatch, resolve_id

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
        self.rejected = 0
        """Updates ``apply`` refused (unknown kind, event or severity, no id or time), counted and skipped."""
        self.last_rejection = ""
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str | Path, *, quiet_period: float | None = None, create: bool = True) -> "IncidentStore":
        """Open the store at ``url`` (a file path, ``sqlite:///PATH`` or ``postgresql://...``) and migrate
        it to the head revision. ``create=False`` refuses a store that does not exist yet (a SQLite file, or a
        PostgreSQL database or schema without its tables).
        A bad URL or an unreachable database raises :class:`StoreError` (one line)."""
        name = describe(url)
        sa_url = engine_url(url, create=create)
        try:
            engine = create_engine(sa_url)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
            raise StoreError(f"bad store URL {name}: {e}") from None
        try:
            if not create and sa_url.get_backend_name() != "sqlite":  # as for a missing SQLite file
                with _guarded(engine, f"open the store {name}") as conn:
                    if not sa.inspect(conn).has_table("incidents"):
                        raise StoreError(f"{name}: no incident store there (no incidents table in that database "
                                         "or schema; a monitor with --store makes one)")
            with _guarded(engine, f"open the store {name}") as conn:
                current = migrations.at_head(conn)
            if not current:
                with _guarded(engine, f"open the store {name}", write=True) as conn:
                    _upgrade(conn, name)
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
        an update applied before). A bad update (unknown kind, event or severity; no id or time) is
        counted in :attr:`rejected`, logged and skipped; naive times are taken as UTC. The changes are timed by the data (each update's time) and carry
        the wall clock of the commit as ``recorded_at`` (acknowledgement times are measured from it).
        ``now``, the caller's clock (data time when replaying), is accepted as :meth:`tick` takes it
        and does not change the result: the same updates give the same changes whenever applied."""
        good = []
        for u in updates:
            checked = _checked(u)
            if isinstance(checked, str):  # a bad update is counted and skipped, never stops the others
                self.rejected += 1
                self.last_rejection = checked
                log.warning("incident update rejected: %s", checked)
            else:
                good.append(checked)
        if not good:
            return []
        with self._writing("apply updates") as conn:
            batch = WriteBatch(conn, self.quiet_period, _now())
            batch.apply(good)
            changes = batch.flush()
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
            batch = WriteBatch(conn, self.quiet_period, _now())
            batch.prefetch(ids)
            for cid in ids:
                inc = batch.load(cid)
                if lifecycle.due(inc, now):
                    action, why = lifecycle.auto_resolve(inc)
                    batch.record(inc, inc.resolved_at, SYSTEM, action, why)
            changes = batch.flush()
        self._notify(changes)
        return changes

    def acknowledge(self, incident_id: str, by: str, party: str | None = None, why: str = "",
                    at: datetime | None = None) -> Change:
        """``by`` acknowledges the incident for ``party`` (or for themselves; NotAllowed for a party the incident
        does not involve)."""
        def step(inc: Incident, at: datetime):
            if party is not None and party not in inc.parties:
                raise NotAllowed(f"incident {inc.id} involves {', '.join(inc.parties) or 'no party'}, not {party}")
            return lifecycle.acknowledge(inc, by, party, why, at)
        return self._by_hand(incident_id, "acknowledge", step, by, at)

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
            batch = WriteBatch(conn, self.quiet_period, _now())
            inc = batch.load(incident_id)
            if inc is None:
                raise UnknownIncident(f"no incident {incident_id} in {self.name}")
            action, why = step(inc, at)
            batch.record(inc, at, by.strip(), action, why)
            (change,) = batch.flush()
        self._notify([change])
        return change

    def _writing(self, what: str):
        return _guarded(self._engine, what, write=True)

    # -- reading -------------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident | None:
        """The incident with this id (or the id of a flare-up it absorbed), None if there is none."""
        with _guarded(self._engine, f"read incident {incident_id}") as conn:
            return WriteBatch(conn, self.quiet_period, _now()).load(incident_id)

    def audit(self, incident_id: str) -> list[Change]:
        """Every change of the incident, oldest first."""
        with _guarded(self._engine, f"read the audit of {incident_id}") as conn:
            cid = resolve_id(conn, incident_id) or incident_id
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
                  offset: int = 0) -> list[Incident]:
        """Incidents, newest start first, that match every filter given:

        ``party``, ``kind``, ``status``: any of the values; ``severity``: this severity or higher;
        ``since``: still going on at or after this time (ended at or after it, or not ended);
        ``aircraft``: an aircraft involved, by track id or callsign (either case). ``offset`` skips that many
        of them first (a page further on: the order is by start, then id, so pages do not overlap)."""
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
        if offset:
            q = q.offset(offset)
        with _guarded(self._engine, "list incidents") as conn:
            rows = conn.execute(q).all()
        return [incident_from_json(body) for (body,) in rows]

    def parties(self) -> list[str]:
        """The parties the store's incidents name, sorted."""
        return named_parties(self._engine)

    def track(self, incident_id: str) -> list[TrackPoint]:
        """The positions of the aircraft involved around the incident, by aircraft and time."""
        p = t.track_points
        with _guarded(self._engine, f"read the track of {incident_id}") as conn:
            cid = resolve_id(conn, incident_id) or incident_id
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


def named_parties(engine: sa.Engine) -> list[str]:
    """The parties the incidents in the store at ``engine`` name, sorted."""
    with _guarded(engine, "list parties") as conn:
        return sorted(conn.execute(sa.select(t.incident_parties.c.party).distinct()).scalars())


@contextlib.contextmanager
def _guarded(engine: sa.Engine, what: str, write: bool = False) -> Iterator[sa.Connection]:
    """A transaction whose lost database (on the way in, inside, or at the commit) raises StoreUnavailable."""
    with unavailable_as_error(f"cannot {what}"), (writing if write else reading)(engine) as conn:
        yield conn


def _checked(u: EventUpdate) -> EventUpdate | str:
    """The update with its times in UTC (naive ones taken as UTC), or why it cannot be applied."""
    who = f"update {getattr(u, 'event', '?')} of {getattr(u, 'incident_id', '?')!r}"
    try:
        if not u.incident_id or not isinstance(u.incident_id, str):
            return f"{who}: no incident id"
        if u.kind not in KINDS:
            return f"{who}: unknown kind {u.kind!r}"
        if u.severity not in SEVERITIES:
            return f"{who}: unknown severity {u.severity!r}"
        if u.event not in EVENTS:
            return f"{who}: unknown event {u.event!r}"
        if not isinstance(u.time, datetime) or not isinstance(u.start_time, datetime):
            return f"{who}: no time or start time"
        if u.end_time is not None and not isinstance(u.end_time, datetime):
            return f"{who}: end time {u.end_time!r} is not a time"
        return replace(u, time=utc(u.time), start_time=utc(u.start_time), end_time=utc(u.end_time),
                       aircraft=tuple(u.aircraft), parties=tuple(u.parties), details=dict(u.details or {}),
                       track=tuple(u.track or ()))
    except (AttributeError, TypeError, ValueError) as e:
        return f"{who}: {e}"


def _known(name: str, values: list[str], known: tuple[str, ...]) -> None:
    for v in values:
        if v not in known:
            raise StoreError(f"unknown {name} {v!r} (one of {', '.join(known)})")


def _change(row) -> Change:
    return Change(seq=row.seq, incident_id=row.incident_id, time=row.time, who=row.who, action=row.action,
                  why=row.why, incident=incident_from_json(row.incident), recorded_at=row.recorded_at)


def _upgrade(conn: sa.Connection, name: str) -> None:
    """Migrate to the head; a revision this skyfence does not have (a store of a newer version) is one line."""
    from alembic.util import CommandError

    try:
        migrations.upgrade(conn)
    except CommandError as e:
        raise StoreError(f"cannot open the store {name}: it is at a schema revision this skyfence does not "
                         f"know ({' '.join(str(e).split())}); use the skyfence that wrote it, or a newer one") from None
