"""Manager dashboard (§2.1): read-only figures computed from the records at request time, never stored twice.

Every figure is one portable SQL aggregate (no dialect-only function: weeks are bucketed with a CASE over week
boundaries computed here in the business timezone) or a small Python sum over the rows of the period. Periods are
local dates, first and last day included; weeks are ISO weeks (Monday first).

Definitions the page states beside each chart:
- §4.6 compliance: a case received in the period *met* the limit when its plan was decided by `plan_due_at` and no
  breach was recorded; it *breached* when a breach was recorded, the plan was decided late, or it is still undecided
  after the deadline; otherwise it is *pending*. Rate = met / (met + breached). Per supervisor = `reviewed_by`.
- Ageing: open cases (not closed, not cancelled) by calendar days since received. §4.6 counts only cases whose plan
  is decided by review: training requests (§6) and cancelled cases are out of it; a paused clock does not run out.
- First-visit fix: WOs whose first visit (PSR round 1) was filed in the period; fixed when that PSR is `solved`.
- Escalations (§5.8): visits filed in the period that went to technical support (unsolved, or the customer
  dissatisfied), and cases received in the period that needed renegotiation (`renegotiations` > 0).
- Warranty cost: cases in warranty (§3.2 `coverage` = in_warranty), by the date each cost was recorded: labour =
  Σ PSR hours × its field-service WO's rate (= WO hours × rate), parts = Σ qty × unit price of parts-only service
  SO lines (the value given, free or not), charged = Σ service SO amounts (parts and fees billed to the customer),
  claimed = Σ supplier claim amounts (§5.5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.users import display_names
from engine.records.csi import CSI
from engine.records.csi import FINAL_STATUSES
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.master import Product
from engine.records.process import HumanTask
from engine.records.process import TaskStatus
from engine.records.psr import PSR
from engine.records.quality import DISSATISFIED
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.service_sales_order import ServiceSOType
from engine.records.supplier_claim import SupplierClaim
from engine.records.work_order import MONEY
from engine.records.work_order import WorkOrder

DASHBOARD_ROLES = ("service_director", "service_manager", "service_supervisor")
DEFAULT_WEEKS = 12
MAX_DAYS = 3 * 366
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-3", 0, 3),
    ("4-7", 4, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    (">30", 31, None),
)
SATISFACTION = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
QF_STATUSES = ("submitted", "closed", "rejected")
CLAIM_ACCEPTED = ("accepted", "partly_accepted", "settled")  # §5.5: the supplier accepted all or part of it
BREACH_ROWS = 10
ZERO = Decimal("0")

_BAD_DATE = Problem("date", "use YYYY-MM-DD")


@dataclass(frozen=True)
class Week:
    """One ISO week of the period, clipped to it: label 2026-W48, its local Monday and its UTC bounds."""

    label: str
    monday: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (both included) in the business timezone."""

    first: date
    last: date
    zone: ZoneInfo

    @classmethod
    def last_weeks(cls, today: date, weeks: int = DEFAULT_WEEKS, zone: str = BUSINESS_TIMEZONE) -> Period:
        """The current ISO week and the `weeks - 1` before it, up to today."""
        monday = today - timedelta(days=today.weekday())
        return cls(monday - timedelta(weeks=weeks - 1), today, ZoneInfo(zone))

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date, zone: str = BUSINESS_TIMEZONE) -> Period:
        """From ISO dates (either may be empty: the default 12 weeks fill in).

        :raises InvalidInputError: not a date, first after last, or longer than three years.
        """
        default = cls.last_weeks(today, zone=zone)
        try:
            start = date.fromisoformat(first) if first else default.first
            end = date.fromisoformat(last) if last else max(default.last, start)
        except ValueError as exc:
            raise InvalidInputError("bad date", {"from": _BAD_DATE, "to": _BAD_DATE}) from exc
        if start > end:
            raise InvalidInputError("empty period", {"from": Problem("period_order", "must not be after the end date")})
        if (end - start).days > MAX_DAYS:
            raise InvalidInputError("period too long", {"from": Problem("period_long", "at most three years")})
        return cls(start, end, ZoneInfo(zone))

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone).astimezone(ZoneInfo("UTC"))

    @property
    def start(self) -> datetime:
        """UTC instant of the first local midnight."""
        return self._utc(self.first)

    @property
    def end(self) -> datetime:
        """UTC instant just after the last day (exclusive bound)."""
        return self._utc(self.last + timedelta(days=1))

    def weeks(self) -> list[Week]:
        """The ISO weeks the period touches, each clipped to the period."""
        out: list[Week] = []
        monday = self.first - timedelta(days=self.first.weekday())
        while monday <= self.last:
            year, number, _ = monday.isocalendar()
            start = max(self.first, monday)
            end = min(self.last, monday + timedelta(days=6)) + timedelta(days=1)
            out.append(Week(f"{year}-W{number:02d}", monday, self._utc(start), self._utc(end)))
            monday += timedelta(weeks=1)
        return out

    def previous(self) -> Period:
        """The period of the same length just before this one (for the comparisons of the key figures)."""
        days = (self.last - self.first).days + 1
        return Period(self.first - timedelta(days=days), self.first - timedelta(days=1), self.zone)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready bounds."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.zone.key}


def week_of(column: Any, weeks: Sequence[Week]) -> Any:
    """A portable CASE giving the index of the week a timestamp falls in (rows are already limited to the period).

    The CASE is nested as a binary search over the week ends, so a row costs about log2(weeks) comparisons.
    """

    def bucket(low: int, high: int) -> Any:
        if low == high:
            return sa.literal(low, sa.Integer)
        middle = (low + high) // 2
        return sa.case((column < weeks[middle].end, bucket(low, middle)), else_=bucket(middle + 1, high))

    return bucket(0, len(weeks) - 1)


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _in(column: Any, period: Period) -> Any:
    return sa.and_(column >= period.start, column < period.end)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _money(value: Any) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def sla_scope() -> Any:
    """§4.6 counts cases whose plan is decided by review: not training requests (§6), not cancelled ones."""
    return sa.and_(CSI.status != CSIStatus.CANCELLED.value, CSI.kind != CaseKind.TRAINING_REQUEST.value)


def sla_states(now: datetime) -> tuple[Any, Any]:
    """§4.6 (met, breached) conditions on CSI columns; a case that is neither is pending (or out of scope)."""
    met = sa.and_(
        sla_scope(),
        CSI.plan_decided_at.is_not(None),
        CSI.plan_decided_at <= CSI.plan_due_at,
        CSI.sla_breached_at.is_(None),
    )
    breached = sa.and_(
        sla_scope(),
        sa.or_(
            CSI.sla_breached_at.is_not(None),
            CSI.plan_decided_at > CSI.plan_due_at,
            sa.and_(CSI.plan_decided_at.is_(None), CSI.sla_paused_at.is_(None), CSI.plan_due_at < now),
        ),
    )
    return met, breached


def case_figures(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """One pass over the cases received in the period: §4.6 per week and per supervisor, opened per week,
    renegotiated cases (§5.8)."""
    weeks = period.weeks()
    met, breached = sla_states(now)
    week = week_of(CSI.received_at, weeks).label("week")
    query = (
        sa.select(
            week,
            CSI.reviewed_by,
            sa.func.count(),
            _count(met),
            _count(breached),
            _count(sa.and_(breached, CSI.sla_exception_reason.is_not(None))),
            _count(CSI.renegotiations > 0),
            sa.func.coalesce(sa.func.sum(CSI.renegotiations), 0),
        )
        .where(_in(CSI.received_at, period))
        .group_by(week, CSI.reviewed_by)
    )
    keys = ("opened", "met", "breached", "explained", "renegotiated", "renegotiations")
    per_week = [dict.fromkeys(keys, 0) for _ in weeks]
    per_supervisor: dict[str | None, dict[str, int]] = defaultdict(lambda: {"met": 0, "breached": 0, "cases": 0})
    for index, reviewer, total, n_met, n_breached, explained, renegotiated, renegotiations in session.execute(query):
        row = per_week[index]
        values = (total, n_met, n_breached, explained, renegotiated, renegotiations)
        for key, value in zip(keys, values, strict=True):
            row[key] += int(value or 0)
        sup = per_supervisor[reviewer]
        sup["cases"] += int(total)
        sup["met"] += int(n_met or 0)
        sup["breached"] += int(n_breached or 0)
    return {"weeks": per_week, "supervisors": dict(per_supervisor)}


def closed_per_week(session: Session, period: Period) -> list[int]:
    """Cases closed in each week of the period."""
    weeks = period.weeks()
    week = week_of(CSI.closed_at, weeks).label("week")
    query = sa.select(week, sa.func.count()).where(_in(CSI.closed_at, period)).group_by(week)
    counts = [0] * len(weeks)
    for index, count in session.execute(query):
        counts[index] = int(count)
    return counts


def sla_section(session: Session, period: Period, now: datetime, cases: dict[str, Any]) -> dict[str, Any]:
    """§4.6 compliance per week and per supervisor, the latest breaches and their recorded reasons."""
    weeks = [
        {"met": row["met"], "breached": row["breached"], "rate": _rate(row["met"], row["met"] + row["breached"])}
        for row in cases["weeks"]
    ]
    reviewers = cases["supervisors"]
    names = display_names(session, reviewers)
    supervisors = [
        {
            "username": reviewer,
            "name": names.get(reviewer, reviewer) if reviewer else None,
            "met": row["met"],
            "breached": row["breached"],
            "rate": _rate(row["met"], row["met"] + row["breached"]),
        }
        for reviewer, row in sorted(reviewers.items(), key=lambda item: (item[0] is None, item[0] or ""))
        if row["met"] or row["breached"]
    ]
    met = sum(w["met"] for w in weeks)
    breached = sum(w["breached"] for w in weeks)
    explained = sum(row["explained"] for row in cases["weeks"])
    return {
        "weeks": weeks,
        "supervisors": supervisors,
        "met": met,
        "breached": breached,
        "rate": _rate(met, met + breached),
        "explained": explained,
        "unexplained": breached - explained,
        "reasons": breach_reasons(session, period, now),
        "breaches": latest_breaches(session, period, now),
    }


def breach_reasons(session: Session, period: Period, now: datetime, limit: int = 8) -> list[dict[str, Any]]:
    """The most frequent recorded reasons (§4.6 "normally": the supervisor's `sla_exception_reason`)."""
    _, breached = sla_states(now)
    count = sa.func.count().label("n")
    query = (
        sa.select(CSI.sla_exception_reason, count)
        .where(_in(CSI.received_at, period), breached, CSI.sla_exception_reason.is_not(None))
        .group_by(CSI.sla_exception_reason)
        .order_by(count.desc(), CSI.sla_exception_reason)
        .limit(limit)
    )
    return [{"reason": reason, "cases": int(n)} for reason, n in session.execute(query)]


def latest_breaches(session: Session, period: Period, now: datetime, limit: int = BREACH_ROWS) -> list[dict[str, Any]]:
    """The newest breached cases of the period with their deadline, decision and recorded reason."""
    _, breached = sla_states(now)
    query = (
        sa.select(
            CSI.id,
            CSI.csi_no,
            CSI.status,
            CSI.received_at,
            CSI.plan_due_at,
            CSI.plan_decided_at,
            CSI.reviewed_by,
            CSI.sla_exception_reason,
        )
        .where(_in(CSI.received_at, period), breached)
        .order_by(CSI.received_at.desc(), CSI.id.desc())
        .limit(limit)
    )
    rows = session.execute(query).all()
    names = display_names(session, (row.reviewed_by for row in rows))
    return [
        {
            "id": row.id,
            "csi_no": row.csi_no,
            "status": row.status,
            "received_at": row.received_at.isoformat(),
            "plan_due_at": row.plan_due_at.isoformat(),
            "plan_decided_at": row.plan_decided_at.isoformat() if row.plan_decided_at else None,
            "late_hours": round(((row.plan_decided_at or now) - row.plan_due_at).total_seconds() / 3600, 1),
            "reviewed_by": names.get(row.reviewed_by, row.reviewed_by) if row.reviewed_by else None,
            "reason": row.sla_exception_reason,
        }
        for row in rows
    ]


def backlog(session: Session, now: datetime) -> dict[str, Any]:
    """Open human tasks now, by step (process and BPMN id) and by lane, with how many are past due."""
    query = (
        sa.select(
            HumanTask.process_id,
            HumanTask.bpmn_id,
            HumanTask.lane,
            sa.func.max(HumanTask.name),
            sa.func.count(),
            _count(HumanTask.due_at < now),
            sa.func.min(HumanTask.created_at),
        )
        .where(HumanTask.status == TaskStatus.OPEN.value)
        .group_by(HumanTask.process_id, HumanTask.bpmn_id, HumanTask.lane)
    )
    steps = []
    lanes: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0})
    for process_id, bpmn_id, lane, name, count, overdue, oldest in session.execute(query):
        steps.append(
            {
                "process_id": process_id,
                "bpmn_id": bpmn_id,
                "name": name,
                "lane": lane,
                "open": int(count),
                "overdue": int(overdue or 0),
                "oldest_days": (now - oldest).days if oldest else None,
            }
        )
        lanes[lane]["open"] += int(count)
        lanes[lane]["overdue"] += int(overdue or 0)
    steps.sort(key=lambda s: (-s["open"], s["bpmn_id"]))
    return {
        "steps": steps,
        "lanes": [{"lane": k, **v} for k, v in sorted(lanes.items(), key=lambda kv: (-kv[1]["open"], kv[0]))],
        "open": sum(s["open"] for s in steps),
        "overdue": sum(s["overdue"] for s in steps),
    }


def ageing(session: Session, now: datetime) -> dict[str, Any]:
    """Open cases now by calendar days since received (0–3, 4–7, 8–14, 15–30, >30) and by status."""
    open_statuses = [s.value for s in CSIStatus if s.value not in FINAL_STATUSES]
    whens = [
        (CSI.received_at > now - timedelta(days=high + 1), i) for i, (_, _, high) in enumerate(AGE_BUCKETS) if high
    ]
    bucket = sa.case(*whens, else_=len(AGE_BUCKETS) - 1).label("bucket")
    query = (
        sa.select(bucket, CSI.status, sa.func.count()).where(CSI.status.in_(open_statuses)).group_by(bucket, CSI.status)
    )
    counts = {status: [0] * len(AGE_BUCKETS) for status in open_statuses}
    for index, status, count in session.execute(query):
        counts[status][index] = int(count)
    overdue = session.scalar(
        sa.select(sa.func.count()).where(
            CSI.status.in_(open_statuses),
            sla_scope(),
            CSI.plan_decided_at.is_(None),
            CSI.sla_paused_at.is_(None),
            CSI.plan_due_at < now,
        )
    )
    totals = [sum(column) for column in zip(*counts.values(), strict=True)]
    return {
        "buckets": [label for label, _, _ in AGE_BUCKETS],
        "by_status": [
            {"status": status, "counts": row, "total": sum(row)} for status, row in counts.items() if any(row)
        ],
        "totals": totals,
        "open": sum(totals),
        "undecided_overdue": int(overdue or 0),
    }


def visit_figures(session: Session, period: Period) -> dict[str, Any]:
    """Per week: visits, first visits and those solved (first-visit fix), visits escalated to technical support."""
    weeks = period.weeks()
    week = week_of(PSR.created_at, weeks).label("week")
    first = PSR.round_no == 1
    escalated = sa.or_(PSR.outcome == "unsolved", PSR.satisfaction.in_(sorted(DISSATISFIED)))
    query = (
        sa.select(
            week,
            sa.func.count(),
            _count(first),
            _count(sa.and_(first, PSR.outcome == "solved")),
            _count(PSR.outcome == "unsolved"),
            _count(escalated),
        )
        .where(_in(PSR.created_at, period))
        .group_by(week)
    )
    keys = ("visits", "first_visits", "first_fixed", "unsolved", "escalated")
    rows: list[dict[str, Any]] = [dict.fromkeys(keys, 0) for _ in weeks]
    for index, *values in session.execute(query):
        rows[index] = {key: int(value or 0) for key, value in zip(keys, values, strict=True)}
    for row in rows:
        row["fix_rate"] = _rate(row["first_fixed"], row["first_visits"])
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in keys}
    totals["fix_rate"] = _rate(totals["first_fixed"], totals["first_visits"])
    return {"weeks": rows, **totals}


def quality_feedback(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """§5.6 QAHRC0722C filed per week by their status now, and how many are open now (older than 30 days)."""
    weeks = period.weeks()
    week = week_of(QualityFeedback.filed_at, weeks).label("week")
    query = (
        sa.select(week, QualityFeedback.status, sa.func.count())
        .where(_in(QualityFeedback.filed_at, period))
        .group_by(week, QualityFeedback.status)
    )
    series = {status: [0] * len(weeks) for status in QF_STATUSES}
    for index, status, count in session.execute(query):
        series.setdefault(status, [0] * len(weeks))[index] += int(count)
    is_open = QualityFeedback.status == "submitted"
    open_now, open_old = session.execute(
        sa.select(sa.func.count(), _count(QualityFeedback.filed_at < now - timedelta(days=30))).where(is_open)
    ).one()
    return {
        "by_status": [{"status": status, "counts": values, "total": sum(values)} for status, values in series.items()],
        "open_now": int(open_now or 0),
        "open_over_30_days": int(open_old or 0),
    }


def surveys(session: Session, period: Period) -> dict[str, Any]:
    """§5.7 QAHRC0807C results filed in the period, by satisfaction level."""
    query = (
        sa.select(SatisfactionSurvey.satisfaction, sa.func.count())
        .where(_in(SatisfactionSurvey.filed_at, period))
        .group_by(SatisfactionSurvey.satisfaction)
    )
    counts = dict.fromkeys(SATISFACTION, 0)
    for level, count in session.execute(query):
        counts[level] = counts.get(level, 0) + int(count)
    total = sum(counts.values())
    satisfied = counts["very_satisfied"] + counts["satisfied"]
    unhappy = sum(counts.get(level, 0) for level in DISSATISFIED)
    return {
        "levels": [{"level": level, "surveys": count} for level, count in counts.items()],
        "total": total,
        "satisfied_rate": _rate(satisfied, total),
        "dissatisfied": unhappy,
    }


CostKey = tuple[str, str | None, str | None, str | None]  # coverage, product, responsibility, supplier claimed


def _claimed() -> Any:
    """One row per case with a supplier claim: the supplier claimed against ('' until Sales names it)."""
    return (
        sa.select(SupplierClaim.csi_id, sa.func.coalesce(sa.func.min(SupplierClaim.supplier), "").label("supplier"))
        .group_by(SupplierClaim.csi_id)
        .subquery()
    )


def _keys(claimed: Any) -> tuple[Any, ...]:
    return (CSI.coverage, CSI.product_code, CSI.responsibility, claimed.c.supplier)


def _key(row: Any) -> CostKey:
    return (row[0], row[1], row[2], row[3])


def _costs(
    session: Session, period: Period
) -> tuple[dict[CostKey, Decimal], dict[CostKey, Decimal], dict[CostKey, Decimal]]:
    """(labour, parts value given, amounts charged) per key in one statement: the field-service PSRs and the service
    SOs recorded in the period, joined once to their case and its supplier claim. The parts value is the SO's
    `parts_value` (Σ qty × unit price of its lines, kept with them), so no SO line is parsed here."""
    labour_rows = (
        sa.select(
            PSR.csi_id.label("csi_id"),
            (PSR.labour_hours * WorkOrder.labour_rate).label("labour"),
            sa.literal(0, MONEY).label("parts"),
            sa.literal(0, MONEY).label("charged"),
        )
        .join(WorkOrder, WorkOrder.id == PSR.wo_id)
        .where(_in(PSR.created_at, period), WorkOrder.kind == "field_service")
    )
    parts_only = ServiceSalesOrder.so_type == ServiceSOType.PARTS_ONLY.value
    order_rows = sa.select(
        ServiceSalesOrder.csi_id,
        sa.literal(0, MONEY),
        sa.case((parts_only, ServiceSalesOrder.parts_value), else_=sa.literal(0, MONEY)),
        ServiceSalesOrder.amount,
    ).where(_in(ServiceSalesOrder.created_at, period))
    rows = sa.union_all(labour_rows, order_rows).subquery()
    claimed = _claimed()
    keys = _keys(claimed)
    query = (
        sa.select(
            *keys,
            sa.func.sum(rows.c.labour),
            sa.func.sum(rows.c.parts),
            sa.func.sum(rows.c.charged),
        )
        .select_from(rows)
        .join(CSI, CSI.id == rows.c.csi_id)
        .outerjoin(claimed, claimed.c.csi_id == CSI.id)
        .group_by(*keys)
    )
    labour: dict[CostKey, Decimal] = {}
    parts: dict[CostKey, Decimal] = {}
    charged: dict[CostKey, Decimal] = {}
    for row in session.execute(query):
        key = _key(row)
        labour[key] = Decimal(str(row[4] or 0))
        parts[key] = Decimal(str(row[5] or 0))
        charged[key] = Decimal(str(row[6] or 0))
    return labour, parts, charged


def _claims(session: Session, period: Period) -> list[dict[str, Any]]:
    query = (
        sa.select(
            SupplierClaim.supplier,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(SupplierClaim.claim_amount), 0),
            _count(SupplierClaim.closed_at.is_(None)),  # open: not yet settled or rejected
            _count(SupplierClaim.status.in_(CLAIM_ACCEPTED)),
            _count(SupplierClaim.status == "rejected"),
        )
        .where(_in(SupplierClaim.created_at, period))
        .group_by(SupplierClaim.supplier)
    )
    rows = [
        {
            "supplier": supplier,
            "claims": int(count),
            "claimed": _money(amount),
            "open": int(pending or 0),
            "accepted": int(accepted or 0),
            "rejected": int(rejected or 0),
        }
        for supplier, count, amount, pending, accepted, rejected in session.execute(query)
    ]
    rows.sort(key=lambda r: (-r["claimed"], -r["claims"], r["supplier"] or ""))
    return rows


def _group(
    keys: Iterable[CostKey],
    index: int,
    *sums: dict[CostKey, Decimal],
    coverage: str | None = "in_warranty",
    skip_none: bool = False,
) -> list[dict[str, Any]]:
    grouped: dict[str | None, list[Decimal]] = {}
    for key in keys:
        if (coverage is not None and key[0] != coverage) or (skip_none and key[index] is None):
            continue
        row = grouped.setdefault(key[index], [ZERO] * len(sums))
        for i, values in enumerate(sums):
            row[i] += values.get(key, ZERO)
    out: list[dict[str, Any]] = [
        {
            "key": name,
            "labour": _money(v[0]),
            "parts": _money(v[1]),
            "total": _money(v[0] + v[1]),
            "charged": _money(v[2]),
        }
        for name, v in grouped.items()
    ]
    out.sort(key=lambda r: (-r["total"], -r["charged"], r["key"] or ""))
    return out


def warranty_cost(session: Session, period: Period) -> dict[str, Any]:
    """Cost of in-warranty service recorded in the period by product, responsibility and supplier (module doc)."""
    labour, parts, charged = _costs(session, period)
    keys = set(labour) | set(parts) | set(charged)
    by_product = _group(keys, 1, labour, parts, charged)
    codes = [r["key"] for r in by_product if r["key"]]
    names: dict[str, str] = {}
    if codes:
        names = {
            code: name
            for code, name in session.execute(sa.select(Product.code, Product.name).where(Product.code.in_(codes)))
        }
    for row in by_product:
        row["name"] = names.get(row["key"], row["key"])
    suppliers = _by_supplier(_claims(session, period), _group(keys, 3, labour, parts, charged, skip_none=True))
    totals = {k: round(sum(r[k] for r in by_product), 2) for k in ("labour", "parts", "total", "charged")}
    totals["claimed"] = round(sum(r["claimed"] for r in suppliers), 2)
    return {
        "by_product": by_product,
        "by_responsibility": _group(keys, 2, labour, parts, charged),
        "by_coverage": _group(keys, 0, labour, parts, charged, coverage=None),
        "by_supplier": suppliers,
        "totals": totals,
    }


def _by_supplier(claims: list[dict[str, Any]], costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claims raised in the period and the warranty cost recorded in the period of the cases claimed, per supplier
    (None: Sales has not named the supplier yet)."""
    rows: dict[str | None, dict[str, Any]] = {}
    empty = {"claims": 0, "claimed": 0.0, "open": 0, "accepted": 0, "rejected": 0}
    for claim in claims:
        rows[claim["supplier"] or None] = {**claim, "supplier": claim["supplier"] or None}
    for cost in costs:
        row = rows.setdefault(cost["key"] or None, {"supplier": cost["key"] or None, **empty})
        row.update(labour=cost["labour"], parts=cost["parts"], total=cost["total"])
    out = [{"labour": 0.0, "parts": 0.0, "total": 0.0, **row} for row in rows.values()]
    out.sort(key=lambda r: (r["supplier"] is None, -r["claimed"], -r["total"], r["supplier"] or ""))
    return out


def previous_figures(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """The key rates of the period before, to show the trend: §4.6 in time, first-visit fix, satisfied customers."""
    met, breached = sla_states(now)
    n_met, n_breached, opened = session.execute(
        sa.select(_count(met), _count(breached), sa.func.count()).where(_in(CSI.received_at, period))
    ).one()
    first = PSR.round_no == 1
    escalated = sa.or_(PSR.outcome == "unsolved", PSR.satisfaction.in_(sorted(DISSATISFIED)))
    firsts, fixed, n_escalated = session.execute(
        sa.select(_count(first), _count(sa.and_(first, PSR.outcome == "solved")), _count(escalated)).where(
            _in(PSR.created_at, period)
        )
    ).one()
    happy = SatisfactionSurvey.satisfaction.in_(("very_satisfied", "satisfied"))
    n_happy, n_surveys = session.execute(
        sa.select(_count(happy), sa.func.count()).where(_in(SatisfactionSurvey.filed_at, period))
    ).one()
    return {
        "period": period.as_dict(),
        "sla_rate": _rate(int(n_met or 0), int(n_met or 0) + int(n_breached or 0)),
        "opened": int(opened or 0),
        "fix_rate": _rate(int(fixed or 0), int(firsts or 0)),
        "escalated": int(n_escalated or 0),
        "satisfied_rate": _rate(int(n_happy or 0), int(n_surveys or 0)),
    }


def dashboard(session: Session, period: Period, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the manager dashboard for one period, JSON-ready."""
    now = now or utcnow()
    cases = case_figures(session, period, now)
    visits = visit_figures(session, period)
    weeks = period.weeks()
    closed = closed_per_week(session, period)
    return {
        "period": period.as_dict(),
        "generated_at": now.isoformat(),
        "weeks": [{"label": w.label, "monday": w.monday.isoformat()} for w in weeks],
        "sla": sla_section(session, period, now, cases),
        "throughput": {
            "opened": [row["opened"] for row in cases["weeks"]],
            "closed": closed,
            "total_opened": sum(row["opened"] for row in cases["weeks"]),
            "total_closed": sum(closed),
        },
        "backlog": backlog(session, now),
        "ageing": ageing(session, now),
        "visits": visits,
        "escalations": {
            "escalated_visits": [row["escalated"] for row in visits["weeks"]],
            "unsolved_visits": [row["unsolved"] for row in visits["weeks"]],
            "total_escalated": visits["escalated"],
            "total_unsolved": visits["unsolved"],
            "renegotiated_cases": sum(row["renegotiated"] for row in cases["weeks"]),
            "renegotiations": sum(row["renegotiations"] for row in cases["weeks"]),
        },
        "quality_feedback": quality_feedback(session, period, now),
        "surveys": surveys(session, period),
        "warranty_cost": warranty_cost(session, period),
        "previous": previous_figures(session, period.previous(), now),
    }
