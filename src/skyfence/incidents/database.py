"""The database behind the store: which one a URL means, how it is connected, and its transactions.

- a plain path or ``sqlite:///path``: one SQLite file (WAL journal, ``synchronous=FULL``: a commit is
  on disk before it returns, so a process killed right after loses nothing it committed);
- ``postgresql://...`` (or ``postgres://``, ``postgresql+psycopg://``): PostgreSQL through psycopg 3.

Write transactions are serialised: SQLite takes its write lock at ``BEGIN IMMEDIATE``, PostgreSQL a
transaction-level advisory lock, so change numbers (``seq``) are committed in order and a follower
polling ``changes_since`` never skips one. Losing the database mid-call raises
:class:`StoreUnavailable`; nothing of that call was committed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event, exc

from skyfence.incidents.errors import StoreError, StoreUnavailable

WRITE_LOCK = 0x5C1F_E4CE  # PostgreSQL advisory lock key of the store's writers
_WRITE = "skyfence_write"


def describe(url: str | Path) -> str:
    """The URL with any password hidden, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(url))


def engine_url(url: str | Path, create: bool = True) -> sa.URL:
    """The SQLAlchemy URL of a store URL or path (StoreError for one that is no store)."""
    text = str(url).strip()
    if not text:
        raise StoreError("the store URL is empty (give a file path, sqlite:///PATH or postgresql://...)")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        try:
            u = sa.make_url(text)
        except exc.ArgumentError:
            raise StoreError(f"bad store URL {describe(text)}: not a PostgreSQL URL") from None
        if not u.database:  # postgresql:// alone would connect to whatever libpq's defaults point at
            raise StoreError(f"bad store URL {describe(text)}: name the database, postgresql://USER@HOST/DB")
        return u.set(drivername="postgresql+psycopg")
    if scheme == "sqlite":
        path = text[len("sqlite:///"):] if text.startswith("sqlite:///") else None
        if not path:
            raise StoreError(f"bad store URL {describe(text)}: write sqlite:///PATH (a file; no in-memory store)")
    elif scheme:
        raise StoreError(f"bad store URL {describe(text)}: the store is a file path, sqlite:///PATH or "
                         "postgresql://...")
    else:
        path = text
    file = Path(path).expanduser()
    if file.is_dir():
        raise StoreError(f"{file}: is a folder, not a store file")
    if not file.parent.is_dir():
        hint = (f" (sqlite:///{path} is relative to here; sqlite:////{path} is /{path})"
                if scheme == "sqlite" and not path.startswith(("/", "~")) else "")
        raise StoreError(f"{file}: its folder {file.parent} does not exist{hint}")
    if not create and not file.exists():
        raise StoreError(f"{file}: no incident store there")
    return sa.URL.create("sqlite", database=str(file.resolve()))


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine for ``url`` with the store's connection settings."""
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi, _record) -> None:
            dbapi.isolation_level = None  # transactions are begun below, not by the driver
            cur = dbapi.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


@contextlib.contextmanager
def unavailable_as_error(what: str) -> Iterator[None]:
    """Turn a lost or unreachable database into :class:`StoreUnavailable` (one line)."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as e:
        raise StoreUnavailable(f"{what}: the store is unavailable ({_first_line(e)})") from e
    except exc.DBAPIError as e:
        if e.connection_invalidated:
            raise StoreUnavailable(f"{what}: the store is unavailable ({_first_line(e)})") from e
        raise StoreError(f"{what}: {_first_line(e)}") from e


def _first_line(e: exc.DBAPIError) -> str:
    text = str(e.orig) if e.orig is not None else str(e)
    return " ".join(text.strip().splitlines()[0].split()) if text.strip() else type(e).__name__


@contextlib.contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction, serialised with every other writer of the store."""
    with engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
        yield conn


@contextlib.contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read transaction (SQLite's WAL lets it run beside a writer)."""
    with engine.connect() as conn, conn.begin():
        yield conn
