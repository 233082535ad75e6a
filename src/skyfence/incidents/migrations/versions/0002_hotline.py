"""The hotline's state, outbox and acknowledgement tokens (see skyfence.hotline.tables).

Revision ID: 0002_hotline
Revises: 0001_incidents
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_hotline"
down_revision = "0001_incidents"
branch_labels = None
depends_on = None

ID = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "hotline_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "hotline_threads",
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
    )
    op.create_index("ix_hotline_threads_pending", "hotline_threads", ["pending_seq"])
    op.create_index("ix_hotline_threads_ack_due", "hotline_threads", ["ack_due"])
    op.create_table(
        "hotline_outbox",
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
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hotline_outbox_due", "hotline_outbox", ["status", "channel", "next_attempt"])
    op.create_index("ix_hotline_outbox_incident", "hotline_outbox", ["incident_id"])
    op.create_table(
        "hotline_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("incident_id", ID, nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("used_at", sa.Float),
        sa.Column("used_by", sa.String(128)),
    )


def downgrade() -> None:
    for name in ("hotline_tokens", "hotline_outbox", "hotline_threads", "hotline_state"):
        op.drop_table(name)
