"""Users of the page and the API, with their roles, kept in the incident store's database.

A user has a name, a role and (for an officer) a party. Each gets a random bearer token, shown once
when the user is added; only its SHA-256 is stored (the token is 256 random bits, so a fast hash is
as safe as a slow one and keeps every request cheap). The table ``web_users`` comes from the Alembic
revision ``0003_users`` in ``skyfence/incidents/migrations``, run with the store's other migrations.

Roles: a ``viewer`` reads; an ``officer`` of a party also acknowledges and comments on that party's
incidents, and resolves the incidents that are its party's alone; an ``admin`` does everything.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, get_args

import sqlalchemy as sa

from skyfence.errors import InputError
from skyfence.incidents.database import unavailable_as_error, writing

Role = Literal["viewer", "officer", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "sf_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

metadata = sa.MetaData()
users_table = sa.Table(
    "web_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("party", sa.String(64), nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    party: str | None = None

    def may_act_on(self, parties: tuple[str, ...] | list[str]) -> bool:
        """Acknowledge or comment: an admin always, an officer when its party is involved."""
        return self.role == "admin" or (self.role == "officer" and self.party in parties)

    def may_resolve(self, parties: tuple[str, ...] | list[str]) -> bool:
        """Resolve: an admin always, an officer when the incident involves its party alone."""
        return self.role == "admin" or (self.role == "officer" and bool(parties)
                                        and all(p == self.party for p in parties))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Users:
    """The ``web_users`` table of a store's database (``engine``: ``IncidentStore.engine``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, name: str, role: str, party: str | None = None) -> str:
        """Add a user and return its bearer token (the only time it is seen)."""
        if not _NAME.match(name or ""):
            raise InputError(f"user name {name!r}: letters, digits and _.@- only, up to 64 characters")
        if role not in ROLES:
            raise InputError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "officer" and not party:
            raise InputError("an officer acts for a party: give --party")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with writing(self.engine) as conn:  # a write transaction from its start: no upgrade refused mid-way
            if conn.execute(sa.select(users_table.c.id).where(users_table.c.name == name)).first():
                raise InputError(f"user {name!r} exists already (remove it first to issue a new token)")
            conn.execute(users_table.insert().values(name=name, role=role, party=party or None,
                                                     token_hash=token_hash(token),
                                                     created_at=datetime.now(timezone.utc)))
        return token

    def remove(self, name: str) -> bool:
        with writing(self.engine) as conn:
            return conn.execute(users_table.delete().where(users_table.c.name == name)).rowcount > 0

    def by_token(self, token: str | None) -> User | None:
        """The user holding ``token``, or None."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with unavailable_as_error("check the token"), self.engine.connect() as conn:
            row = conn.execute(sa.select(users_table.c.name, users_table.c.role, users_table.c.party)
                               .where(users_table.c.token_hash == token_hash(token))).first()
        return User(row.name, row.role, row.party) if row else None

    def list(self) -> list[User]:
        with unavailable_as_error("list the users"), self.engine.connect() as conn:
            rows = conn.execute(sa.select(users_table.c.name, users_table.c.role, users_table.c.party)
                                .order_by(users_table.c.name)).all()
        return [User(r.name, r.role, r.party) for r in rows]
