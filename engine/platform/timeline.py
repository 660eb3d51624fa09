"""Timeline entries: every state change writes one, in the same transaction as the change."""

from __future__ import annotations

from typing import Any

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
