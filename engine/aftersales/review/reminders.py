"""§4.6 reminders: the manager and the supervisor of a case whose plan is still undecided are told once a share of
its 3 working days has passed (default two thirds: at the close of business of the 2nd working day), on the business
calendar (make-up working days count; nobody is reminded on a rest day). Breaches are told by the BPMN's own
boundary timer (`record_sla_breach`, supervisors and the director: the second level)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.intake.service import PLAN_WORKING_DAYS
from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.clock import as_utc
from engine.config import load_settings
from engine.platform.notices import notify
from engine.platform.notices import users_named
from engine.platform.notices import users_with_role
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import FINAL_STATUSES
from engine.records.csi import CaseKind
from engine.records.process import HumanTask
from engine.records.process import TaskStatus
from engine.records.user import Role
from engine.records.user import User
from engine.records.user import UserRole

LOOKAHEAD = timedelta(days=16)  # no reminder falls further before its deadline than the longest holiday run allows


def working_days_left(share: float) -> int:
    """Whole working days still left when the reminder goes: 3 × (1 − share), at least 1 and at most 2 (§4.6)."""
    left = int(PLAN_WORKING_DAYS * (1 - share) + 0.5)
    return max(1, min(PLAN_WORKING_DAYS - 1, left))


def plan_reminder_at(calendar: BusinessCalendar, plan_due_at: datetime, share: float) -> datetime:
    """When the §4.6 reminder of a deadline is due: the same local time, `working_days_left` working days earlier.

    Counted back from the deadline (not forward from receipt) so a deadline moved by a pause or a correction moves
    its reminder with it.
    """
    local_due = as_utc(plan_due_at).astimezone(calendar.zone)
    day = calendar.nth_workday_before(local_due.date(), working_days_left(share))
    return datetime.combine(day, local_due.timetz())


def remind_undecided_plans(session: Session, now: datetime, *, share: float | None = None) -> int:
    """Tell the manager and the supervisor of every case whose §4.6 reminder time has come; returns cases reminded.

    Runs at every worker poll; a dedupe key per case and deadline makes a repeated run tell nobody twice.
    """
    calendar = load_calendar(session)
    if not calendar.is_workday(calendar.local_date(now)):
        return 0
    share = load_settings().reminder_share if share is None else share
    query = sa.select(CSI).where(
        CSI.plan_decided_at.is_(None),
        CSI.sla_breached_at.is_(None),
        CSI.kind != CaseKind.TRAINING_REQUEST.value,  # §6 training requests have no §4.6 review clock
        CSI.status.not_in(FINAL_STATUSES),  # a closed or withdrawn case has no clock to remind of
        CSI.sla_paused_at.is_(None),  # a paused clock (waiting on the customer) is not running out
        CSI.plan_due_at > now,
        CSI.plan_due_at <= now + LOOKAHEAD,
    )
    reminded = 0
    for csi in session.scalars(query):
        if now < plan_reminder_at(calendar, csi.plan_due_at, share):
            continue
        due = as_utc(csi.plan_due_at).astimezone(calendar.zone).strftime("%Y-%m-%d %H:%M")
        dedupe = f"remind:{csi.id}:{as_utc(csi.plan_due_at).isoformat()}"
        people = case_people(session, csi)
        told = notify(
            session, people, "sla.reminder", {"key": csi.csi_no, "due": due}, link=f"/cases/{csi.id}", dedupe=dedupe
        )
        if told:
            reminded += 1
            log_event(
                session,
                "sla.reminded",
                actor="system",
                csi_id=csi.id,
                message=f"§4.6 reminder: plan due {due}",
                data={"plan_due_at": as_utc(csi.plan_due_at).isoformat(), "told": sorted(u.username for u in people)},
            )
    return reminded


def case_people(session: Session, csi: CSI) -> list[User]:
    """The case's managers (who registered or analysed it, else every service manager) and its supervisors (who holds
    its review, else every service supervisor)."""
    managers = _holding(session, [csi.registered_by, csi.analysed_by or ""], Role.SERVICE_MANAGER)
    managers = managers or users_with_role(session, Role.SERVICE_MANAGER.value)
    assignees = session.scalars(
        sa.select(HumanTask.assignee).where(
            HumanTask.csi_id == csi.id, HumanTask.status == TaskStatus.OPEN.value, HumanTask.assignee.is_not(None)
        )
    )
    supervisors = _holding(session, [name for name in assignees if name], Role.SERVICE_SUPERVISOR)
    supervisors = supervisors or users_with_role(session, Role.SERVICE_SUPERVISOR.value)
    by_name = {user.username: user for user in managers + supervisors}
    return [by_name[name] for name in sorted(by_name)]


def _holding(session: Session, names: list[str], role: Role) -> list[User]:
    """Those of `names` who are active and hold `role`."""
    people = users_named(session, [name for name in names if name])
    if not people:
        return []
    holders = set(
        session.scalars(
            sa.select(UserRole.user_id).where(UserRole.role == role.value, UserRole.user_id.in_([u.id for u in people]))
        )
    )
    return [user for user in people if user.id in holders]
