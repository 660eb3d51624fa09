"""Fire due timers: each due instance is claimed, advanced and saved in its own transaction, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import WorkflowRuntimeError
from engine.platform.context import StepContext
from engine.platform.context import step_context
from engine.platform.definitions import parsed_bundle
from engine.platform.instances import apply_snapshot
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

CalendarLoader = Callable[[Session], BusinessCalendar]


def fire_due_timers(
    sessions: sessionmaker[Session],
    runtime: WorkflowRuntime,
    load_calendar: CalendarLoader,
    *,
    now: datetime | None = None,
    limit: int = 100,
) -> int:
    """Advance up to `limit` instances whose next timer is due; returns how many were advanced."""
    advanced = 0
    for _ in range(limit):
        with sessions() as session, session.begin():
            instance = _claim_one(session, now or utcnow())
            if instance is None:
                break
            _advance(session, runtime, instance, load_calendar)
            advanced += 1
    return advanced


def _claim_one(session: Session, now: datetime) -> ProcessInstance | None:
    """Lock one due instance: SKIP LOCKED on PostgreSQL; on SQLite, BEGIN IMMEDIATE already serializes writers."""
    query = (
        sa.select(ProcessInstance)
        .where(ProcessInstance.status == InstanceStatus.RUNNING.value, ProcessInstance.next_timer_due <= now)
        .order_by(ProcessInstance.next_timer_due)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _advance(session: Session, runtime: WorkflowRuntime, instance: ProcessInstance, load: CalendarLoader) -> None:
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK guarantees it
    csi = session.get(CSI, instance.csi_id) if instance.csi_id is not None else None
    context = StepContext(
        session=session, actor="system", calendar=lambda: load(session), csi_id=instance.csi_id, instance_id=instance.id
    )
    due = instance.next_timer_due
    try:
        with session.begin_nested(), step_context(context):
            handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
            runtime.fire_due_timers(handle)
            snapshot = runtime.snapshot(handle)
            log_event(
                session,
                "timer.fired",
                actor="system",
                csi_id=instance.csi_id,
                instance_id=instance.id,
                data={"due": due.isoformat() if due else None},
            )
            apply_snapshot(session, instance, snapshot, csi=csi, actor="system")
    except WorkflowRuntimeError as exc:
        park_instance(session, instance, exc)


def park_instance(session: Session, instance: ProcessInstance, exc: WorkflowRuntimeError) -> None:
    """Record an incident: the instance stops in `error` with the failing element and line, for a later retry."""
    instance.status = InstanceStatus.ERROR.value
    instance.error_message = str(exc)
    instance.error_bpmn_id = exc.bpmn_id
    instance.error_line = exc.line
    instance.next_timer_due = None
    instance.updated_at = utcnow()
    log_event(
        session,
        "instance.error",
        actor="system",
        csi_id=instance.csi_id,
        instance_id=instance.id,
        bpmn_id=exc.bpmn_id,
        message=str(exc),
        data={"line": exc.line},
    )
