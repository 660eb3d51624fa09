"""Readable document numbers, sequential per type and year (CSI-2026-000123)."""

from __future__ import annotations

import sqlalchemy as sa
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
    """Issue the next number atomically (an UPDATE ... RETURNING under the caller's write transaction)."""
    bump = (
        sa.update(DocumentSequence)
        .where(DocumentSequence.prefix == prefix, DocumentSequence.year == year)
        .values(last=DocumentSequence.last + 1)
        .returning(DocumentSequence.last)
    )
    last = session.execute(bump).scalar_one_or_none()
    if last is None:
        session.add(DocumentSequence(prefix=prefix, year=year, last=1))
        session.flush()
        last = 1
    return f"{prefix}-{year}-{last:06d}"
