"""§4.6 clock repair: when the calendar changes, open plan deadlines are recomputed and their BPMN timers re-armed."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.intake.service import PLAN_WORKING_DAYS
from engine.calendar import BusinessCalendar
from engine.errors import ConflictError
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance

PLAN_DUE_VARIABLE = "plan_due_at"  # the case data the §4.6 timer reads (set at registration)


def recompute_open_deadlines(
    session: Session, runtime: Runtime, calendar: Callable[[], BusinessCalendar], *, actor: str
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
            CSI.sla_paused_at.is_(None),  # a paused clock's timer is parked; resuming computes its deadline
            ProcessInstance.status == InstanceStatus.RUNNING.value,
            ProcessInstance.parent_instance_id.is_(None),
        )
        .with_for_update(of=ProcessInstance)
    )
    moved = 0
    business = calendar()
    for csi, instance in session.execute(query).all():
        deadline = business.deadline(csi.received_at, PLAN_WORKING_DAYS + (csi.sla_paused_days or 0))
        if deadline.due_at == csi.plan_due_at and deadline.provisional == csi.plan_due_provisional:
            continue
        old = csi.plan_due_at
        csi.plan_due_at, csi.plan_due_provisional = deadline.due_at, deadline.provisional
        rearm_plan_timer(session, runtime, instance, deadline.due_at.isoformat(), actor, calendar)
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


def rearm_plan_timer(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    due_iso: str,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
) -> None:
    """Give the case's data the new §4.6 due time and re-arm every waiting timer that reads it (whatever its id)."""
    run_step(
        session,
        runtime,
        instance,
        lambda handle: runtime.rearm_timers(handle, PLAN_DUE_VARIABLE, due_iso),
        actor=actor,
        calendar=calendar,
    )


def running_case_instance(session: Session, csi: CSI, purpose: str) -> ProcessInstance:
    """The case's own instance, locked, when it runs (a deadline can only be re-armed on a running instance).

    :raises ConflictError: the instance is missing or not running (`purpose` says what waits for it).
    """
    query = (
        sa.select(ProcessInstance)
        .where(ProcessInstance.csi_id == csi.id, ProcessInstance.parent_instance_id.is_(None))
        .order_by(ProcessInstance.id.desc())
        .with_for_update()
    )
    instance = session.scalars(query).first()
    if instance is None or instance.status != InstanceStatus.RUNNING.value:
        state = instance.status if instance else "missing"
        raise ConflictError(f"the process of {csi.csi_no} is {state}; resume or retry it {purpose}")
    return instance
