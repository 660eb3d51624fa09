"""Incidents: an engine step that fails (a script, an operator, a message delivery) parks its instance in `error`
with the message, the failing element and the script line, for a retry once the cause is fixed.

The failed step is rolled back as a whole (its savepoint), so the stored state is the one from before the step and a
retry replays it. A step that cannot be replayed from the state alone (a message that was being delivered) records
what to replay in the incident's timeline entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import as_utc
from engine.clock import utcnow
from engine.errors import BudgetExceededError
from engine.errors import WorkflowRuntimeError
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.timeline import TimelineEvent

INCIDENT_EVENT = "instance.error"


def park(
    session: Session,
    instance: ProcessInstance,
    exc: WorkflowRuntimeError,
    *,
    actor: str = "system",
    replay: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Stop the instance in `error` with the failing element and line (the timer worker skips it) and log it.

    `replay` (e.g. `{"message": "work_orders_done", "payload": {...}}`) is what a retry must redo besides the state.
    """
    instance.status = InstanceStatus.ERROR.value
    instance.error_message = str(exc)
    instance.error_bpmn_id = exc.bpmn_id
    instance.error_line = exc.line
    instance.next_timer_due = None
    instance.updated_at = utcnow()
    data: dict[str, Any] = {"line": exc.line}
    if isinstance(exc, BudgetExceededError):  # which budget, its limit and where (issue 8: the incident names them)
        data.update(budget=exc.budget, limit=exc.limit, file=exc.file)
    if replay:
        data["replay"] = replay
    return log_event(
        session,
        INCIDENT_EVENT,
        actor=actor,
        csi_id=instance.csi_id,
        instance_id=instance.id,
        bpmn_id=exc.bpmn_id,
        message=str(exc),
        data=data,
    )


def run_or_park(
    session: Session,
    instance: ProcessInstance,
    step: Callable[[], object],
    *,
    actor: str = "system",
    replay: dict[str, Any] | None = None,
) -> bool:
    """Run one engine step of `instance` in a savepoint; if it fails, undo the step and park the instance.

    Returns True when the step succeeded. For callers that must not fail their own transaction because another
    instance's step failed (e.g. a visit round waking its case with a message).
    """
    try:
        with session.begin_nested():
            step()
    except WorkflowRuntimeError as exc:
        park(session, instance, exc, actor=actor, replay=replay)
        return False
    return True


def last_replay(session: Session, instance_id: int) -> dict[str, Any] | None:
    """What the latest incident of the instance asked a retry to redo (None: replay the stored state)."""
    query = (
        sa.select(TimelineEvent.data)
        .where(TimelineEvent.instance_id == instance_id, TimelineEvent.kind == INCIDENT_EVENT)
        .order_by(TimelineEvent.id.desc())
        .limit(1)
    )
    data = session.scalar(query)
    replay = data.get("replay") if isinstance(data, dict) else None
    return replay if isinstance(replay, dict) else None


@dataclass(frozen=True)
class Incident:
    """One parked instance as the incident list shows it."""

    instance_id: int
    process_id: str
    process_version_id: int
    version: int
    case_id: int | None
    csi_no: str | None
    bpmn_id: str | None
    line: int | None
    message: str
    since: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = dict(self.__dict__)
        out["since"] = self.since.isoformat()
        return out


def list_incidents(session: Session, *, limit: int = 500) -> list[Incident]:
    """Instances parked in `error`, most recent first (the status index keeps this cheap)."""
    query = (
        sa.select(
            ProcessInstance.id,
            ProcessInstance.process_id,
            ProcessInstance.process_version_id,
            ProcessVersion.version,
            ProcessInstance.csi_id,
            CSI.csi_no,
            ProcessInstance.error_bpmn_id,
            ProcessInstance.error_line,
            ProcessInstance.error_message,
            ProcessInstance.updated_at,
        )
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
        .where(ProcessInstance.status == InstanceStatus.ERROR.value)
        .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        .limit(limit)
    )
    return [
        Incident(
            instance_id=r.id,
            process_id=r.process_id,
            process_version_id=r.process_version_id,
            version=r.version,
            case_id=r.csi_id,
            csi_no=r.csi_no,
            bpmn_id=r.error_bpmn_id,
            line=r.error_line,
            message=r.error_message or "",
            since=as_utc(r.updated_at),
        )
        for r in session.execute(query)
    ]


def count_incidents(session: Session) -> int:
    """How many instances are parked in `error`."""
    query = sa.select(sa.func.count()).where(ProcessInstance.status == InstanceStatus.ERROR.value)
    return int(session.scalar(query) or 0)
