"""Fire due timers: each due instance is claimed, advanced and saved in its own transaction, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.bpmn.runtime import Workflow
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import WorkflowRuntimeError
from engine.platform.incidents import park
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance

CalendarLoader = Callable[[Session], BusinessCalendar]


def fire_due_timers(
    sessions: sessionmaker[Session],
    runtime: Runtime,
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


def _advance(session: Session, runtime: Runtime, instance: ProcessInstance, load: CalendarLoader) -> None:
    """Fire the instance's due timers in one step; a failing step is rolled back and the instance parked."""
    due = instance.next_timer_due

    def fire(handle: Workflow) -> None:
        runtime.fire_due_timers(handle)
        log_event(
            session,
            "timer.fired",
            actor="system",
            csi_id=instance.csi_id,
            instance_id=instance.id,
            data={"due": due.isoformat() if due else None},
        )

    try:
        with session.begin_nested():
            run_step(session, runtime, instance, fire, actor="system", calendar=lambda: load(session))
    except WorkflowRuntimeError as exc:
        park(session, instance, exc)
