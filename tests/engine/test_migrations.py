"""Alembic: upgrading an empty database builds exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import engine.records  # noqa: F401
from engine.db import Base
from engine.db import make_engine
from engine.migrate import upgrade_database


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_from_empty_matches_the_models_and_is_idempotent(db_url):
    upgrade_database(db_url)
    upgrade_database(db_url)  # a second run changes nothing and does not fail
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        tables = set(sa.inspect(conn).get_table_names())
        setting = conn.execute(sa.text("select published_through_year from calendar_setting")).scalar_one()
    engine.dispose()
    assert diff == []
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
    assert setting == 2026
