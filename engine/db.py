"""Database engine and session factories with the durability settings of reliability.md §6.4 (SQLite) and §6.5 (PG).

Write transactions on SQLite begin IMMEDIATE (one writer, no failed lock upgrades). Read transactions (`read_only`)
begin DEFERRED with `query_only` on, so in WAL mode a read never waits for a writer, however long it holds the
lock; on PostgreSQL they are READ ONLY transactions. `no_wait` makes a write transaction fail at once instead of
waiting for the lock (for best-effort writes such as a session's last-seen time).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.errors import EngineError
from engine.write_gate import GatedConnection
from engine.write_gate import gate_for
from engine.write_gate import is_file_database

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

json_dumps = partial(json.dumps, allow_nan=False, ensure_ascii=False, separators=(",", ":"))

_READ_ONLY = "aftersales_read_only"  # execution option: this connection's transactions only read
_LOCK_WAIT_MS = "aftersales_lock_wait_ms"  # execution option: how long a SQLite write waits for the lock
_BUSY_TIMEOUT_MS = 15_000


class ReadOnlySessionError(EngineError):
    """A read-only session (a GET request's) was asked to write: the caller must use a write session."""

    code = "read_only"


class Base(DeclarativeBase):
    """Declarative base for every table; constraint names are stable for Alembic."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    """True when the URL names an SQLite database."""
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an Engine: SQLite in WAL + synchronous=FULL + BEGIN IMMEDIATE, PostgreSQL with timeouts."""
    if is_sqlite(url):
        connect_args = {"timeout": 15, "factory": GatedConnection}
        engine = sa.create_engine(url, connect_args=connect_args, json_serializer=json_dumps, **kwargs)
        _configure_sqlite(engine)
        return engine
    options = "-c statement_timeout=30000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000"
    engine = sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"options": options},
        json_serializer=json_dumps,
        **kwargs,
    )
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: sa.Engine) -> None:
    """Read transactions say READ ONLY themselves, so write connections never get an explicit READ WRITE (that
    would override a database made read-only, e.g. a standby or default_transaction_read_only, and hide the
    outage: psycopg's `read_only` attribute is reset to False, not to the server default, in a shared pool)."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def _configure_sqlite(engine: sa.Engine) -> None:
    """Let SQLAlchemy own BEGIN so every write transaction starts IMMEDIATE (one writer, no lock upgrade failures),
    after passing the write gate (engine/write_gate.py) so waiting writers are handed the lock at once."""
    gate = gate_for(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        if gate is not None and isinstance(dbapi_conn, GatedConnection):
            dbapi_conn.attach_gate(gate)
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={_BUSY_TIMEOUT_MS}", "foreign_keys=ON", "synchronous=FULL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_READ_ONLY):  # a reader sees the last commit and never takes the write lock
            _pragma(conn, "query_only", "ON")
            conn.exec_driver_sql("BEGIN")
            return
        wait_ms = int(options.get(_LOCK_WAIT_MS, _BUSY_TIMEOUT_MS))
        _pragma(conn, "query_only", "OFF")
        _pragma(conn, "busy_timeout", str(wait_ms))
        dbapi_conn = conn.connection.dbapi_connection
        gated = dbapi_conn if isinstance(dbapi_conn, GatedConnection) else None
        if gated is not None:
            try:
                gated.pass_gate(wait_ms)
            except sqlite3.OperationalError as exc:  # what SQLAlchemy makes of SQLite's own "database is locked"
                raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if gated is not None:
                gated.leave_gate()
            raise


def _pragma(conn: sa.Connection, name: str, value: str) -> None:
    """Set a per-connection PRAGMA only when it changes (the value is remembered with the DBAPI connection)."""
    key = f"aftersales_pragma_{name}"
    if conn.info.get(key) != value:
        conn.exec_driver_sql(f"PRAGMA {name}={value}")
        conn.info[key] = value


def read_only(engine: sa.Engine) -> sa.Engine:
    """An engine for read transactions: DEFERRED + query_only on SQLite, READ ONLY on PostgreSQL.

    On SQLite the readers get a pool of their own (the same database file and write gate), so a connection's
    `query_only` is set once instead of flipped by a PRAGMA on every request that follows a request of the other
    kind (issue 12). On PostgreSQL they share the writers' pool: connections are a server resource there.
    """
    if engine.dialect.name == "sqlite" and is_file_database(engine.url.database):  # sqlite:// is one per connection
        readers = make_engine(engine.url.render_as_string(hide_password=False))
        return readers.execution_options(**{_READ_ONLY: True})
    return engine.execution_options(**{_READ_ONLY: True})


def no_wait(engine: sa.Engine) -> sa.Engine:
    """The same engine for writes that give up at once when SQLite's write lock is taken (OperationalError)."""
    return engine.execution_options(**{_LOCK_WAIT_MS: 0})


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("this request only reads: writes need a write session (a POST, or write_db())")


def make_session_factory(engine: sa.Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Session factory; callers own the transaction and commit once per request, job or command.

    A read-only factory (bind it to `read_only(engine)`) raises ReadOnlySessionError on any flush with changes.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info={"read_only": read_only})
    if read_only:
        event.listen(factory, "before_flush", _refuse_flush)
    return factory


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
