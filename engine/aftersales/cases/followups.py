"""Open follow-ups that are overdue (issue 10 item 1): a QAHRC0722C still under investigation after
QF_WORKING_DAYS working days (§5.6) tells Engineering/QC and the service managers; a supplier claim still open (not
settled or rejected) after CLAIM_WORKING_DAYS working days (§5.5) tells Sales and the service managers — once each,
never on a rest day. The regulation sets no period for either; these are the defaults a service desk would start
from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.records.csi import CSI
from engine.records.quality import QualityFeedback
from engine.records.supplier_claim import SupplierClaim
from engine.records.user import Role
from engine.records.user import User

QF_WORKING_DAYS = 10
CLAIM_WORKING_DAYS = 20


def remind_overdue_followups(session: Session, now: datetime) -> int:
    """Tell the owners of every newly overdue QF and claim; returns how many records were told about."""
    calendar = load_calendar(session)
    today = calendar.local_date(now)
    if not calendar.is_workday(today):
        return 0
    feedback = session.execute(
        sa.select(QualityFeedback.id, QualityFeedback.qf_no, QualityFeedback.filed_at, CSI.csi_no, CSI.id)
        .join(CSI, CSI.id == QualityFeedback.csi_id)
        .where(QualityFeedback.closed_at.is_(None), QualityFeedback.filed_at <= now - timedelta(days=QF_WORKING_DAYS))
    ).all()
    claims = session.execute(
        sa.select(SupplierClaim.id, SupplierClaim.sc_no, SupplierClaim.created_at, CSI.csi_no, CSI.id)
        .join(CSI, CSI.id == SupplierClaim.csi_id)
        .where(SupplierClaim.closed_at.is_(None), SupplierClaim.created_at <= now - timedelta(days=CLAIM_WORKING_DAYS))
    ).all()
    told = _tell(session, calendar, today, feedback, Role.ENGINEERING_QC, "qf.overdue", QF_WORKING_DAYS)
    return told + _tell(session, calendar, today, claims, Role.SALES, "claim.overdue", CLAIM_WORKING_DAYS)


def _tell(
    session: Session,
    calendar: BusinessCalendar,
    today: date,
    rows: Sequence[Any],
    owner: Role,
    kind: str,
    working_days: int,
) -> int:
    """Tell the owner role and the service managers of each row (id, number, since, CSI no., CSI id) now overdue."""
    people = _unique(users_with_role(session, owner.value) + users_with_role(session, Role.SERVICE_MANAGER.value))
    told = 0
    for record_id, number, since, csi_no, csi_id in rows:
        if _overdue(calendar, since, today, working_days):
            params = {"key": csi_no, "record": number, "days": working_days}
            dedupe = f"{kind}:{record_id}"
            told += bool(notify(session, people, kind, params, link=f"/cases/{csi_id}", dedupe=dedupe))
    return told


def _overdue(calendar: BusinessCalendar, since: datetime, today: date, working_days: int) -> bool:
    """Whether `working_days` working days have passed since `since` (its own day not counted)."""
    return calendar.workdays_between(calendar.local_date(since), today) >= working_days


def _unique(users: list[User]) -> list[User]:
    by_name = {user.username: user for user in users}
    return [by_name[name] for name in sorted(by_name)]
