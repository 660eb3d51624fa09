"""WO lifecycle outside the visit form (issue 9, §5.3, §2.6): cancel a WO, reschedule it, and the checks a WO's
issue must pass (its engineers are active service engineers; a planned date in the past needs a reason; rate > 0).

Cancelling a WO whose visit round runs terminates that round: the WO is cancelled with the reason and, when no WO
of the case is left open, the case is woken (`work_orders_done`) and moves on to closing. A WO whose round has not
started yet (waiting on overseas formalities, §2.5) is cancelled and its case told with the message
`work_order_cancelled`; the model says what follows (the shipped one ends the field-service branch without a visit).
A model with no event waiting for that message answers 409 and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.review.sla import running_case_instance
from engine.aftersales.visits.service import cancel_work_order_record
from engine.bpmn.runtime import Workflow
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.admin_actions import check_reason
from engine.platform.admin_actions import terminate_for
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import ENDED_WO_STATUSES
from engine.records.work_order import WorkOrder

CANCELLED_MESSAGE = "work_order_cancelled"  # the case's model catches it while the WO waits for its first visit
WO_ROLES = (Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value)
_RUNNING = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)


def check_work_order_form(session: Session, form: Mapping[str, Any], timezone: str = BUSINESS_TIMEZONE) -> None:
    """The engineers are active users with the service engineer role (temporary staff are assigned afterwards by the
    supervisor, §2.6); a planned date in the past needs `planned_date_reason`; the labour rate is above 0.

    :raises InvalidInputError: naming `engineers`, `planned_date_reason` or `labour_rate`.
    """
    problems: dict[str, str] = {}
    unknown = _not_engineers(session, form.get("engineers") or [])
    if unknown:
        problems["engineers"] = Problem(
            "not_engineer", "not an active service engineer: " + ", ".join(unknown), names=", ".join(unknown)
        )
    planned = date.fromisoformat(str(form["planned_date"]))
    if planned < utcnow().astimezone(ZoneInfo(timezone)).date() and not str(form.get("planned_date_reason") or ""):
        problems["planned_date_reason"] = Problem("past_date", "a planned date in the past needs a reason")
    rate = form.get("labour_rate")
    if not isinstance(rate, int | float) or rate <= 0:
        problems["labour_rate"] = Problem("positive", "must be more than 0")
    if problems:
        raise InvalidInputError("the work order has errors", problems)


def _not_engineers(session: Session, names: Sequence[Any]) -> list[str]:
    wanted = [str(n) for n in names]
    found = session.scalars(sa.select(User).where(User.username.in_(wanted))).all()
    ok = {u.username for u in found if u.active and Role.SERVICE_ENGINEER.value in u.role_keys}
    return [n for n in wanted if n not in ok]


def lock_work_order(session: Session, wo_no: str) -> WorkOrder:
    """The WO with this number, locked.

    :raises NotFoundError: no such WO.
    """
    query = sa.select(WorkOrder).where(WorkOrder.wo_no == wo_no).with_for_update()
    work_order = session.scalars(query.execution_options(populate_existing=True)).first()
    if work_order is None:
        raise NotFoundError(f"WO {wo_no} does not exist")
    return work_order


def cancel_work_order(
    session: Session,
    runtime: Runtime,
    user: User,
    wo_no: str,
    reason: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> WorkOrder:
    """Cancel a WO: its running round ends (the case moves on when no WO is open), or, before its first round, the
    case is sent `work_order_cancelled`.

    :raises PermissionDeniedError: not a service manager or supervisor. :raises InvalidInputError: no reason.
    :raises ConflictError: the WO is completed or cancelled, or neither a round nor the case waits for it.
    """
    check_role(user, *WO_ROLES)
    text = check_reason(reason)
    work_order = lock_work_order(session, wo_no)
    if work_order.status in ENDED_WO_STATUSES:
        raise ConflictError(f"{wo_no} is {work_order.status}")
    query = sa.select(ProcessInstance).where(
        ProcessInstance.work_order_id == work_order.id, ProcessInstance.status.in_(_RUNNING)
    )
    rounds = session.scalars(query.with_for_update()).all()
    if not rounds:
        _cancel_before_visit(session, runtime, user, work_order, text, calendar=calendar)
    for instance in rounds:
        terminate_for(session, runtime, user, instance, text, calendar=calendar)  # the hook cancels and wakes
    return work_order


def _cancel_before_visit(
    session: Session,
    runtime: Runtime,
    user: User,
    work_order: WorkOrder,
    reason: str,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> None:
    """No round of the WO has started: cancel it and tell the case, which must be waiting for that message.

    :raises ConflictError: the case's process is not running or nothing in it waits for `work_order_cancelled`.
    """
    csi = session.get(CSI, work_order.csi_id)
    if csi is None:
        raise NotFoundError(f"the case of {work_order.wo_no} does not exist")
    instance = running_case_instance(session, csi, f"before cancelling {work_order.wo_no}")
    cancel_work_order_record(session, work_order, actor=user.username, reason=reason)
    payload = {"wo_no": work_order.wo_no, "reason": reason}

    def deliver(handle: Workflow) -> None:
        if not runtime.deliver_message(handle, CANCELLED_MESSAGE, payload):
            raise ConflictError(
                Problem(
                    "wo_not_cancellable",
                    f"{work_order.wo_no} has no running visit round and its case does not wait for the message "
                    f"{CANCELLED_MESSAGE}; withdraw the case or terminate it from monitoring",
                    wo=work_order.wo_no,
                    message=CANCELLED_MESSAGE,
                )
            )

    run_step(session, runtime, instance, deliver, actor=user.username, calendar=calendar)
    log_event(
        session,
        "message.delivered",
        actor=user.username,
        csi_id=csi.id,
        instance_id=instance.id,
        message=CANCELLED_MESSAGE,
    )


def reschedule_work_order(session: Session, user: User, wo_no: str, body: Any) -> WorkOrder:
    """Move an open WO to another planned date `{planned_date, reason}` (§5.3).

    :raises PermissionDeniedError: wrong role. :raises InvalidInputError: no reason, bad or past date.
    :raises ConflictError: the WO is completed or cancelled.
    """
    check_role(user, *WO_ROLES)
    fields = body if isinstance(body, Mapping) else {}
    text = check_reason(fields.get("reason"))
    try:
        planned = date.fromisoformat(str(fields.get("planned_date") or ""))
    except ValueError:
        raise InvalidInputError(
            "bad date", {"planned_date": Problem("date", "must be a date such as 2026-12-24")}
        ) from None
    if planned < utcnow().astimezone(ZoneInfo(BUSINESS_TIMEZONE)).date():
        past = Problem("past_date", "cannot be rescheduled to the past")
        raise InvalidInputError("past date", {"planned_date": past})
    work_order = lock_work_order(session, wo_no)
    if work_order.status in ENDED_WO_STATUSES:
        raise ConflictError(f"{wo_no} is {work_order.status}")
    before = work_order.planned_date
    work_order.planned_date = planned
    log_event(
        session,
        "wo.rescheduled",
        actor=user.username,
        csi_id=work_order.csi_id,
        message=text,
        data={"wo": wo_no, "before": before.isoformat(), "after": planned.isoformat(), "reason": text},
    )
    return work_order
