"""Read models of a case: the CSI with its SLA clock, document chain, open tasks, attachments and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.cases.attachments import list_attachments
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.records.attachment import Attachment
from engine.records.csi import CSI
from engine.records.csi import FINAL_STATUSES
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.master import Customer
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import TaskStatus
from engine.records.timeline import TimelineEvent
from engine.reports.chain import document_chain

TIMELINE_PER_PAGE = 200  # timeline entries in a case view unless asked otherwise


def get_csi(session: Session, csi_id: int) -> CSI:
    """One CSI by id.

    :raises NotFoundError: unknown id.
    """
    csi = session.get(CSI, csi_id)
    if csi is None:
        raise NotFoundError(Problem("case_missing", f"case {csi_id} does not exist", case=csi_id))
    return csi


def find_csi_by_number(session: Session, csi_no: str) -> CSI:
    """One CSI by its number (CSI-2026-000123).

    :raises NotFoundError: unknown number.
    """
    csi = session.scalars(sa.select(CSI).where(CSI.csi_no == csi_no)).first()
    if csi is None:
        raise NotFoundError(Problem("case_missing", f"CSI {csi_no} does not exist", case=csi_no))
    return csi


def case_instance(session: Session, csi_id: int) -> ProcessInstance | None:
    """The case's process instance (its newest own instance: a corrected kind restarts it; rounds are not it)."""
    query = (
        sa.select(ProcessInstance)
        .where(ProcessInstance.csi_id == csi_id, ProcessInstance.parent_instance_id.is_(None))
        .order_by(ProcessInstance.id.desc())
    )
    return session.scalars(query).first()


def sla_view(csi: CSI, now: datetime | None = None, timezone: str = BUSINESS_TIMEZONE) -> dict[str, Any]:
    """§4.6 clock in business time: due, provisional (calendar not yet published), breached, decided."""
    now = now or utcnow()
    return {
        "applies": csi.sla_applies,
        "running": csi.sla_running,
        "paused": csi.sla_paused_at is not None,
        "paused_at": csi.sla_paused_at.isoformat() if csi.sla_paused_at else None,
        "pause_reason": csi.sla_pause_reason if csi.sla_paused_at else None,
        "paused_working_days": csi.sla_paused_days or 0,
        "plan_due_at": csi.plan_due_at.astimezone(ZoneInfo(timezone)).isoformat(),
        "provisional": csi.plan_due_provisional,
        "breached": csi.sla_breached(now),
        "breached_at": csi.sla_breached_at.isoformat() if csi.sla_breached_at else None,
        "decided_at": csi.plan_decided_at.isoformat() if csi.plan_decided_at else None,
        "exception_reason": csi.sla_exception_reason,
    }


def possible_duplicates(
    session: Session,
    *,
    customer_code: str,
    serial_no: str | None,
    origin_so_no: str | None,
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[CSI]:
    """Open cases (not closed or cancelled) of the same customer for the same serial number or SO#: a request that
    may have been registered already (issue 9)."""
    same = [CSI.serial_no == serial_no] if serial_no else []
    same += [CSI.origin_so_no == origin_so_no] if origin_so_no else []
    if not customer_code or not same:
        return []
    query = (
        sa.select(CSI)
        .join(Customer, Customer.id == CSI.customer_id)
        .where(Customer.code == customer_code, sa.or_(*same), CSI.status.not_in(FINAL_STATUSES))
        .order_by(CSI.id)
        .limit(limit)
    )
    if exclude_id is not None:
        query = query.where(CSI.id != exclude_id)
    return list(session.scalars(query))


def duplicate_view(csi: CSI) -> dict[str, Any]:
    """The short JSON shape of a possible duplicate."""
    return {"id": csi.id, "csi_no": csi.csi_no, "status": csi.status}


def sla_scope() -> Any:
    """§4.6 counts cases whose plan is decided by review: not training requests (§6), not cancelled ones."""
    return sa.and_(CSI.status != CSIStatus.CANCELLED.value, CSI.kind != CaseKind.TRAINING_REQUEST.value)


_OPEN_TASKS = (  # built once (every completion answers with it)
    sa.select(HumanTask)
    .where(HumanTask.csi_id == sa.bindparam("csi_id"), HumanTask.status == TaskStatus.OPEN.value)
    .order_by(HumanTask.created_at)
)


def open_tasks(session: Session, csi_id: int) -> list[HumanTask]:
    """The case's open human tasks, oldest first."""
    return list(session.scalars(_OPEN_TASKS, {"csi_id": csi_id}))


def case_summary(csi: CSI, instance_id: int | None, timezone: str = BUSINESS_TIMEZONE) -> dict[str, Any]:
    """The short shape of a case a task completion answers with: what the case is and where it stands, from the CSI
    row alone (its size and cost do not grow with the case's age)."""
    return {
        "id": csi.id,
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "status": csi.status,
        "process_instance_id": instance_id,
        "csi": csi.facts(),
        "sla": sla_view(csi, timezone=timezone),
    }


def case_view(
    session: Session,
    csi: CSI,
    timezone: str = BUSINESS_TIMEZONE,
    *,
    timeline_page: int = 1,
    timeline_per_page: int = TIMELINE_PER_PAGE,
) -> dict[str, Any]:
    """The API shape of a case (DESIGN.md GET /cases/{id}), with one page of its timeline (page 1: the newest
    entries, oldest first within the page) so its cost does not grow with the case's age."""
    instance = case_instance(session, csi.id)
    events, total = timeline_page_of(session, csi.id, timeline_page, timeline_per_page)
    return {
        "id": csi.id,
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "status": csi.status,
        "process_instance_id": instance.id if instance else None,
        "instance_status": instance.status if instance else None,
        "cancelled": _cancellation(session, csi),
        "duplicates": [{"id": d.id, "csi_no": d.csi_no} for d in duplicates_of(session, csi.id)],
        "customer": {"code": csi.customer.code, "name": csi.customer.name, "country": csi.customer.country},
        "csi": csi.facts(),
        "sla": sla_view(csi, timezone=timezone),
        "records": document_chain(session, csi),
        "open_tasks": [task_summary(t) for t in open_tasks(session, csi.id)],
        "attachments": [attachment_view(a) for a in list_attachments(session, csi.id)],
        "timeline": [e.as_dict() for e in events],
        "timeline_total": total,
        "timeline_page": timeline_page,
        "timeline_per_page": timeline_per_page,
    }


def _cancellation(session: Session, csi: CSI) -> dict[str, Any] | None:
    """Who cancelled the case, when, why, and the case it duplicates (None while it is not cancelled)."""
    if csi.cancelled_at is None:
        return None
    duplicate = session.get(CSI, csi.duplicate_of_id) if csi.duplicate_of_id else None
    return {
        "at": csi.cancelled_at.isoformat(),
        "by": csi.cancelled_by,
        "reason": csi.cancel_reason,
        "duplicate_of": {"id": duplicate.id, "csi_no": duplicate.csi_no} if duplicate else None,
    }


def duplicates_of(session: Session, csi_id: int) -> list[CSI]:
    """The cases withdrawn as duplicates of this one."""
    return list(session.scalars(sa.select(CSI).where(CSI.duplicate_of_id == csi_id).order_by(CSI.id)))


def timeline_page_of(
    session: Session, csi_id: int, page: int, per_page: int, *, leave_out: frozenset[str] = frozenset()
) -> tuple[list[TimelineEvent], int]:
    """Page `page` of a case's timeline counted from the newest entry, oldest first, and the number of entries
    (entries of the kinds in `leave_out` are neither shown nor counted)."""
    where = [TimelineEvent.csi_id == csi_id]
    if leave_out:
        where.append(TimelineEvent.kind.not_in(sorted(leave_out)))
    total = int(session.scalar(sa.select(sa.func.count()).select_from(TimelineEvent).where(*where)) or 0)
    query = sa.select(TimelineEvent).where(*where).order_by(TimelineEvent.id.desc())
    newest_first = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return newest_first[::-1], total


def timeline_entries(session: Session, csi_id: int) -> int:
    """How many entries a case's timeline holds."""
    query = sa.select(sa.func.count()).select_from(TimelineEvent).where(TimelineEvent.csi_id == csi_id)
    return int(session.scalar(query) or 0)


def created_task_names(session: Session, csi_id: int, bpmn_ids: set[str]) -> dict[str, str]:
    """bpmn id → the task name logged when a task of that id was created on this case (its latest)."""
    if not bpmn_ids:
        return {}
    query = (
        sa.select(TimelineEvent.bpmn_id, TimelineEvent.message)
        .where(
            TimelineEvent.csi_id == csi_id,
            TimelineEvent.kind == "task.created",
            TimelineEvent.bpmn_id.in_(sorted(bpmn_ids)),
        )
        .order_by(TimelineEvent.id)
    )
    return {str(bpmn_id): str(message) for bpmn_id, message in session.execute(query) if bpmn_id and message}


def task_summary(task: HumanTask) -> dict[str, Any]:
    """The short JSON shape of an open task (case and instance views)."""
    return {
        "id": task.id,
        "bpmn_id": task.bpmn_id,
        "process_id": task.process_id,
        "name": task.name,
        "lane": task.lane,
        "assignee": task.assignee,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
    }


def attachment_view(attachment: Attachment) -> dict[str, Any]:
    """The API shape of an attachment (metadata only; the bytes are downloaded separately)."""
    return {
        "id": attachment.id,
        "csi_id": attachment.csi_id,
        "kind": attachment.kind,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": attachment.uploaded_by,
        "uploaded_at": attachment.uploaded_at.isoformat(),
        "note": attachment.note,
    }


def list_cases(
    session: Session,
    *,
    status: str = "",
    text: str = "",
    overdue: bool = False,
    limit: int = 200,
    registered_by: str | None = None,
) -> list[CSI]:
    """Recent cases, newest first, filtered by status, free text (CSI no., SO#, serial, customer), §4.6 lateness and
    (for users who may read only their own registrations) who registered them."""
    query = sa.select(CSI).order_by(CSI.id.desc()).limit(limit)
    if registered_by is not None:
        query = query.where(CSI.registered_by == registered_by)
    if status:
        query = query.where(CSI.status == status)
    if overdue:
        late = sa.and_(CSI.plan_decided_at.is_(None), CSI.sla_paused_at.is_(None), CSI.plan_due_at < utcnow())
        query = query.where(sla_scope(), sa.or_(CSI.sla_breached_at.is_not(None), late))
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.join(Customer, Customer.id == CSI.customer_id).where(
            sa.or_(
                CSI.csi_no.ilike(like),
                CSI.origin_so_no.ilike(like),
                CSI.serial_no.ilike(like),
                Customer.code.ilike(like),
                Customer.name.ilike(like),
            )
        )
    return list(session.scalars(query))


def list_customers(session: Session, limit: int = 500) -> list[Customer]:
    """Customers by code (the registration form suggests them)."""
    return list(session.scalars(sa.select(Customer).order_by(Customer.code).limit(limit)))
