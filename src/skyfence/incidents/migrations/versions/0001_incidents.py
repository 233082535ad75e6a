"""Incidents, their parties and aircraft, aliases, applied updates, the audit trail and track points.

Revision ID: 0001_incidents
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_incidents"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("start_time", T, nullable=False),
        sa.Column("end_time", T),
        sa.Column("updated_at", T, nullable=False),
        sa.Column("ended_at", T),
        sa.Column("quiet_until", T),
        sa.Column("flare_key", sa.String(400), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_incidents_start_time", "incidents", ["start_time"])
    op.create_index("ix_incidents_flare_key", "incidents", ["flare_key"])
    op.create_index("ix_incidents_quiet_until", "incidents", ["quiet_until"])
    op.create_table(
        "incident_parties",
        sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("party", sa.String(64), primary_key=True),
    )
    op.create_index("ix_incident_parties_party", "incident_parties", ["party"])
    op.create_table(
        "incident_aircraft",
        sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("track_id", sa.String(64), primary_key=True),
        sa.Column("callsign", sa.String(32)),
        sa.Column("party", sa.String(64)),
    )
    op.create_index("ix_incident_aircraft_track_id", "incident_aircraft", ["track_id"])
    op.create_table(
        "incident_aliases",
        sa.Column("alias", ID, primary_key=True),
        sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
    )
    op.create_table(
        "applied_updates",
        sa.Column("incident_id", ID, primary_key=True),
        sa.Column("event", sa.String(32), primary_key=True),
        sa.Column("time", T, primary_key=True),
    )
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("time", T, nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("incident", sa.JSON, nullable=False),
        sa.Column("recorded_at", T, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_incident_id", "changes", ["incident_id"])
    op.create_table(
        "track_points",
        sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("track_id", sa.String(64), primary_key=True),
        sa.Column("time", T, primary_key=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("alt_ft", sa.Float),
    )


def downgrade() -> None:
    for name in ("track_points", "changes", "applied_updates", "incident_aliases", "incident_aircraft",
                 "incident_parties", "incidents"):
        op.drop_table(name)
