"""The daily digest for service managers and the director (§2.1, §2.2): open cases by step, §4.6 plans due today and
tomorrow, breaches, open quality feedback (§5.6) and supplier claims (§5.5) — once a working day at a configurable
local hour (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar import load_calendar
from engine.config import load_settings
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.records.csi import CSI
from engine.records.csi import FINAL_STATUSES
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.quality import QualityFeedback
from engine.records.supplier_claim import SupplierClaim
from engine.records.user import Role

ENDED = FINAL_STATUSES
STEPS = tuple(status.value for status in CSIStatus if status.value not in ENDED)


def send_daily_digest(session: Session, now: datetime, *, hour: int | None = None) -> int:
    """Send today's digest once the local hour has come on a working day; returns the people told (0 when not due or
    already sent: the dedupe key is the local date)."""
    hour = load_settings().digest_hour if hour is None else hour
    calendar = load_calendar(session)
    local = now.astimezone(calendar.zone)
    if hour < 0 or local.hour < hour or not calendar.is_workday(local.date()):
        return 0
    people = users_with_role(session, Role.SERVICE_MANAGER.value) + users_with_role(
        session, Role.SERVICE_DIRECTOR.value
    )
    unique = {user.username: user for user in people}
    figures = digest_figures(session, now, calendar.zone)
    return notify(
        session,
        [unique[name] for name in sorted(unique)],
        "digest.daily",
        {"date": local.date().isoformat(), **figures},
        link="/dashboard",
        dedupe=f"digest:{local.date().isoformat()}",
    )


def digest_figures(session: Session, now: datetime, zone: Any) -> dict[str, Any]:
    """The digest's numbers, read from the records at send time."""
    local = now.astimezone(zone)
    end_of_tomorrow = datetime.combine(local.date() + timedelta(days=2), time(0), tzinfo=zone)
    end_of_today = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    by_step = dict(
        session.execute(
            sa.select(CSI.status, sa.func.count()).where(CSI.status.not_in(ENDED)).group_by(CSI.status)
        ).all()
    )
    undecided = sa.and_(
        CSI.plan_decided_at.is_(None),
        CSI.sla_breached_at.is_(None),
        CSI.sla_paused_at.is_(None),
        CSI.kind != CaseKind.TRAINING_REQUEST.value,
        CSI.status.not_in(ENDED),
        CSI.plan_due_at > now,
    )
    due_today = _count(session, sa.and_(undecided, CSI.plan_due_at < end_of_today))
    due_tomorrow = _count(
        session, sa.and_(undecided, CSI.plan_due_at >= end_of_today, CSI.plan_due_at < end_of_tomorrow)
    )
    breached = list(
        session.scalars(
            sa.select(CSI.csi_no)
            .where(CSI.sla_breached_at.is_not(None), CSI.plan_decided_at.is_(None), CSI.status.not_in(ENDED))
            .order_by(CSI.plan_due_at)
            .limit(20)
        )
    )
    open_qf = int(
        session.scalar(
            sa.select(sa.func.count()).select_from(QualityFeedback).where(QualityFeedback.closed_at.is_(None))
        )
        or 0
    )
    open_claims = int(
        session.scalar(sa.select(sa.func.count()).select_from(SupplierClaim).where(SupplierClaim.closed_at.is_(None)))
        or 0
    )
    steps = {step: int(by_step.get(step, 0)) for step in STEPS}
    return {
        "open": sum(steps.values()),
        **steps,
        "due_today": due_today,
        "due_tomorrow": due_tomorrow,
        "breached": len(breached),
        "breached_list": "、".join(breached) or "—",
        "open_qf": open_qf,
        "open_claims": open_claims,
    }


def _count(session: Session, condition: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(CSI).where(condition)) or 0)
