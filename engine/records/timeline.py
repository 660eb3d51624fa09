"""Append-only timeline (audit trail) of a case and its process instance: who did what, when, with what data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import orm_insert_sentinel

from engine.db import Base
from engine.db import UTCDateTime


class TimelineEvent(Base):
    """One entry, written in the same transaction as the change it records."""

    __tablename__ = "timeline_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    csi_id: Mapped[int | None] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("process_instance.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(48))
    bpmn_id: Mapped[str | None] = mapped_column(sa.String(64))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # lets the ORM insert one step's entries in a single batched INSERT ... RETURNING (SQLite orders RETURNING rows
    # only with a sentinel): fewer statements per engine step
    _sentinel: Mapped[int] = orm_insert_sentinel()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view for the API and pages."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "bpmn_id": self.bpmn_id,
            "message": self.message,
            "data": self.data,
        }
