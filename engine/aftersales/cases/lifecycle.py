"""The case lifecycle outside the happy path (issue 9): withdraw / cancel a CSI (§4.1–§4.2).

A withdrawn case becomes `cancelled`: its process instances end (their open tasks close, their visit rounds end and
their WOs are cancelled), and it leaves the backlog, the ageing and the §4.6 figures. Terminating a case instance
from monitoring cancels its CSI the same way; terminating a visit round cancels its WO and wakes the case when no WO
is left open (engine/aftersales/visits/service.py). A reason naming another CSI ("duplicate of CSI-2026-000012")
links both cases.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.admin_actions import check_reason
from engine.platform.admin_actions import terminate_for
from engine.platform.registry import Termination
from engine.platform.runtime import Runtime
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User

LIFECYCLE_ROLES = (Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value)
_CSI_NO = re.compile(r"\bCSI-\d{4}-\d{6}\b", re.IGNORECASE)
_OPEN = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)


def lock_case(session: Session, csi_id: int) -> CSI:
    """The CSI, locked for this transaction (one writer per case).

    :raises NotFoundError: no such CSI.
    """
    query = sa.select(CSI).where(CSI.id == csi_id).with_for_update().execution_options(populate_existing=True)
    csi = session.scalars(query).first()
    if csi is None:
        raise NotFoundError(f"case {csi_id} does not exist")
    return csi


def withdraw_case(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    reason: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> CSI:
    """Withdraw a case (the customer withdrew it, or it was registered twice): CSI cancelled, instances ended.

    :raises PermissionDeniedError: not a service manager or supervisor. :raises InvalidInputError: no reason, or it
        names an unknown CSI or this one. :raises ConflictError: the case is already closed or cancelled.
    """
    check_role(user, *LIFECYCLE_ROLES)
    text = check_reason(reason)
    csi = lock_case(session, csi_id)
    if csi.is_final:
        raise ConflictError(f"{csi.csi_no} is {csi.status}; only an open case can be withdrawn")
    duplicate = _duplicate_of(session, csi, text)
    cancel_case(session, csi, actor=user.username, reason=text, duplicate=duplicate)
    instances = sa.select(ProcessInstance).where(
        ProcessInstance.csi_id == csi.id,
        ProcessInstance.parent_instance_id.is_(None),
        ProcessInstance.status.in_(_OPEN),
    )
    for instance in session.scalars(instances.with_for_update()).all():
        terminate_for(session, runtime, user, instance, text, calendar=calendar)
    return csi


def cancel_case(
    session: Session, csi: CSI, *, actor: str, reason: str, duplicate: CSI | None = None, how: str = "withdrawn"
) -> None:
    """Mark the CSI cancelled with who, when and why (the timeline keeps the status it had)."""
    before = csi.status
    csi.status = CSIStatus.CANCELLED.value
    csi.cancelled_at = utcnow()
    csi.cancelled_by = actor
    csi.cancel_reason = reason
    data: dict[str, Any] = {"reason": reason, "status_before": before, "how": how}
    if duplicate is not None:
        csi.duplicate_of_id = duplicate.id
        data["duplicate_of"] = duplicate.csi_no
        log_event(
            session,
            "csi.duplicate_linked",
            actor=actor,
            csi_id=duplicate.id,
            message=csi.csi_no,
            data={"duplicate": csi.csi_no, "duplicate_id": csi.id},
        )
    log_event(session, "csi.cancelled", actor=actor, csi_id=csi.id, message=reason, data=data)


def _duplicate_of(session: Session, csi: CSI, reason: str) -> CSI | None:
    match = _CSI_NO.search(reason)
    if match is None:
        return None
    number = match.group(0).upper()
    other = session.scalars(sa.select(CSI).where(CSI.csi_no == number)).first()
    if other is None or other.id == csi.id:
        raise InvalidInputError(
            "the reason names no other case",
            {"reason": Problem("no_case", f"{number} is not another existing case", csi_no=number)},
        )
    return other


def cancel_terminated_case(termination: Termination) -> None:
    """Termination hook: a case instance terminated from monitoring cancels its CSI, unless it is already final or
    another of its case instances still runs."""
    instance, session = termination.instance, termination.session
    if instance.csi_id is None or instance.parent_instance_id is not None:
        return
    csi = session.get(CSI, instance.csi_id)
    if csi is None or csi.is_final:
        return
    others = sa.select(sa.func.count()).where(
        ProcessInstance.csi_id == csi.id,
        ProcessInstance.parent_instance_id.is_(None),
        ProcessInstance.status.in_(_OPEN),
        ProcessInstance.id != instance.id,
    )
    if session.scalar(others):
        return
    cancel_case(session, csi, actor=termination.actor, reason=termination.reason, how="instance_terminated")
