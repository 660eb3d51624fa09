"""Pause and resume the §4.6 clock while the case waits on the customer (issue 9; §4.6 "normally" 3 working days).

A service supervisor pauses with a reason; while paused the case is neither counting down nor breaching, and its
BPMN timer is parked far ahead. On resume the working days paused (counted like §4.6 itself: the pause day excluded,
the resume day included, on the business calendar) are added to the case's total, and the deadline becomes the end
of the (3 + paused days)-th working day after receipt; its timer is re-armed. A recorded breach is never paused away.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine.aftersales.cases.lifecycle import lock_case
from engine.aftersales.intake.service import PLAN_WORKING_DAYS
from engine.aftersales.review.sla import rearm_plan_timer
from engine.aftersales.review.sla import running_case_instance
from engine.calendar import BusinessCalendar
from engine.calendar import Deadline
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.platform.access import check_role
from engine.platform.admin_actions import check_reason
from engine.platform.runtime import Runtime
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.user import Role
from engine.records.user import User

PAUSE_ROLES = (Role.SERVICE_SUPERVISOR.value,)
PARKED = timedelta(days=3650)  # a paused clock's timer waits here until the clock resumes


def plan_deadline(calendar: BusinessCalendar, csi: CSI) -> Deadline:
    """§4.6: the end of the 3rd working day after receipt, moved by the working days the clock was paused."""
    return calendar.deadline(csi.received_at, PLAN_WORKING_DAYS + (csi.sla_paused_days or 0))


def pause_clock(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    reason: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> CSI:
    """Pause the §4.6 clock of an undecided case while it waits on the customer.

    :raises PermissionDeniedError: not a service supervisor. :raises InvalidInputError: no reason.
    :raises ConflictError: no clock (training request, decided, ended), already paused or already breached.
    """
    check_role(user, *PAUSE_ROLES)
    text = check_reason(reason)
    csi = lock_case(session, csi_id)
    if not csi.sla_running:
        raise ConflictError(f"the §4.6 clock of {csi.csi_no} is not running; nothing to pause")
    if csi.sla_breached(utcnow()):
        raise ConflictError(f"the §4.6 limit of {csi.csi_no} is already exceeded; record the reason instead")
    instance = running_case_instance(session, csi, "first")
    csi.sla_paused_at, csi.sla_pause_reason = utcnow(), text
    rearm_plan_timer(session, runtime, instance, (utcnow() + PARKED).isoformat(), user.username, calendar)
    log_event(
        session,
        "sla.paused",
        actor=user.username,
        csi_id=csi.id,
        instance_id=instance.id,
        message=text,
        data={"reason": text, "plan_due_at": csi.plan_due_at.isoformat()},
    )
    return csi


def resume_clock(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    reason: Any = None,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> CSI:
    """Resume a paused §4.6 clock: the working days paused move the deadline, and its timer is re-armed.

    :raises PermissionDeniedError: not a service supervisor. :raises ConflictError: the clock is not paused.
    """
    check_role(user, *PAUSE_ROLES)
    note = reason.strip()[:1000] if isinstance(reason, str) else ""
    csi = lock_case(session, csi_id)
    if csi.sla_paused_at is None or csi.is_final:
        raise ConflictError(f"the §4.6 clock of {csi.csi_no} is not paused")
    instance = running_case_instance(session, csi, "first")
    business = calendar()
    days = business.workdays_between(business.local_date(csi.sla_paused_at), business.local_date(utcnow()))
    old, paused_at = csi.plan_due_at, csi.sla_paused_at
    csi.sla_paused_days = (csi.sla_paused_days or 0) + days
    csi.sla_paused_at = None
    deadline = plan_deadline(business, csi)
    csi.plan_due_at, csi.plan_due_provisional = deadline.due_at, deadline.provisional
    rearm_plan_timer(session, runtime, instance, deadline.due_at.isoformat(), user.username, calendar)
    log_event(
        session,
        "sla.resumed",
        actor=user.username,
        csi_id=csi.id,
        instance_id=instance.id,
        message=note or f"§4.6 due {old.isoformat()} → {deadline.due_at.isoformat()}",
        data={
            "reason": note or None,
            "paused_at": paused_at.isoformat(),
            "paused_working_days": days,
            "total_paused_working_days": csi.sla_paused_days,
            "old": old.isoformat(),
            "new": deadline.due_at.isoformat(),
        },
    )
    return csi
