"""Readable document numbers, sequential per type and year (CSI-2026-000123)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from engine.db import Base


class DocumentSequence(Base):
    """The last number issued for one document type in one year."""

    __tablename__ = "document_sequence"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


def next_number(session: Session, prefix: str, year: int) -> str:
    """Issue the next number atomically under the caller's write transaction, in one statement.

    INSERT … ON CONFLICT DO UPDATE … RETURNING creates the series at 1 or bumps it: concurrent first requests of a
    series (a fresh database, every series on 1 January) wait for each other on the row instead of colliding on its
    primary key, on PostgreSQL and SQLite alike.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DocumentSequence).values(prefix=prefix, year=year, last=1)
    upsert = statement.on_conflict_do_update(
        index_elements=["prefix", "year"], set_={"last": DocumentSequence.last + 1}
    ).returning(DocumentSequence.last)
    last = session.execute(upsert).scalar_one()
    return f"{prefix}-{year}-{last:06d}"
