"""Timeline entries: every state change writes one, in the same transaction as the change."""

from __future__ import annotations

from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.records.timeline import TimelineEvent


def log_event(
    session: Session,
    kind: str,
    *,
    actor: str,
    csi_id: int | None = None,
    instance_id: int | None = None,
    bpmn_id: str | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Append one timeline entry (added to the session; flushed with the caller's transaction)."""
    event = TimelineEvent(
        csi_id=csi_id,
        instance_id=instance_id,
        at=utcnow(),
        actor=actor,
        kind=kind,
        bpmn_id=bpmn_id,
        message=message,
        data=data,
    )
    session.add(event)
    return event


_INSERT_ROWS = sa.insert(cast(sa.Table, TimelineEvent.__table__))  # a Core statement: no ORM bookkeeping per row


def event_row(
    kind: str,
    *,
    actor: str,
    csi_id: int | None = None,
    instance_id: int | None = None,
    bpmn_id: str | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One timeline entry as a row for `insert_events` (an engine step's own entries: completion, new tasks)."""
    return {
        "csi_id": csi_id,
        "instance_id": instance_id,
        "at": utcnow(),
        "actor": actor,
        "kind": kind,
        "bpmn_id": bpmn_id,
        "message": message,
        "data": data,
    }


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert entries (`event_row`) in one Core statement, after what the session already flushed (the caller
    flushes first so entries logged before keep their place); no ORM objects, no RETURNING: nobody reads their ids."""
    if rows:
        session.execute(_INSERT_ROWS, rows)
