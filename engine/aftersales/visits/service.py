"""WO visit rounds (§5.3, §5.8): each round is its own `field_visit_round` instance, so "until the customer is
satisfied" never grows one instance; the case is woken by the message `work_orders_done` when its WOs are done."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import WorkflowRuntime
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.platform.access import check_role
from engine.platform.context import StepContext
from engine.platform.context import current_step
from engine.platform.context import step_context
from engine.platform.definitions import parsed_bundle
from engine.platform.instances import apply_snapshot
from engine.platform.instances import start_instance
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import WorkOrder
from engine.records.work_order import WorkOrderStatus

ROUND_PROCESS_ID = "field_visit_round"
DONE_MESSAGE = "work_orders_done"
_RUNTIME: list[WorkflowRuntime] = []


def use_runtime(runtime: WorkflowRuntime) -> None:
    """Give the operators the runtime they start and wake instances with (set once by engine.bootstrap)."""
    _RUNTIME[:] = [runtime]


def _runtime() -> WorkflowRuntime:
    if not _RUNTIME:
        raise RuntimeError("engine.bootstrap.build_runtime() was not called")
    return _RUNTIME[0]


def _work_order(session: Session, wo_id: int) -> WorkOrder:
    work_order = session.get(WorkOrder, int(wo_id))
    if work_order is None:
        raise NotFoundError(f"WO {wo_id} does not exist")
    return work_order


def start_visit_round(wo_id: int) -> dict[str, Any]:
    """Operator: open the next visit round of a WO as its own instance, assigned to the WO's engineer."""
    step = current_step()
    work_order = _work_order(step.session, wo_id)
    parent_id = _case_instance_id(step.session, step.instance_id)
    instance = _open_round(step, work_order, parent_id)
    return {"round_instance_id": instance.id, "round_no": work_order.rounds}


def finish_visit_round(wo_id: int, another_round: bool) -> dict[str, Any]:
    """Operator: after technical support another round starts (§5.8); otherwise the WO is done, and when every WO of
    the case is done the case is woken."""
    step = current_step()
    work_order = _work_order(step.session, wo_id)
    parent_id = _case_instance_id(step.session, step.instance_id)
    if another_round:
        instance = _open_round(step, work_order, parent_id)
        return {"next_round_instance_id": instance.id}
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
        _wake_case(step, parent_id)
    return {"wo_completed": True}


def _case_instance_id(session: Session, instance_id: int | None) -> int | None:
    """The case instance: the step's own instance for the case, its parent for a round."""
    if instance_id is None:
        return None
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        return None
    return instance.parent_instance_id or instance.id


def _open_round(step: StepContext, work_order: WorkOrder, parent_id: int | None) -> ProcessInstance:
    session = step.session
    csi = session.get(CSI, work_order.csi_id)
    work_order.rounds += 1
    work_order.status = WorkOrderStatus.IN_PROGRESS.value
    data = {
        "csi_id": work_order.csi_id,
        "csi_no": csi.csi_no if csi else "",
        "wo_id": work_order.id,
        "wo_no": work_order.wo_no,
        "round_no": work_order.rounds,
    }
    instance = start_instance(
        session,
        _runtime(),
        process_id=ROUND_PROCESS_ID,
        data=data,
        csi=csi,
        actor=step.actor,
        calendar=step.calendar,
        parent_instance_id=parent_id,
        work_order_id=work_order.id,
    )
    _assign_round_tasks(session, instance.id, work_order.engineers[0])
    log_event(
        session,
        "wo.round_started",
        actor=step.actor,
        csi_id=work_order.csi_id,
        instance_id=instance.id,
        message=f"{work_order.wo_no} #{work_order.rounds}",
        data={"engineer": work_order.engineers[0]},
    )
    return instance


def _assign_round_tasks(session: Session, instance_id: int, username: str) -> None:
    session.flush()
    session.execute(
        sa.update(HumanTask)
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == "field_visit",
            HumanTask.status == TaskStatus.OPEN.value,
        )
        .values(assignee=username, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _all_done(session: Session, csi_id: int) -> bool:
    query = (
        sa.select(sa.func.count())
        .select_from(WorkOrder)
        .where(WorkOrder.csi_id == csi_id, WorkOrder.status != WorkOrderStatus.COMPLETED.value)
    )
    return (session.scalar(query) or 0) == 0


def _wake_case(step: StepContext, case_instance_id: int) -> None:
    """Deliver `work_orders_done` to the waiting case, in the same transaction as the round's step."""
    session = step.session
    instance = session.scalars(
        sa.select(ProcessInstance).where(ProcessInstance.id == case_instance_id).with_for_update()
    ).one()
    if instance.status != InstanceStatus.RUNNING.value:
        return
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK
    csi = session.get(CSI, instance.csi_id) if instance.csi_id else None
    runtime = _runtime()
    context = StepContext(
        session=session, actor=step.actor, calendar=step.calendar, csi_id=instance.csi_id, instance_id=instance.id
    )
    with step_context(context):
        handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
        if runtime.deliver_message(handle, DONE_MESSAGE, {"csi_id": instance.csi_id}):
            log_event(
                session,
                "message.delivered",
                actor=step.actor,
                csi_id=instance.csi_id,
                instance_id=instance.id,
                message=DONE_MESSAGE,
            )
            apply_snapshot(session, instance, runtime.snapshot(handle), csi=csi, actor=step.actor)


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
    work_order.engineers = [username] + [e for e in work_order.engineers if e != username]
    if temporary and username not in work_order.temporary_staff:
        work_order.temporary_staff = [*work_order.temporary_staff, username]
    rounds = sa.select(ProcessInstance.id).where(
        ProcessInstance.work_order_id == work_order.id, ProcessInstance.status == InstanceStatus.RUNNING.value
    )
    for instance_id in session.scalars(rounds):
        _assign_round_tasks(session, instance_id, username)
    log_event(
        session,
        "wo.assigned",
        actor=supervisor.username,
        csi_id=work_order.csi_id,
        message=work_order.wo_no,
        data={"username": username, "temporary_staff": temporary},
    )
    return work_order
