"""Database engine and session factory with the durability settings of reliability.md §6.4 (SQLite) and §6.5 (PG)."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

json_dumps = partial(json.dumps, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


class Base(DeclarativeBase):
    """Declarative base for every table; constraint names are stable for Alembic."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    """True when the URL names an SQLite database."""
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an Engine: SQLite in WAL + synchronous=FULL + BEGIN IMMEDIATE, PostgreSQL with timeouts."""
    if is_sqlite(url):
        engine = sa.create_engine(url, connect_args={"timeout": 15}, json_serializer=json_dumps, **kwargs)
        _configure_sqlite(engine)
        return engine
    options = "-c statement_timeout=30000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000"
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"options": options},
        json_serializer=json_dumps,
        **kwargs,
    )


def _configure_sqlite(engine: sa.Engine) -> None:
    """Let SQLAlchemy own BEGIN so every transaction starts IMMEDIATE (one writer, no lock upgrade failures)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=15000", "foreign_keys=ON", "synchronous=FULL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """Session factory; callers own the transaction and commit once per request, job or command."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


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
