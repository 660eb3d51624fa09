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


def test_part_return_migration_upgrades_from_0016_and_downgrades(tmp_path):
    """0018 (§3.1 part returns) adds its table on a database at 0016, and its downgrade removes it again."""
    from alembic import command

    from engine.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'returns.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0016")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert "part_return" not in sa.inspect(conn).get_table_names()
    command.upgrade(config, "0018")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("part_return")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("part_return")}
    assert {"rt_no", "csi_id", "instance_id", "origin_so_no", "part_no", "quantity", "remedy", "status"} <= columns
    assert {"exchange_so_id", "credit_amount", "refusal_reason", "closed_at"} <= columns
    assert {"ix_part_return_csi_id", "ix_part_return_instance_id"} <= indexes
    command.downgrade(config, "0016")
    with engine.connect() as conn:
        assert "part_return" not in sa.inspect(conn).get_table_names()
    engine.dispose()
