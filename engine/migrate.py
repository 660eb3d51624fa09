"""Create or upgrade the database schema with Alembic (the migrations live in ./migrations); tell whether a database
is at the newest revision (the readiness check)."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from engine.config import PROJECT_ROOT
from engine.outages import classify_outage


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(database_url), "head")


@cache
def head_revisions() -> frozenset[str]:
    """The newest revision(s) of ./migrations (what `upgrade_database` brings a database to)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def schema_state(applied: frozenset[str]) -> str:
    """'current' (at this code's head), 'behind' (migrations to apply) or 'ahead' (migrated by a newer release: this
    code keeps working during a rolling upgrade, since migrations only add)."""
    if applied == head_revisions():
        return "current"
    known = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for revision in applied:
        try:
            known.get_revision(revision)
        except CommandError:
            return "ahead"
    return "behind"


def applied_revisions(engine: sa.Engine) -> frozenset[str]:
    """The revisions recorded in the database (empty before the first upgrade).

    Read on a plain DBAPI connection so that on SQLite no write transaction (BEGIN IMMEDIATE) is opened.

    :raises Exception: the driver's error when the database cannot be reached (see engine.outages).
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            return frozenset(str(row[0]) for row in cursor.fetchall())
        except engine.dialect.loaded_dbapi.Error as exc:
            if classify_outage(exc) is not None:
                raise
            return frozenset()  # no alembic_version table: never migrated
        finally:
            cursor.close()
    finally:
        connection.close()
