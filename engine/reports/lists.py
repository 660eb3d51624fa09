"""Lists for managers (issue 9; exported as CSV or XLSX by the web): open quality feedback (§5.6), open supplier
claims (§5.5), CSIs without a received signed original (§4.5) and the §4.6 results of a period by kind and
supervisor (met / breached / paused / explained).

Read-only; each list is a header of column keys and rows of plain values (the web translates the keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.records.csi import CSI
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.master import Customer
from engine.records.quality import QualityFeedback
from engine.records.supplier import Supplier
from engine.records.supplier_claim import SupplierClaim
from engine.reports.dashboard import Period


@dataclass(frozen=True)
class Listing:
    """A list's column keys and rows."""

    columns: tuple[str, ...]
    rows: list[list[Any]]


def open_quality_feedback(session: Session, period: Period, now: datetime) -> Listing:
    """§5.6: QAHRC0722C still under investigation by engineering QC, oldest first (all of them, whatever the period)."""
    query = (
        sa.select(QualityFeedback, CSI.csi_no, Customer.code)
        .join(CSI, CSI.id == QualityFeedback.csi_id)
        .join(Customer, Customer.id == CSI.customer_id)
        .where(QualityFeedback.status == "submitted")
        .order_by(QualityFeedback.filed_at, QualityFeedback.id)
    )
    rows = [
        [qf.qf_no, csi_no, customer, qf.filed_at, qf.filed_by, (now - qf.filed_at).days, qf.description]
        for qf, csi_no, customer in session.execute(query)
    ]
    return Listing(("qf_no", "csi_no", "customer", "filed_at", "filed_by", "age_days", "description"), rows)


def open_supplier_claims(session: Session, period: Period, now: datetime) -> Listing:
    """§5.5: supplier claims not yet settled or rejected (open, submitted, accepted, partly accepted), oldest first,
    with the supplier of the master (or the name written on an older claim) and the claimed, accepted and recovered
    amounts."""
    query = (
        sa.select(SupplierClaim, CSI.csi_no, Supplier.code, Supplier.name)
        .join(CSI, CSI.id == SupplierClaim.csi_id)
        .outerjoin(Supplier, Supplier.id == SupplierClaim.supplier_id)
        .where(SupplierClaim.closed_at.is_(None))
        .order_by(SupplierClaim.created_at, SupplierClaim.id)
    )
    rows = [
        [
            sc.sc_no,
            csi_no,
            sc.status,
            code,
            name or sc.supplier,
            sc.claim_amount,
            sc.accepted_amount,
            sc.recovered_amount,
            sc.created_at,
            (now - sc.created_at).days,
        ]
        for sc, csi_no, code, name in session.execute(query)
    ]
    columns = (
        "sc_no",
        "csi_no",
        "status",
        "supplier_code",
        "supplier",
        "claim_amount",
        "accepted_amount",
        "recovered_amount",
        "created_at",
        "age_days",
    )
    return Listing(columns, rows)


def sla_results(session: Session, period: Period, now: datetime) -> Listing:
    """§4.6 for the cases received in the period, by kind and supervisor: cases, met, breached, explained (a
    breach with the supervisor's reason), paused (the clock was paused at least once), pending."""
    met = sa.and_(
        CSI.plan_decided_at.is_not(None), CSI.plan_decided_at <= CSI.plan_due_at, CSI.sla_breached_at.is_(None)
    )
    breached = sa.or_(
        CSI.sla_breached_at.is_not(None),
        CSI.plan_decided_at > CSI.plan_due_at,
        sa.and_(CSI.plan_decided_at.is_(None), CSI.sla_paused_at.is_(None), CSI.plan_due_at < now),
    )
    paused = sa.or_(CSI.sla_paused_days > 0, CSI.sla_paused_at.is_not(None))
    query = (
        sa.select(
            CSI.kind,
            CSI.reviewed_by,
            sa.func.count(),
            _count(met),
            _count(breached),
            _count(sa.and_(breached, CSI.sla_exception_reason.is_not(None))),
            _count(paused),
        )
        .where(
            CSI.received_at >= period.start,
            CSI.received_at < period.end,
            CSI.status != CSIStatus.CANCELLED.value,
            CSI.kind != CaseKind.TRAINING_REQUEST.value,
        )
        .group_by(CSI.kind, CSI.reviewed_by)
        .order_by(CSI.kind, CSI.reviewed_by)
    )
    rows = []
    for kind, reviewer, cases, n_met, n_breached, explained, n_paused in session.execute(query):
        cases, n_met, n_breached = int(cases), int(n_met or 0), int(n_breached or 0)
        rate = round(100 * n_met / (n_met + n_breached), 1) if n_met + n_breached else None
        pending = cases - n_met - n_breached
        rows.append([kind, reviewer, cases, n_met, n_breached, int(explained or 0), int(n_paused or 0), pending, rate])
    columns = ("kind", "supervisor", "cases", "met", "breached", "explained", "paused", "pending", "rate")
    return Listing(columns, rows)


def missing_signed_originals(session: Session, period: Period, now: datetime) -> Listing:
    """§4.5: CSIs whose review is decided but whose signed original has not been recorded as received, oldest first."""
    query = (
        sa.select(CSI, Customer.code)
        .join(Customer, Customer.id == CSI.customer_id)
        .where(
            CSI.plan_decided_at.is_not(None),
            CSI.signed_original_received_at.is_(None),
            CSI.status != CSIStatus.CANCELLED.value,
        )
        .order_by(CSI.plan_decided_at, CSI.id)
    )
    rows = [
        [
            csi.csi_no,
            customer,
            csi.status,
            csi.plan_decided_at,
            csi.reviewed_by,
            csi.signed_original_location,
            (now - csi.plan_decided_at).days if csi.plan_decided_at else None,
        ]
        for csi, customer in session.execute(query)
    ]
    columns = ("csi_no", "customer", "status", "plan_decided_at", "supervisor", "planned_location", "age_days")
    return Listing(columns, rows)


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


LISTS: dict[str, Callable[[Session, Period, datetime], Listing]] = {
    "open-quality-feedback": open_quality_feedback,
    "open-supplier-claims": open_supplier_claims,
    "sla-results": sla_results,
    "missing-signed-originals": missing_signed_originals,
}
