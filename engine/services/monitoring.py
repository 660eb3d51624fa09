"""Instance monitoring read models: filtered instance lists and one instance with element states and timeline."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import WorkflowRuntime
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.records.csi import CSI
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.timeline import TimelineEvent
from engine.services.definitions import parsed_bundle

MONITOR_ROLES = ("service_director", "service_manager", "service_supervisor", "process_designer", "admin")


def list_instances(
    session: Session,
    *,
    status: str | None = None,
    process_id: str | None = None,
    overdue: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Instances newest first with their case number and §4.6 due time; `overdue` keeps undecided late cases."""
    query = (
        sa.select(ProcessInstance, CSI)
        .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
        .order_by(ProcessInstance.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(ProcessInstance.status == status)
    if process_id:
        query = query.where(ProcessInstance.process_id == process_id)
    if overdue:
        query = query.where(CSI.plan_decided_at.is_(None), CSI.plan_due_at < utcnow())
    return [_summary(instance, csi) for instance, csi in session.execute(query)]


def _summary(instance: ProcessInstance, csi: CSI | None) -> dict[str, Any]:
    return {
        "id": instance.id,
        "process_id": instance.process_id,
        "process_version_id": instance.process_version_id,
        "status": instance.status,
        "case_id": instance.csi_id,
        "csi_no": csi.csi_no if csi else None,
        "active_elements": instance.active_elements,
        "next_timer_due": instance.next_timer_due.isoformat() if instance.next_timer_due else None,
        "sla_due_at": csi.plan_due_at.isoformat() if csi else None,
        "created_at": instance.created_at.isoformat(),
        "updated_at": instance.updated_at.isoformat(),
        "error": {"message": instance.error_message, "bpmn_id": instance.error_bpmn_id, "line": instance.error_line}
        if instance.error_message
        else None,
    }


def instance_detail(session: Session, runtime: WorkflowRuntime, instance_id: int) -> dict[str, Any]:
    """One instance: summary, completed/active/error element ids for highlighting, and its timeline.

    :raises NotFoundError: unknown instance.
    """
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"instance {instance_id} does not exist")
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK
    handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
    csi = session.get(CSI, instance.csi_id) if instance.csi_id else None
    events = session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.instance_id == instance.id).order_by(TimelineEvent.id)
    )
    return {
        **_summary(instance, csi),
        "version": version.as_dict(),
        "elements": runtime.element_states(handle),
        "timeline": [e.as_dict() for e in events],
    }
