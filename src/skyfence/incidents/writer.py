"""One write transaction of the store: incidents read once, changed in memory, written at the end.

Within a transaction every incident is loaded at most once (those a batch of updates names are read
in one query), changed by :mod:`lifecycle` in memory, and written back in a few multi-row statements
at :meth:`WriteBatch.flush`: new incidents, changed incidents, parties and aircraft where they
changed, the changes (audit records, numbered by the database), track points, and the applied
update keys. Fewer round trips is what keeps a PostgreSQL write short.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from skyfence.incidents import lifecycle
from skyfence.incidents import tables as t
from skyfence.incidents.ids import flare_key
from skyfence.incidents.model import SYSTEM, Change, EventUpdate, Incident, incident_from_json, incident_json, utc
from skyfence.incidents.severity import rank

_P = sa.bindparam
_I, _AP, _AL = t.incidents, t.applied_updates, t.incident_aliases
# Statements built once with bound parameters: SQLAlchemy compiles each once (its statement cache).
Q_ID = sa.select(_I.c.id).where(_I.c.id == _P("id"))
Q_ALIAS = sa.select(_AL.c.incident_id).where(_AL.c.alias == _P("id"))
Q_BODIES = sa.select(_I.c.id, _I.c.body).where(_I.c.id.in_(_P("ids", expanding=True)))
Q_ALIASES = sa.select(_AL.c.alias, _AL.c.incident_id).where(_AL.c.alias.in_(_P("ids", expanding=True)))
Q_APPLIED = sa.select(_AP.c.incident_id, _AP.c.event, _AP.c.time).where(_AP.c.incident_id.in_(_P("ids", expanding=True)))
Q_FLARE = sa.select(_I.c.id).where(_I.c.flare_key == _P("key"), _I.c.ended_at <= _P("t_end"),
                                   _I.c.quiet_until >= _P("t_quiet"))
INS_APPLIED, INS_ALIAS, INS_INCIDENT = sa.insert(_AP), sa.insert(_AL), sa.insert(_I)
UPD_INCIDENT = sa.update(_I).where(_I.c.id == _P("b_id"))
INS_CHANGES = sa.insert(t.changes).returning(t.changes.c.seq, sort_by_parameter_order=True)
DEL_PARTIES = sa.delete(t.incident_parties).where(t.incident_parties.c.incident_id == _P("b_id"))
DEL_AIRCRAFT = sa.delete(t.incident_aircraft).where(t.incident_aircraft.c.incident_id == _P("b_id"))
INS_PARTIES, INS_AIRCRAFT = sa.insert(t.incident_parties), sa.insert(t.incident_aircraft)


@functools.cache
def _insert_track_points(dialect: str):
    """The dialect's insert that skips points already kept (made on first use: importing PostgreSQL's dialect
    costs a SQLite store's command a fifth of a second)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(t.track_points).on_conflict_do_nothing()


def resolve_id(conn: sa.Connection, incident_id: str) -> str | None:
    """The incident an id names: itself, or the incident a flare-up with this id continued."""
    if conn.execute(Q_ID, {"id": incident_id}).first():
        return incident_id
    return conn.execute(Q_ALIAS, {"id": incident_id}).scalar_one_or_none()


def _flare_key(inc: Incident) -> str:
    return flare_key(inc.kind, [a.track_id for a in inc.aircraft], inc.details)


class WriteBatch:
    """The work of one write transaction; :meth:`flush` writes it and returns the changes in order."""

    def __init__(self, conn: sa.Connection, quiet_period: float, now: datetime) -> None:
        self.conn, self.quiet_period, self.now = conn, quiet_period, now
        self.loaded: dict[str, Incident] = {}
        self.members: dict[str, tuple | None] = {}  # parties and aircraft as stored (None: a new incident)
        self.alias: dict[str, str] = {}
        self.absent: set[str] = set()  # ids known to name no incident (before this batch)
        self.dirty: dict[str, Incident] = {}
        self.changes: list[tuple[Incident, dict]] = []
        self.applied: list[dict] = []
        self.track: dict[tuple, dict] = {}
        self.seen: set[tuple] = set()
        self.new_aliases: list[dict] = []

    # -- reading ---------------------------------------------------------------------------------------

    def prefetch(self, ids: Iterable[str]) -> None:
        """Read the incidents these ids name (directly or as aliases) in two queries."""
        ids = sorted(set(ids) - set(self.loaded) - set(self.alias) - self.absent)
        if not ids:
            return
        for alias, cid in self.conn.execute(Q_ALIASES, {"ids": ids}):
            self.alias[alias] = cid
        wanted = sorted({self.alias.get(i, i) for i in ids} - set(self.loaded))
        found = {cid: body for cid, body in self.conn.execute(Q_BODIES, {"ids": wanted})}
        for cid, body in found.items():
            self._keep(incident_from_json(body))
        self.absent.update(i for i in ids if i not in found and i not in self.alias)

    def _keep(self, inc: Incident) -> None:
        self.loaded[inc.id] = inc
        self.members[inc.id] = (inc.parties, inc.aircraft)

    def load(self, incident_id: str) -> Incident | None:
        cid = self.alias.get(incident_id, incident_id)
        if cid in self.loaded:
            return self.loaded[cid]
        if incident_id in self.absent:
            return None
        cid = resolve_id(self.conn, incident_id)
        if cid is None:
            return None
        if cid not in self.loaded:
            self.prefetch([cid])
        return self.loaded[cid]

    # -- changing --------------------------------------------------------------------------------------

    def apply(self, updates: Sequence[EventUpdate]) -> None:
        """Apply updates (their times in UTC): each one not applied before changes its incident."""
        ids = sorted({u.incident_id for u in updates})
        self.seen.update((r[0], r[1], utc(r[2])) for r in self.conn.execute(Q_APPLIED, {"ids": ids}))
        self.prefetch(ids)
        for u in updates:
            key = (u.incident_id, u.event, u.time)
            if key in self.seen:
                continue
            self.seen.add(key)
            self.applied.append({"incident_id": key[0], "event": key[1], "time": key[2]})
            inc = self.load(u.incident_id) or self._flared(u)
            if inc is None:
                inc, steps = lifecycle.open_incident(u, self.quiet_period)
                self.loaded[inc.id], self.members[inc.id] = inc, None
                self.absent.discard(inc.id)
                self.dirty[inc.id] = inc
            else:
                before = incident_json(inc)
                steps = lifecycle.apply_update(inc, u, self.quiet_period)
                if incident_json(inc) != before:  # also when only the last update time moved on
                    self.dirty[inc.id] = inc
            for action, why in steps:
                self.record(inc, u.time, SYSTEM, action, why)
            for p in u.track:
                if math.isfinite(p.lat) and math.isfinite(p.lon):
                    alt = p.alt_ft if p.alt_ft is not None and math.isfinite(p.alt_ft) else None
                    self.track.setdefault((inc.id, p.track_id, utc(p.time)), {
                        "incident_id": inc.id, "track_id": p.track_id, "time": utc(p.time), "lat": p.lat,
                        "lon": p.lon, "alt_ft": alt})

    def _flared(self, u: EventUpdate) -> Incident | None:
        """The ended incident that ``u`` (a new event) continues, if it flares up within its quiet period:
        of those with the same flare key, the one whose quiet period ends last (then the smallest id)."""
        key = flare_key(u.kind, [a.track_id for a in u.aircraft], u.details)
        stored = self.conn.execute(Q_FLARE, {"key": key, "t_end": u.time, "t_quiet": u.time}).scalars().all()
        self.prefetch(stored)
        candidates = [inc for inc in self.loaded.values()  # as they stand now, changed in this batch or not
                      if inc.ended_at is not None and inc.ended_at <= u.time <= inc.quiet_until
                      and _flare_key(inc) == key]
        if not candidates:
            return None
        inc = min(candidates, key=lambda i: (-i.quiet_until.timestamp(), i.id))
        inc.aliases = (*inc.aliases, u.incident_id)
        self.alias[u.incident_id] = inc.id
        self.absent.discard(u.incident_id)
        self.new_aliases.append({"alias": u.incident_id, "incident_id": inc.id})
        self.dirty[inc.id] = inc
        return inc

    def record(self, inc: Incident, time: datetime, who: str, action: str, why: str) -> None:
        """An audit record of ``inc`` as it stands now."""
        self.changes.append((inc, {"incident_id": inc.id, "time": time, "who": who, "action": action, "why": why,
                                   "incident": incident_json(inc), "recorded_at": self.now}))
        self.dirty[inc.id] = inc

    # -- writing ---------------------------------------------------------------------------------------

    def flush(self) -> list[Change]:
        """Write everything; the changes, numbered, in the order they were made."""
        new = [i for i in self.dirty.values() if self.members.get(i.id) is None]
        old = [i for i in self.dirty.values() if self.members.get(i.id) is not None]
        if new:
            self.conn.execute(INS_INCIDENT, [{"id": i.id, **_row(i)} for i in new])
        if old:
            self.conn.execute(UPD_INCIDENT, [{"b_id": i.id, **_row(i)} for i in old])
        moved = [i for i in self.dirty.values() if self.members.get(i.id) != (i.parties, i.aircraft)]
        stale = [{"b_id": i.id} for i in moved if self.members.get(i.id) is not None]
        if stale:
            self.conn.execute(DEL_PARTIES, stale)
            self.conn.execute(DEL_AIRCRAFT, stale)
        parties = [{"incident_id": i.id, "party": p} for i in moved for p in i.parties]
        aircraft = [{"incident_id": i.id, "track_id": a.track_id, "callsign": a.callsign, "party": a.party}
                    for i in moved for a in i.aircraft]
        if parties:
            self.conn.execute(INS_PARTIES, parties)
        if aircraft:
            self.conn.execute(INS_AIRCRAFT, aircraft)
        for i in self.dirty.values():
            self.members[i.id] = (i.parties, i.aircraft)
        self.dirty.clear()
        if self.new_aliases:  # after the incidents they name
            self.conn.execute(INS_ALIAS, self.new_aliases)
            self.new_aliases.clear()
        out: list[Change] = []
        if self.changes:
            seqs = self.conn.execute(INS_CHANGES, [row for _inc, row in self.changes]).scalars().all()
            out = [Change(seq, row["incident_id"], utc(row["time"]), row["who"], row["action"], row["why"],
                          incident_from_json(row["incident"]), self.now)
                   for seq, (_inc, row) in zip(seqs, self.changes)]
            self.changes.clear()
        if self.track:
            self.conn.execute(_insert_track_points(self.conn.dialect.name), list(self.track.values()))
            self.track.clear()
        if self.applied:
            self.conn.execute(INS_APPLIED, self.applied)
            self.applied.clear()
        return out


def _row(inc: Incident) -> dict:
    return dict(kind=inc.kind, status=inc.status, severity=inc.severity, severity_rank=rank(inc.severity),
                start_time=inc.start_time, end_time=inc.end_time, updated_at=inc.updated_at, ended_at=inc.ended_at,
                quiet_until=inc.quiet_until, flare_key=_flare_key(inc), body=incident_json(inc))
