"""Alembic environment: runs on the connection :func:`skyfence.incidents.migrations.upgrade` hands over
(the store opens it, inside its own transaction and lock)."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("run the skyfence migrations through skyfence.incidents.migrations.upgrade")
context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
