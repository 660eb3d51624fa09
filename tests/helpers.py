"""Test helpers that drive the real services the way a user or the worker would."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.intake.service import parse_register_request
from engine.aftersales.intake.service import register_request
from engine.bpmn.runtime import WorkflowRuntime
from engine.bpmn.serializer import is_compacted
from engine.bpmn.serializer import load_compact
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.platform import tasks
from engine.platform.definitions import parsed_bundle
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.user import User

ANSWERS: dict[str, dict[str, Any]] = {
    "analyse_root_cause": {"root_cause": "主轴轴承供应商批次缺陷", "responsibility": "supplier"},
    "review_csi": {
        "review_form": "meeting",
        "opinion": "同意更换主轴轴承并现场服务",
        "service_plan": ["field_service"],
        "signed_original_location": "服务部档案柜A-03",
        "billing": "free",
    },
    "answer_customer": {
        "answer_channel": "phone",
        "answered_at": "2026-11-27T10:00:00+08:00",
        "plan_summary": "三日内派工程师现场更换轴承",
    },
    "handle_overdue_plan": {"exception_reason": "等待供应商检测报告"},
    "issue_parts_so": {"lines": [{"part_no": "BRG-6205", "description": "主轴轴承", "qty": 2, "unit_price": 380.0}]},
    "issue_work_order": {
        "engineers": ["engineer"],
        "planned_date": "2026-12-01",
        "planned_date_reason": "补录：已按电话约定安排",  # the date may be past when the suite runs (issue 9)
        "site": "上海市闵行区 华东精密 2号车间",
        "overseas_site": False,
        "labour_rate": 200.0,
    },
    "issue_training_work_order": {
        "engineers": ["engineer"],
        "planned_date": "2026-12-08",
        "planned_date_reason": "补录：已按电话约定安排",
        "site": "客户现场培训室",
        "overseas_site": False,
        "labour_rate": 150.0,
    },
    "arrange_overseas_formalities": {"visa_status": "granted", "invitation_letter": True, "travel_booked": True},
    "field_visit": {
        "visit_date": "2026-12-01",
        "labour_hours": 6.5,
        "work_performed": "更换主轴轴承并校准",
        "parts_used": [{"part_no": "BRG-6205", "qty": 2, "source": "stock"}],
        "outcome": "solved",
        "quality_problem_found": False,
        "old_parts": "none",
        "satisfaction": "satisfied",
        "customer_signed_by": "王工（设备科）",
    },
    "quality_feedback_review": {
        "investigation": "供应商批次热处理不良",
        "corrective_action": "更换供应商批次并加严来料检验",
        "disposition": "accepted",
    },
    "send_claim": {"supplier_code": "S-BRG", "claim_amount": 1200.0, "reference_sent": "SL-2026-031"},
    "claim_answer": {"supplier_answer": "accepted"},
    "claim_settlement": {
        "recovered_amount": 1200.0,
        "settled_on": "2026-11-30",
        "settlement_kind": "credit_note",
        "settlement_reference": "CN-LY-0917",
    },
    "technical_support": {
        "support_given": "远程分析振动数据",
        "support_outcome": "continue",
        "agreed_next_steps": "下周二再次上门更换主轴组件",
    },
    "decide_neutral_outcome": {"neutral_decision": "continue", "decision_note": "顾客认为噪音仍偏大，继续跟进"},
    "approve_end_of_service": {"director_decision": "approve", "director_note": "已尽合理努力，同意终止服务"},
    "training_visit": {
        "modules_delivered": ["操作与日常保养"],
        "delivered_date": "2026-11-30",
        "duration_hours": 6.0,
        "attendance": [
            {"name": "李明", "position": "操作工", "present": True},
            {"name": "张强", "position": "维修工", "present": False},
        ],
        "assessment_result": "到场学员实操考核合格",
        "customer_evaluation": "内容实用，讲解清楚",
        "comments": "张强需补训",
        "customer_signed_by": "王工（设备科）",
    },
    "plan_training": {
        "training_location": "company",
        "planned_date": "2026-12-10",
        "trainees": 4,
        "modules": ["操作与日常保养"],
    },
    "deliver_training": {"delivered_date": "2026-12-10", "attendance": 4, "evaluation": "学员考核全部合格"},
    "close_case": {
        "archive_location": "服务部档案柜A-03 / 设备档案 CNC500-0001",
        "open_items_reason": "索赔由销售部继续跟进",  # used only when items are still open (issue 9)
    },
}


# old BPMN id -> id in the deployed models, set while tests run on renamed models (tests/bpmn/conftest.py)
RENAMED: dict[str, str] = {}


def model_id(bpmn_id: str) -> str:
    """The id a shipped task has in the deployed models (itself, unless the models were renamed)."""
    return RENAMED.get(bpmn_id, bpmn_id)


def shipped_id(deployed_id: str) -> str:
    """The shipped name of a deployed id (inverse of model_id)."""
    return next((old for old, new in RENAMED.items() if new == deployed_id), deployed_id)


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
    return sorted(shipped_id(bpmn_id) for bpmn_id in session.scalars(query))


def open_task(session: Session, instance: ProcessInstance, bpmn_id: str) -> HumanTask:
    """The one open task with that BPMN id."""
    query = sa.select(HumanTask).where(
        HumanTask.instance_id == instance.id,
        HumanTask.bpmn_id == model_id(bpmn_id),
        HumanTask.status == TaskStatus.OPEN.value,
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
        session, runtime, user, task.id, data if data is not None else standard_answer(bpmn_id), calendar=calendar
    )
    session.commit()


def standard_answer(bpmn_id: str) -> dict[str, Any]:
    """ANSWERS[bpmn_id], its fixed answer time and visit date moved to now when a test travels to before them (a
    customer is not answered, a visit not made, in the future: §4.6, §5.3)."""
    answer = dict(ANSWERS[bpmn_id])
    now = utcnow()
    answered = answer.get("answered_at")
    if isinstance(answered, str) and datetime.fromisoformat(answered) > now:
        answer["answered_at"] = (now - timedelta(minutes=1)).isoformat()
    visited = answer.get("visit_date")
    if isinstance(visited, str) and date.fromisoformat(visited) > now.date():
        answer["visit_date"] = now.date().isoformat()
    return answer


def assert_round_trip(session: Session, runtime: WorkflowRuntime, instance: ProcessInstance) -> None:
    """The stored state reloads into a workflow that serializes back to the identical JSON (a completed instance is
    compacted instead: its final data and element marks decode)."""
    session.refresh(instance)
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None
    if is_compacted(instance.state_json):
        assert instance.status == "completed" and load_compact(instance.state_json)["elements"]
        return
    handle = runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)
    assert runtime.snapshot(handle).state_json == instance.state_json


def case_tasks(session: Session, csi_id: int) -> list[str]:
    """BPMN ids of every open human task of a case, across its case and round instances, sorted."""
    query = sa.select(HumanTask.bpmn_id).where(HumanTask.csi_id == csi_id, HumanTask.status == TaskStatus.OPEN.value)
    return sorted(shipped_id(bpmn_id) for bpmn_id in session.scalars(query))


def case_task(session: Session, csi_id: int, bpmn_id: str) -> HumanTask:
    """The one open task with that BPMN id in any instance of the case."""
    query = sa.select(HumanTask).where(
        HumanTask.csi_id == csi_id, HumanTask.bpmn_id == model_id(bpmn_id), HumanTask.status == TaskStatus.OPEN.value
    )
    return session.scalars(query).one()


def do(
    session: Session,
    runtime: WorkflowRuntime,
    csi_id: int,
    bpmn_id: str,
    user: User,
    calendar: Callable[[], BusinessCalendar],
    **changes: Any,
) -> None:
    """Complete the case's open task `bpmn_id` with the standard answer changed by `changes`, and commit."""
    task = case_task(session, csi_id, bpmn_id)
    tasks.complete_task(session, runtime, user, task.id, {**standard_answer(bpmn_id), **changes}, calendar=calendar)
    session.commit()


def drive_to_dispatch(
    session: Session,
    runtime: WorkflowRuntime,
    calendar: Callable[[], BusinessCalendar],
    people: Callable[[str], User],
    *,
    review: dict[str, Any] | None = None,
    **register_changes: Any,
) -> tuple[CSI, ProcessInstance]:
    """Register, analyse (quality complaints), review and answer: the case then waits at dispatch."""
    csi, instance = register(session, runtime, people("manager"), calendar, **register_changes)
    if csi.kind == "quality_complaint":
        do(session, runtime, csi.id, "analyse_root_cause", people("manager"), calendar)
    do(session, runtime, csi.id, "review_csi", people("supervisor"), calendar, **(review or {}))
    do(session, runtime, csi.id, "answer_customer", people("manager"), calendar)
    return csi, instance


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends inside the block: an app's reads run on a pool (an
    engine) of their own on SQLite, so counting one engine would miss them."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
