"""Alembic migrations of the skyfence store (incidents, and the tables other packages add to the same
database: hotline, users). :func:`upgrade` brings a database to the head; :func:`head` names it.

Alembic is imported only when a database is not at :data:`HEAD` already: a store opened by a command
(``incidents list``) starts in half the time without it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent

HEAD = "0003_users"
"""The newest revision under versions/ (a test holds it to Alembic's own reading of the scripts)."""


def at_head(connection: sa.Connection) -> bool:
    """Whether the database is at :data:`HEAD` already (read with SQLAlchemy alone, as Alembic keeps it)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return False
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows == [HEAD]


def config(connection: sa.Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The head revision of the migrations, as Alembic has it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: sa.Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``connection`` (inside its transaction) to ``revision``."""
    from alembic import command

    command.upgrade(config(connection), revision)
