"""Create or upgrade the database schema with Alembic (the migrations live in ./migrations)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from engine.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(database_url), "head")
