"""The store's tables (SQLAlchemy Core). The migrations in ``migrations/versions`` create them; keep
the two in step (a test compares them).

- ``incidents``: one row per incident; ``body`` is its :func:`incident_json`, the other columns are
  there to filter and sort on.
- ``incident_parties``, ``incident_aircraft``: who is involved, for the party and aircraft filters.
- ``incident_aliases``: the ids of flare-ups that continue an earlier incident.
- ``applied_updates``: every update applied, by ``(incident_id, event, time)``: what makes ``apply``
  idempotent.
- ``changes``: the audit trail, ``seq`` growing with every committed change; ``incident`` is the
  incident after the change.
- ``track_points``: positions of the aircraft around each incident, once each.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every backend (SQLite keeps them as naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = sa.MetaData()
ID = sa.String(64)

incidents = sa.Table(
    "incidents", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("severity_rank", sa.Integer, nullable=False),
    sa.Column("start_time", UTCDateTime, nullable=False),
    sa.Column("end_time", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("quiet_until", UTCDateTime),
    sa.Column("flare_key", sa.String(400), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Index("ix_incidents_start_time", "start_time"),
    sa.Index("ix_incidents_flare_key", "flare_key"),
    sa.Index("ix_incidents_quiet_until", "quiet_until"),
)

incident_parties = sa.Table(
    "incident_parties", metadata,
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("party", sa.String(64), primary_key=True),
    sa.Index("ix_incident_parties_party", "party"),
)

incident_aircraft = sa.Table(
    "incident_aircraft", metadata,
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("track_id", sa.String(64), primary_key=True),
    sa.Column("callsign", sa.String(32)),
    sa.Column("party", sa.String(64)),
    sa.Index("ix_incident_aircraft_track_id", "track_id"),
)

incident_aliases = sa.Table(
    "incident_aliases", metadata,
    sa.Column("alias", ID, primary_key=True),
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
)

applied_updates = sa.Table(
    "applied_updates", metadata,
    sa.Column("incident_id", ID, primary_key=True),
    sa.Column("event", sa.String(32), primary_key=True),
    sa.Column("time", UTCDateTime, primary_key=True),
)

changes = sa.Table(
    "changes", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("who", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("incident", sa.JSON, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Index("ix_changes_incident_id", "incident_id"),
    sqlite_autoincrement=True,
)

track_points = sa.Table(
    "track_points", metadata,
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("track_id", sa.String(64), primary_key=True),
    sa.Column("time", UTCDateTime, primary_key=True),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("alt_ft", sa.Float),
)
