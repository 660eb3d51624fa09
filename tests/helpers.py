"""Test helpers that drive the real services the way a user or the worker would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.user import User
from engine.services import tasks
from engine.services.definitions import parsed_bundle
from engine.services.intake import parse_register_request
from engine.services.intake import register_request

ANSWERS: dict[str, dict[str, Any]] = {
    "analyse_root_cause": {"root_cause": "主轴轴承供应商批次缺陷", "responsibility": "supplier"},
    "review_csi": {
        "review_form": "meeting",
        "opinion": "同意更换主轴轴承并现场服务",
        "service_plan": ["field_service"],
        "signed_original_location": "服务部档案柜A-03",
    },
    "answer_customer": {
        "answer_channel": "phone",
        "answered_at": "2026-11-27T10:00:00+08:00",
        "plan_summary": "三日内派工程师现场更换轴承",
    },
    "dispatch_service": {"dispatch_notes": "派工单待开具"},
    "handle_overdue_plan": {"exception_reason": "等待供应商检测报告"},
}

QUALITY_COMPLAINT = {
    "kind": "quality_complaint",
    "customer_code": "C001",
    "origin_so_no": "SO-2025-0001",
    "serial_no": "CNC500-0001",
    "description": "主轴异响",
    "channel": "phone",
}


def register(
    session: Session,
    runtime: WorkflowRuntime,
    actor: User,
    calendar: Callable[[], BusinessCalendar],
    received_at: datetime | None = None,
    **overrides: Any,
) -> tuple[CSI, ProcessInstance]:
    """Register a request through the real intake service and commit."""
    body = {**QUALITY_COMPLAINT, **overrides}
    if received_at is not None:
        body["received_at"] = received_at.isoformat()
    csi, instance = register_request(session, runtime, parse_register_request(body), actor=actor, calendar=calendar)
    session.commit()
    return csi, instance


def open_task_ids(session: Session, instance: ProcessInstance) -> list[str]:
    """BPMN ids of the instance's open human tasks, sorted."""
    query = sa.select(HumanTask.bpmn_id).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN.value
    )
    return sorted(session.scalars(query))


def open_task(session: Session, instance: ProcessInstance, bpmn_id: str) -> HumanTask:
    """The one open task with that BPMN id."""
    query = sa.select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == TaskStatus.OPEN.value
    )
    return session.scalars(query).one()


def complete(
    session: Session,
    runtime: WorkflowRuntime,
    instance: ProcessInstance,
    bpmn_id: str,
    user: User,
    calendar: Callable[[], BusinessCalendar],
    data: dict[str, Any] | None = None,
) -> None:
    """Complete the open task `bpmn_id` as `user` with the standard answer (or `data`) and commit."""
    task = open_task(session, instance, bpmn_id)
    tasks.complete_task(
        session, runtime, user, task.id, data if data is not None else ANSWERS[bpmn_id], calendar=calendar
    )
    session.commit()


def assert_round_trip(session: Session, runtime: WorkflowRuntime, instance: ProcessInstance) -> None:
    """The stored state reloads into a workflow that serializes back to the identical JSON."""
    session.refresh(instance)
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None
    handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
    assert runtime.snapshot(handle).state_json == instance.state_json
