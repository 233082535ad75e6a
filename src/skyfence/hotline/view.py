"""The hotline as the people on watch see it, read from the store: per channel what waits, went or died;
per incident and party where the conversation stands (whom it reached, whether they acknowledged,
when they must have); the messages themselves. Read only; ``hotline status`` and the web page use it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from skyfence.hotline.outbox import DEAD, PENDING, SENT
from skyfence.hotline.tables import outbox, threads


@dataclass(frozen=True)
class ChannelState:
    channel: str
    pending: int
    sent: int
    dead: int
    oldest_pending_s: float | None
    last_error: str | None


@dataclass(frozen=True)
class Awaited:
    """A party told of an incident whose acknowledgement is still awaited."""

    incident_id: str
    party: str
    contact_number: int
    resends: int
    ack_due: float


@dataclass(frozen=True)
class HotlineStatus:
    channels: list[ChannelState]
    awaited: list[Awaited]
    messages: dict[str, int] = field(default_factory=dict)
    """Per status, the messages with a delivery in it (a message goes out on each of its contact's channels; the
    channels count deliveries)."""

    @property
    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(c, k) for c in self.channels) for k in (PENDING, SENT, DEAD)}

    def json(self) -> dict:
        return {"channels": [asdict(c) for c in self.channels], "awaited": [asdict(a) for a in self.awaited],
                "totals": self.totals, "messages": {k: self.messages.get(k, 0) for k in (PENDING, SENT, DEAD)}}


def status(engine: sa.Engine, now: float | None = None, party: str | None = None,
           awaited_limit: int = 200) -> HotlineStatus:
    """Per channel: messages pending, sent and dead, the age of the oldest pending (s, wall clock) and the last
    error; the acknowledgements awaited, soonest due first. ``party``: only what goes to that party."""
    now = time.time() if now is None else now
    mine = (outbox.c.party == party) if party else sa.true()
    with engine.connect() as conn:
        counts: dict[str, dict[str, int]] = {}
        for ch, st, n in conn.execute(sa.select(outbox.c.channel, outbox.c.status, sa.func.count()).where(mine)
                                      .group_by(outbox.c.channel, outbox.c.status)):
            counts.setdefault(ch, {})[st] = n
        oldest = dict(conn.execute(sa.select(outbox.c.channel, sa.func.min(outbox.c.created_at))
                                   .where(outbox.c.status == PENDING, mine).group_by(outbox.c.channel)).all())
        errors: dict[str, str] = {}
        last = (sa.select(outbox.c.channel, sa.func.max(outbox.c.ord).label("ord"))
                .where(outbox.c.last_error.is_not(None), mine).group_by(outbox.c.channel).subquery())
        for ch, err in conn.execute(sa.select(outbox.c.channel, outbox.c.last_error)
                                    .join(last, outbox.c.ord == last.c.ord)):
            errors[ch] = err
        messages = dict(conn.execute(sa.select(outbox.c.status, sa.func.count(sa.distinct(outbox.c.id))).where(mine)
                                     .group_by(outbox.c.status)).all())
        waiting = conn.execute(sa.select(threads).where(threads.c.ack_due.is_not(None),
                                                        (threads.c.party == party) if party else sa.true())
                               .order_by(threads.c.ack_due).limit(awaited_limit)).all()
    channels = [ChannelState(ch, c.get(PENDING, 0), c.get(SENT, 0), c.get(DEAD, 0),
                             round(now - oldest[ch], 1) if ch in oldest else None, errors.get(ch))
                for ch, c in sorted(counts.items())]
    awaited = [Awaited(r.incident_id, r.party, (r.contact_index or 0) + 1, r.resends, r.ack_due) for r in waiting]
    return HotlineStatus(channels, awaited, messages)


def incident_hotline(engine: sa.Engine, incident_id: str, party: str | None = None, limit: int = 200) -> dict:
    """One incident's hotline: per party (the parties involved first) whom it reached, how many messages,
    whether acknowledged or by when it must be, how often re-sent; and its messages, oldest first, one entry
    per message with the channels it went on (times: threads on the hotline's clock, messages on the wall
    clock; Unix seconds). ``party``: only that party's side of it."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(threads).where(threads.c.incident_id == incident_id,
                                                     (threads.c.party == party) if party else sa.true())).all()
        msgs = conn.execute(sa.select(outbox).where(outbox.c.incident_id == incident_id,
                                                    (outbox.c.party == party) if party else sa.true())
                            .order_by(outbox.c.ord).limit(limit)).all()
    contact_of: dict[str, str] = {}
    messages: dict[str, dict] = {}
    for m in msgs:
        contact_of[m.party] = m.contact
        entry = messages.get(m.id)
        if entry is None:
            body = json.loads(m.body)
            entry = messages[m.id] = {"id": m.id, "party": m.party, "contact": m.contact, "type": m.type,
                                      "created_at": m.created_at, "text": body.get("message"), "channels": []}
        entry["channels"].append({"channel": m.channel, "status": m.status, "attempts": m.attempts,
                                  "sent_at": m.sent_at, "last_error": m.last_error})
    parties = [{"party": r.party, "involved": r.involved, "contact": contact_of.get(r.party),
                "contact_number": None if r.contact_index is None else r.contact_index + 1,
                "messages": r.messages, "last_sent_at": r.last_sent_at, "acknowledged": r.acked,
                "ack_due": r.ack_due, "resends": r.resends}
               for r in sorted(rows, key=lambda r: (not r.involved, r.party))]
    return {"incident_id": incident_id, "parties": parties, "messages": list(messages.values())}


def end_line(engine: sa.Engine, channels: list[str] | tuple[str, ...] = ()) -> str:
    """What the hotline sent, and where to (its channels): the line a run ends with."""
    from skyfence.hotline import outbox as box

    got = box.messages_by_status(engine)

    def told(status: str) -> str:
        messages, deliveries = got.get(status, (0, 0))
        return f"{messages:,} message{'s' if messages != 1 else ''}" + (
            f" ({deliveries:,} deliveries)" if deliveries != messages else "")

    where = ", ".join(channels)
    return (f"hotline: {told('sent')} sent" + (f" to {where}" if where else "") + f", {told('pending')} waiting, "
            f"{told('dead')} dead (see 'skyfence hotline status')")
