"""The hotline's tables in the store's database (SQLAlchemy Core); migration ``0002_hotline`` creates them.

- ``hotline_state``: small named values: the seq of the last store change folded in, the ack-token key.
- ``hotline_threads``: per incident and party, where the conversation stands: which contact, what is
  waiting to go (grouping), what was sent, whether the party acknowledged, when it must have.
- ``hotline_outbox``: every message on every channel, in order (``ord``), with its id (the same on
  every attempt), its status (pending, sent, dead), attempts and the time of the next one.
- ``hotline_tokens``: the one-time acknowledgement tokens carried in messages, and their use.

Times are Unix seconds (floats): the thread times on the hotline's clock (data time in a replay),
the outbox times on the wall clock (retries happen in the real world).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
ID = sa.String(64)

state = sa.Table(
    "hotline_state", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

threads = sa.Table(
    "hotline_threads", metadata,
    sa.Column("incident_id", ID, primary_key=True),
    sa.Column("party", sa.String(64), primary_key=True),
    sa.Column("involved", sa.Boolean, nullable=False),
    sa.Column("contact_index", sa.Integer),
    sa.Column("pending_seq", sa.Integer),
    sa.Column("pending_since", sa.Float),
    sa.Column("last_sent_at", sa.Float),
    sa.Column("sent_rank", sa.Integer, nullable=False),
    sa.Column("acked", sa.Boolean, nullable=False),
    sa.Column("ack_due", sa.Float),
    sa.Column("resends", sa.Integer, nullable=False),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("last_text", sa.Text),
    sa.Index("ix_hotline_threads_pending", "pending_seq"),
    sa.Index("ix_hotline_threads_ack_due", "ack_due"),
)

outbox = sa.Table(
    "hotline_outbox", metadata,
    sa.Column("ord", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", ID, nullable=False),
    sa.Column("channel", sa.String(400), nullable=False),
    sa.Column("incident_id", ID, nullable=False),
    sa.Column("party", sa.String(64), nullable=False),
    sa.Column("contact", sa.String(200), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("change_seq", sa.Integer),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.Float),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("id", "channel", name="uq_hotline_outbox_id_channel"),
    sa.Index("ix_hotline_outbox_due", "status", "channel", "next_attempt"),
    sa.Index("ix_hotline_outbox_incident", "incident_id"),
    sqlite_autoincrement=True,
)

tokens = sa.Table(
    "hotline_tokens", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("incident_id", ID, nullable=False),
    sa.Column("party", sa.String(64), nullable=False),
    sa.Column("message_id", ID, nullable=False),
    sa.Column("used_at", sa.Float),
    sa.Column("used_by", sa.String(128)),
)
