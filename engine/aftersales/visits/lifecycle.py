"""WO lifecycle outside the visit form (issue 9, §5.3, §2.6): cancel a WO, reschedule it, and the checks a WO's
issue must pass (its engineers are active service engineers; a planned date in the past needs a reason; rate > 0).

Cancelling a WO whose visit round runs terminates that round: the WO is cancelled with the reason and, when no WO
of the case is left open, the case is woken (`work_orders_done`) and moves on to closing. A WO whose round has not
started yet (e.g. waiting on overseas formalities) is cancelled with its case (withdraw) or terminated from
monitoring, not here.
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
from engine.platform.timeline import log_event
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import ENDED_WO_STATUSES
from engine.records.work_order import WorkOrder

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
    """Cancel a WO whose visit round runs: the round ends, the WO is cancelled, the case moves on when no WO is open.

    :raises PermissionDeniedError: not a service manager or supervisor. :raises InvalidInputError: no reason.
    :raises ConflictError: the WO is completed or cancelled, or no round of it runs.
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
        raise ConflictError(f"no visit round of {wo_no} runs; withdraw the case or terminate it from monitoring")
    for instance in rounds:
        terminate_for(session, runtime, user, instance, text, calendar=calendar)  # the hook cancels and wakes
    return work_order


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
