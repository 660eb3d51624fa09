"""Alembic environment: runs migrations with the engine's own connection settings (WAL, BEGIN IMMEDIATE, timeouts)."""

from __future__ import annotations

from alembic import context

import engine.records  # noqa: F401  (registers every table on Base.metadata)
from engine.db import Base
from engine.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations_online() -> None:
    """Run migrations inside one transaction per upgrade."""
    connectable = make_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
