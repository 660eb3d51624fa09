"""A user's saved inbox views (issue 11 item 3): a name and the inbox query it opens, e.g. "my overdue"."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime


class InboxView(Base):
    """One saved view of one user; the query is the inbox's own query string (tab, filters, sort)."""

    __tablename__ = "inbox_view"
    __table_args__ = (sa.UniqueConstraint("username", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    query: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
