"""Start process instances and persist each engine step: state, inbox rows, timer due time and timeline, together."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import Snapshot
from engine.bpmn.runtime import WorkflowRuntime
from engine.bpmn.serializer import SERIALIZER_VERSION
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.platform.context import StepContext
from engine.platform.context import step_context
from engine.platform.definitions import parsed_bundle
from engine.platform.definitions import require_latest_version
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import TaskStatus

# The CSI status follows the furthest step its case process waits at (first match wins).
STATUS_BY_TASK: tuple[tuple[str, CSIStatus], ...] = (
    ("close_case", CSIStatus.AWAITING_CLOSURE),
    ("work_orders_done", CSIStatus.IN_EXECUTION),
    ("training_done", CSIStatus.IN_EXECUTION),
    ("issue_parts_so", CSIStatus.DISPATCHING),
    ("issue_work_order", CSIStatus.DISPATCHING),
    ("arrange_overseas_formalities", CSIStatus.DISPATCHING),
    ("plan_training", CSIStatus.DISPATCHING),
    ("issue_training_work_order", CSIStatus.DISPATCHING),
    ("deliver_training", CSIStatus.DISPATCHING),
    ("answer_customer", CSIStatus.PLAN_DECIDED),
    ("review_csi", CSIStatus.UNDER_REVIEW),
    ("analyse_root_cause", CSIStatus.ANALYSING),
)


def start_instance(
    session: Session,
    runtime: WorkflowRuntime,
    *,
    process_id: str,
    data: Mapping[str, Any],
    csi: CSI | None,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
    parent_instance_id: int | None = None,
    work_order_id: int | None = None,
) -> ProcessInstance:
    """Start the latest version of a process and persist its first wait state.

    :raises NotFoundError: the process is not deployed.
    :raises WorkflowRuntimeError: the first steps failed (nothing is persisted by the caller).
    """
    version = require_latest_version(session, process_id)
    bundle = parsed_bundle(session, version)
    csi_id = csi.id if csi is not None else None
    with step_context(StepContext(session=session, actor=actor, calendar=calendar, csi_id=csi_id)):
        handle = runtime.start(bundle, process_id, data)
        snapshot = runtime.snapshot(handle)
    now = utcnow()
    instance = ProcessInstance(
        process_version_id=version.id,
        process_id=process_id,
        csi_id=csi_id,
        parent_instance_id=parent_instance_id,
        work_order_id=work_order_id,
        state_json=snapshot.state_json,
        serializer_version=SERIALIZER_VERSION,
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    log_event(
        session,
        "instance.started",
        actor=actor,
        csi_id=csi_id,
        instance_id=instance.id,
        message=f"{process_id} v{version.version}",
    )
    apply_snapshot(session, instance, snapshot, csi=csi, actor=actor)
    return instance


def apply_snapshot(
    session: Session,
    instance: ProcessInstance,
    snapshot: Snapshot,
    *,
    csi: CSI | None,
    actor: str,
    done: tuple[str, ...] = (),
) -> None:
    """Write one step's projections: state, timer due time, status, inbox delta and timeline entries."""
    now = utcnow()
    instance.state_json = snapshot.state_json
    instance.serializer_version = SERIALIZER_VERSION
    instance.next_timer_due = snapshot.next_timer_due
    instance.active_elements = snapshot.active_elements
    instance.updated_at = now
    if snapshot.completed:
        instance.status = InstanceStatus.COMPLETED.value
        instance.completed_at = now
        log_event(session, "instance.completed", actor=actor, csi_id=instance.csi_id, instance_id=instance.id)
    previous = set(instance.open_task_ids or [])
    current = {ready.id for ready in snapshot.ready}
    closed = sorted(previous - current - set(done))
    instance.open_task_ids = sorted(current)
    if closed:  # cancelled by a boundary event, a reset or an ended branch: the inbox row closes with the step
        session.execute(
            sa.update(HumanTask)
            .where(HumanTask.id.in_(closed), HumanTask.status == TaskStatus.OPEN.value)
            .values(status=TaskStatus.CANCELLED.value, completed_at=now, lock_version=HumanTask.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
    for ready in snapshot.ready:
        if ready.id in previous:
            continue
        session.add(
            HumanTask(
                id=ready.id,
                instance_id=instance.id,
                csi_id=instance.csi_id,
                process_id=ready.process_id,
                bpmn_id=ready.bpmn_id,
                name=ready.name,
                lane=ready.lane,
                form_file=ready.form_file,
                ui_file=ready.ui_file,
                documentation=ready.documentation,
                created_at=now,
                due_at=ready.due_at,
            )
        )
        log_event(
            session,
            "task.created",
            actor="system",
            csi_id=instance.csi_id,
            instance_id=instance.id,
            bpmn_id=ready.bpmn_id,
            message=ready.name,
            data={"task_id": ready.id, "lane": ready.lane},
        )
    if csi is not None and instance.parent_instance_id is None:  # only the case's own process moves its status
        csi.status = _csi_status(snapshot, csi.status)


def _csi_status(snapshot: Snapshot, current: str) -> str:
    if snapshot.completed:
        return CSIStatus.CLOSED.value
    for bpmn_id, status in STATUS_BY_TASK:
        if bpmn_id in snapshot.active_elements:
            return status.value
    return current
