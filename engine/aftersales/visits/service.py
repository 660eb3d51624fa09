"""WO visit rounds (§5.3, §5.8): each round is its own `field_visit_round` instance, so "until the customer is
satisfied" never grows one instance; the case is woken by the message `work_orders_done` when its WOs are done.

The round's visit task is assigned to the WO's engineer by the model (the task's `assignee` expression reads the
round's `engineer`); a supervisor may give the WO to another engineer or to temporary staff (§2.6).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.platform.access import check_role
from engine.platform.context import StepContext
from engine.platform.definitions import require_startable_version
from engine.platform.messages import send_message
from engine.platform.registry import Termination
from engine.platform.step import start_instance
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import TaskStatus
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import ENDED_WO_STATUSES
from engine.records.work_order import WorkOrder
from engine.records.work_order import WorkOrderStatus

ROUND_PROCESS_ID = "field_visit_round"
DONE_MESSAGE = "work_orders_done"


def get_work_order(session: Session, wo_id: Any) -> WorkOrder:
    """The WO with this id.

    :raises NotFoundError: no such WO.
    """
    work_order = session.get(WorkOrder, int(wo_id)) if wo_id is not None else None
    if work_order is None:
        raise NotFoundError(f"WO {wo_id} does not exist")
    return work_order


def case_instance_id(session: Session, instance_id: int | None) -> int | None:
    """The case instance: the step's own instance for the case, its parent for a round."""
    if instance_id is None:
        return None
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        return None
    return instance.parent_instance_id or instance.id


def open_round(step: StepContext, work_order: WorkOrder, parent_id: int | None) -> ProcessInstance:
    """Start the WO's next visit round as its own instance, for the WO's first engineer."""
    session = step.session
    if step.runtime is None:
        raise RuntimeError("a visit round is opened only inside an engine step")
    csi = session.get(CSI, work_order.csi_id)
    work_order.rounds += 1
    work_order.status = WorkOrderStatus.IN_PROGRESS.value
    engineer = work_order.engineers[0]
    data = {
        "csi_id": work_order.csi_id,
        "csi_no": csi.csi_no if csi else "",
        "wo_id": work_order.id,
        "wo_no": work_order.wo_no,
        "round_no": work_order.rounds,
        "engineer": engineer,
        "wo_kind": work_order.kind,  # §6.3: the round's model tells a training visit from a repair visit by it
    }
    instance = start_instance(
        session,
        step.runtime,
        require_startable_version(session, ROUND_PROCESS_ID),
        data,
        actor=step.actor,
        calendar=step.calendar,
        csi_id=work_order.csi_id,
        parent_instance_id=parent_id,
        work_order_id=work_order.id,
        business_key=f"{work_order.wo_no} #{work_order.rounds}",
    )
    log_event(
        session,
        "wo.round_started",
        actor=step.actor,
        csi_id=work_order.csi_id,
        instance_id=instance.id,
        message=f"{work_order.wo_no} #{work_order.rounds}",
        data={"engineer": engineer},
    )
    return instance


def complete_work_order(step: StepContext, work_order: WorkOrder, parent_id: int | None) -> None:
    """The customer is satisfied: the WO is done; when every WO of the case is done, the case is woken."""
    work_order.status = WorkOrderStatus.COMPLETED.value
    work_order.completed_at = utcnow()
    log_event(
        step.session,
        "wo.completed",
        actor=step.actor,
        csi_id=work_order.csi_id,
        message=work_order.wo_no,
        data={"rounds": work_order.rounds, "labour_cost": str(work_order.labour_cost)},
    )
    if parent_id is not None and _all_done(step.session, work_order.csi_id):
        if step.runtime is None:
            raise RuntimeError("a case is woken only inside an engine step")
        send_message(
            step.session,
            step.runtime,
            parent_id,
            DONE_MESSAGE,
            {"csi_id": work_order.csi_id},
            actor=step.actor,
            calendar=step.calendar,
        )


def _all_done(session: Session, csi_id: int) -> bool:
    query = (
        sa.select(sa.func.count())
        .select_from(WorkOrder)
        .where(WorkOrder.csi_id == csi_id, WorkOrder.status.not_in(ENDED_WO_STATUSES))
    )
    return (session.scalar(query) or 0) == 0


def cancel_work_order_record(session: Session, work_order: WorkOrder, *, actor: str, reason: str) -> None:
    """The WO is cancelled with its reason (nothing more is done under it); the timeline says by whom."""
    before = work_order.status
    work_order.status = WorkOrderStatus.CANCELLED.value
    work_order.cancelled_at = utcnow()
    work_order.cancel_reason = reason
    log_event(
        session,
        "wo.cancelled",
        actor=actor,
        csi_id=work_order.csi_id,
        message=work_order.wo_no,
        data={"reason": reason, "status_before": before, "rounds": work_order.rounds},
    )


def cancel_terminated_round(termination: Termination) -> None:
    """Termination hook: a terminated visit round cancels its WO; a round terminated on its own (not with its case)
    wakes the case when no WO of it is left open, so the case never waits forever (§5.8)."""
    instance, session = termination.instance, termination.session
    work_order = session.get(WorkOrder, instance.work_order_id) if instance.work_order_id is not None else None
    if work_order is None:
        return
    if work_order.status not in ENDED_WO_STATUSES:
        cancel_work_order_record(session, work_order, actor=termination.actor, reason=termination.reason)
    parent_id = instance.parent_instance_id
    if termination.cascade_from is None and parent_id is not None and _all_done(session, work_order.csi_id):
        send_message(
            session,
            termination.runtime,
            parent_id,
            DONE_MESSAGE,
            {"csi_id": work_order.csi_id},
            actor=termination.actor,
            calendar=termination.calendar,
        )


def assign_work_order(session: Session, supervisor: User, wo_no: str, username: str) -> WorkOrder:
    """§2.6: the service supervisor assigns a WO (and its open visit) to an engineer or to temporary staff.

    :raises PermissionDeniedError: not a supervisor. :raises InvalidInputError: unknown or inactive user.
    :raises ConflictError: the WO is already completed.
    """
    check_role(supervisor, Role.SERVICE_SUPERVISOR.value)
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.wo_no == wo_no)).first()
    if work_order is None:
        raise NotFoundError(f"WO {wo_no} does not exist")
    if work_order.status == WorkOrderStatus.COMPLETED.value:
        raise ConflictError(f"WO {wo_no} is completed; nothing left to assign")
    person = session.scalars(sa.select(User).where(User.username == username)).first()
    if person is None or not person.active:
        raise InvalidInputError("unknown user", {"username": f"no active user {username!r}"})
    temporary = Role.SERVICE_ENGINEER.value not in person.role_keys
    previous = work_order.engineers[0] if work_order.engineers else None
    work_order.engineers = [username] + [e for e in work_order.engineers if e != username]
    if temporary and username not in work_order.temporary_staff:
        work_order.temporary_staff = [*work_order.temporary_staff, username]
    _reassign_open_visits(session, work_order.id, previous, username)
    log_event(
        session,
        "wo.assigned",
        actor=supervisor.username,
        csi_id=work_order.csi_id,
        message=work_order.wo_no,
        data={"username": username, "temporary_staff": temporary},
    )
    return work_order


def _reassign_open_visits(session: Session, wo_id: int, previous: str | None, username: str) -> None:
    """Hand the WO's open round tasks that were its engineer's to the new engineer (others keep their assignee)."""
    rounds = sa.select(ProcessInstance.id).where(
        ProcessInstance.work_order_id == wo_id, ProcessInstance.status == InstanceStatus.RUNNING.value
    )
    session.execute(
        sa.update(HumanTask)
        .where(
            HumanTask.instance_id.in_(rounds),
            HumanTask.status == TaskStatus.OPEN.value,
            HumanTask.assignee == previous,
        )
        .values(assignee=username, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
