"""The outbox in the store's database: messages wait here until their channel takes them.

A message is one row per channel, with an id that stays the same on every attempt. Per incident and
channel, messages leave in the order they were made (``ord``): while the first waits for a retry the
ones after it wait too. A message that failed ``Backoff.attempts`` times is dead-lettered (``dead``):
kept, listed by ``skyfence hotline dead``, sent again by ``skyfence hotline resend``; the ones after
it then go on.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from skyfence.incidents.database import writing

from skyfence.hotline.retry import Backoff
from skyfence.hotline.tables import outbox

PENDING, SENT, DEAD = "pending", "sent", "dead"


def enqueue(conn: sa.Connection, rows: list[dict]) -> None:
    """Add messages (``id, channel, incident_id, party, contact, type, change_seq, body``) inside ``conn``'s
    transaction: they exist exactly when the change that made them is recorded as handled."""
    now = time.time()
    if rows:
        conn.execute(outbox.insert(), [{"status": PENDING, "attempts": 0, "next_attempt": now, "created_at": now,
                                        "last_error": None, "sent_at": None, **r} for r in rows])


def due(engine: sa.Engine, channel: str, now: float | None = None, limit: int = 500,
        exclude: set[int] | frozenset = frozenset()) -> list[sa.Row]:
    """The messages a channel may send now: per incident, the first one pending, if its time has come.
    ``exclude``: messages already sent whose mark is on its way (``ord``)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.status == PENDING, outbox.c.channel == channel)
                            .order_by(outbox.c.ord).limit(limit)).all()
    seen, out = set(), []
    for r in rows:
        if r.incident_id in seen or r.ord in exclude:
            continue
        seen.add(r.incident_id)
        if r.next_attempt <= now:
            out.append(r)
    return out


def next_wake(engine: sa.Engine, channel: str) -> float | None:
    """When the channel's earliest pending message may next be tried (None: nothing pending)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(outbox.c.next_attempt))
                            .where(outbox.c.status == PENDING, outbox.c.channel == channel)).scalar()


def mark_sent(engine: sa.Engine, ord_: int, now: float | None = None) -> None:
    with writing(engine) as conn:
        conn.execute(outbox.update().where(outbox.c.ord == ord_).values(
            status=SENT, sent_at=time.time() if now is None else now, attempts=outbox.c.attempts + 1,
            last_error=None))  # the attempts say it took retries; an error it got past is no longer the case


def mark_sent_many(engine: sa.Engine, marks: list[tuple[int, float]]) -> None:
    """Mark several messages sent in one transaction: ``(ord, sent_at)``."""
    if not marks:
        return
    with writing(engine) as conn:
        conn.execute(outbox.update().where(outbox.c.ord == sa.bindparam("o")).values(
            status=SENT, sent_at=sa.bindparam("t"), attempts=outbox.c.attempts + 1, last_error=None),
            [{"o": o, "t": t} for o, t in marks])


def mark_failed(engine: sa.Engine, row: sa.Row, error: str, backoff: Backoff, now: float | None = None) -> str:
    """Record a failed attempt: retry later, or dead-letter it; returns the new status."""
    now = time.time() if now is None else now
    failures = row.attempts + 1
    status = DEAD if backoff.dead(failures) else PENDING
    with writing(engine) as conn:
        conn.execute(outbox.update().where(outbox.c.ord == row.ord).values(
            status=status, attempts=failures, last_error=error[:500],
            next_attempt=now + backoff.delay(failures)))
    return status


def listing(engine: sa.Engine, status: str | None = None, incident: str | None = None,
            limit: int | None = None) -> list[sa.Row]:
    q = sa.select(outbox).order_by(outbox.c.ord)
    if status:
        q = q.where(outbox.c.status == status)
    if incident:
        q = q.where(outbox.c.incident_id == incident)
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return conn.execute(q).all()


def resend(engine: sa.Engine, ids: list[str] | None = None, status: str = DEAD) -> int:
    """Put dead-lettered messages (all, or these ids) back in line under the same ids; returns how many."""
    q = outbox.update().where(outbox.c.status == status)
    if ids:
        q = q.where(outbox.c.id.in_(ids))
    with writing(engine) as conn:
        return conn.execute(q.values(status=PENDING, attempts=0, next_attempt=time.time())).rowcount


def counts(engine: sa.Engine) -> dict[tuple[str, str], int]:
    """Messages per (channel, status)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.channel, outbox.c.status, sa.func.count())
                            .group_by(outbox.c.channel, outbox.c.status)).all()
    return {(c, s): n for c, s, n in rows}


def known_ids(engine: sa.Engine, ids: list[str]) -> set[str]:
    """Which of these message ids the outbox holds."""
    with engine.connect() as conn:
        return set(conn.execute(sa.select(outbox.c.id).where(outbox.c.id.in_(ids)).distinct()).scalars())


def messages_by_status(engine: sa.Engine) -> dict[str, tuple[int, int]]:
    """Per status: (messages, deliveries). A message to a contact goes out on each of the contact's channels, one
    delivery each."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.status, sa.func.count(sa.distinct(outbox.c.id)), sa.func.count())
                            .group_by(outbox.c.status)).all()
    return {s: (m, d) for s, m, d in rows}


def pending_channels(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(outbox.c.channel).where(outbox.c.status == PENDING).distinct())]
