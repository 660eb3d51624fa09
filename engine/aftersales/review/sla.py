"""§4.6 clock repair: when the calendar changes, open plan deadlines are recomputed and their BPMN timers re-armed."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.intake.service import PLAN_WORKING_DAYS
from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.platform.context import StepContext
from engine.platform.context import step_context
from engine.platform.definitions import parsed_bundle
from engine.platform.instances import apply_snapshot
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

PLAN_TIMER_ID = "plan_overdue"


def recompute_open_deadlines(
    session: Session, runtime: WorkflowRuntime, calendar: Callable[[], BusinessCalendar], *, actor: str
) -> int:
    """Recompute the §4.6 due time of every undecided, unbreached case; returns how many moved.

    A breached clock is never moved back silently (domain.md (3) rule 4): those keep their recorded breach.
    """
    query = (
        sa.select(CSI, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.csi_id == CSI.id)
        .where(
            CSI.plan_decided_at.is_(None),
            CSI.sla_breached_at.is_(None),
            ProcessInstance.status == InstanceStatus.RUNNING.value,
        )
        .with_for_update(of=ProcessInstance)
    )
    moved = 0
    business = calendar()
    for csi, instance in session.execute(query).all():
        deadline = business.deadline(csi.received_at, PLAN_WORKING_DAYS)
        if deadline.due_at == csi.plan_due_at and deadline.provisional == csi.plan_due_provisional:
            continue
        old = csi.plan_due_at
        csi.plan_due_at, csi.plan_due_provisional = deadline.due_at, deadline.provisional
        _rearm(session, runtime, instance, csi, deadline.due_at.isoformat(), actor, calendar)
        log_event(
            session,
            "sla.recomputed",
            actor=actor,
            csi_id=csi.id,
            instance_id=instance.id,
            message=f"§4.6 due {old.isoformat()} → {deadline.due_at.isoformat()}",
            data={
                "old": old.isoformat(),
                "new": deadline.due_at.isoformat(),
                "provisional": deadline.provisional,
                "calendar_version": business.version,
            },
        )
        moved += 1
    return moved


def _rearm(
    session: Session,
    runtime: WorkflowRuntime,
    instance: ProcessInstance,
    csi: CSI,
    due_iso: str,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
) -> None:
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK
    context = StepContext(session=session, actor=actor, calendar=calendar, csi_id=csi.id, instance_id=instance.id)
    with step_context(context):
        handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
        if runtime.rearm_timer(handle, PLAN_TIMER_ID, due_iso):
            apply_snapshot(session, instance, runtime.snapshot(handle), csi=csi, actor=actor)
