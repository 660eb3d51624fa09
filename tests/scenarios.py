"""Cases driven through §5 by the real services, shared by the chain, record, archive and page tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.records.csi import CSI
from engine.records.user import User
from tests.helpers import do
from tests.helpers import drive_to_dispatch

Calendar = Callable[[], BusinessCalendar]
People = Callable[[str], User]

PAID_CASE = {"customer_code": "C002", "origin_so_no": "SO-2022-0042", "serial_no": "CNC500-0042"}  # out of warranty
TWO_LINES = [
    {"part_no": "BRG-6205", "description": "主轴轴承", "qty": 2, "unit_price": 380.0},
    {"part_no": "SEAL-40", "description": "油封 40mm", "qty": 1, "unit_price": 25.5},
]


def field_service_case(session: Session, runtime: WorkflowRuntime, calendar: Calendar, people: People) -> CSI:
    """CNC500-0001 (in warranty, supplier's fault): a first visit recovers old parts and needs technical support;
    the second buys a part, finds a quality problem and leaves an unrecoverable supplier part (→ claim); QC and
    Sales finish their tasks and the case is closed with its archive location."""
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    do(session, runtime, csi.id, "issue_work_order", people("manager"), calendar)
    do(
        session,
        runtime,
        csi.id,
        "field_visit",
        people("engineer"),
        calendar,
        outcome="unsolved",
        satisfaction="neutral",
        old_parts="recovered",
        parts_used=[{"part_no": "BRG-6205", "qty": 2, "source": "stock"}],
    )
    do(session, runtime, csi.id, "technical_support", people("manager"), calendar)
    do(
        session,
        runtime,
        csi.id,
        "field_visit",
        people("engineer"),
        calendar,
        visit_date="2026-12-01",
        labour_hours=3.5,
        quality_problem_found=True,
        quality_problem_description="轴承滚道剥落",
        old_parts="unrecoverable",
        parts_used=[{"part_no": "SPN-500", "qty": 1, "source": "bought"}],
    )
    do(session, runtime, csi.id, "quality_feedback_review", people("qc"), calendar)
    do(session, runtime, csi.id, "send_claim", people("sales"), calendar)
    do(session, runtime, csi.id, "close_case", people("manager"), calendar, closing_notes="顾客满意，结案")
    session.refresh(csi)
    return csi


def paid_service_case(
    session: Session, runtime: WorkflowRuntime, calendar: Calendar, people: People, *, visit: bool = True
) -> CSI:
    """CNC500-0042 out of warranty, paid field service: the WO gets its fee SO (§5.4)."""
    review = {"billing": "paid"}
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review=review, **PAID_CASE)
    do(session, runtime, csi.id, "issue_work_order", people("manager"), calendar, fee_amount=2600.0)
    if visit:
        do(session, runtime, csi.id, "field_visit", people("engineer"), calendar)
    session.refresh(csi)
    return csi


def parts_only_case(
    session: Session, runtime: WorkflowRuntime, calendar: Calendar, people: People, **changes: Any
) -> CSI:
    """Parts only (§5.2): one SO with two lines, naming the CSI."""
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["parts_only"]})
    do(session, runtime, csi.id, "issue_parts_so", people("manager"), calendar, lines=TWO_LINES, **changes)
    session.refresh(csi)
    return csi
