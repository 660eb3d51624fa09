"""Service archive per factory serial number (§2.2 keep service archives, §2.4 which products need one, §3.1).

Large and medium complete equipment is serviced many times over its life, so the Service Department keeps one
archive per serial number: the unit (SO#, sale date, warranty) and, in time order, every case, WO, visit (PSR),
part changed, quality feedback (QAHRC0722C), satisfaction survey (QAHRC0807C), supplier claim, training and spare
part returned (§3.1).
Tool sets, standard devices and spare parts normally have none (§3.1); product design decides per product through
its warranty policy (§2.4), and a CSI snapshots that decision (`CSI.archive_required`).
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from engine.aftersales.policies.service import policy_in_force
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.platform.access import CASE_READERS
from engine.records.csi import CSI
from engine.records.master import Product
from engine.records.master import ProductCategory
from engine.records.master import SalesOrderLine
from engine.records.part_return import PartReturn
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.supplier_claim import SupplierClaim
from engine.records.training_plan import TrainingPlan
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import WorkOrder
from engine.reports.chain import json_value

ARCHIVE_READERS = CASE_READERS | {Role.PRODUCT_DESIGN.value}
MAX_SERIAL = 64


class ArchiveNotKeptError(NotFoundError):
    """The serial number is known, but its product keeps no service archive (§3.1, §2.4)."""

    def __init__(self, serial_no: str, product_code: str | None, category: str | None) -> None:
        self.serial_no = serial_no
        self.product_code = product_code
        self.category = category
        super().__init__(_not_kept_message(serial_no, product_code, category))


def _not_kept_message(serial_no: str, product_code: str | None, category: str | None) -> str:
    product = f" ({product_code})" if product_code else ""
    if category == ProductCategory.TOOL_SET.value:
        reason = "§3.1: tool sets and standard devices normally have no per-unit service archive"
    elif category == ProductCategory.SPARE_PART.value:
        reason = "§3.1: spare parts get return, exchange or compensation and have no service archive"
    else:
        reason = "the product's warranty policy set by product design (§2.4) does not require a service archive"
    return f"serial number {serial_no}{product} has no service archive: {reason}; its cases are in the case list"


def check_can_view_archive(user: User) -> None:
    """Service archives are read by the case-reading roles and by product design (§2.4).

    :raises PermissionDeniedError: none of those roles.
    """
    if not user.role_keys & ARCHIVE_READERS:
        raise PermissionDeniedError(
            Problem("archive_roles", "service archives are for the service organisation, QC, sales and design")
        )


def service_archive(session: Session, serial_no: str) -> dict[str, Any]:
    """The service archive of one serial number: the unit and its whole service history in time order.

    :raises NotFoundError: unknown serial number. :raises ArchiveNotKeptError: its product needs no archive.
    """
    serial = serial_no.strip()
    if not serial or len(serial) > MAX_SERIAL:
        raise NotFoundError(Problem("serial_required", "give a factory serial number"))
    line = session.scalars(
        sa.select(SalesOrderLine).where(SalesOrderLine.serial_no == serial).order_by(SalesOrderLine.id.desc())
    ).first()
    cases = list(session.scalars(sa.select(CSI).where(CSI.serial_no == serial).order_by(CSI.received_at, CSI.id)))
    if line is None and not cases:
        raise NotFoundError(Problem("serial_unknown", f"no unit with serial number {serial!r} was sold", serial=serial))
    product = line.product if line is not None else _product(session, cases[0].product_code)
    unit = _unit(session, serial, line, product, cases)
    if not unit["archive_required"]:
        raise ArchiveNotKeptError(serial, product.code if product else None, product.category if product else None)
    history = _history(session, cases)
    return {"serial_no": serial, "unit": unit, **history, "events": _events(unit, cases, history)}


def _product(session: Session, code: str | None) -> Product | None:
    return session.scalars(sa.select(Product).where(Product.code == code)).first() if code else None


def _unit(
    session: Session, serial: str, line: SalesOrderLine | None, product: Product | None, cases: list[CSI]
) -> dict[str, Any]:
    order = line.sales_order if line is not None else None
    terms = policy_in_force(session, product, order.sale_date) if product is not None and order is not None else None
    warranty_until = order.sale_date + relativedelta(months=terms.warranty_months) if order and terms else None
    customer = order.customer if order is not None else (cases[0].customer if cases else None)
    return {
        "serial_no": serial,
        "product": {"code": product.code, "name": product.name, "category": product.category} if product else None,
        "customer": {"code": customer.code, "name": customer.name, "country": customer.country} if customer else None,
        "so_no": order.so_no if order else (cases[0].origin_so_no if cases else None),
        "sale_date": json_value(order.sale_date) if order else None,
        "warranty_months": terms.warranty_months if terms else None,
        "warranty_until": json_value(warranty_until),
        "policy_version": terms.policy_version if terms else None,
        "scope": terms.scope if terms else "",
        "archive_required": bool(terms and terms.archive_required) or any(c.archive_required for c in cases),
    }


def _rows(session: Session, model: type[Any], csi_ids: list[int]) -> list[Any]:
    if not csi_ids:
        return []
    return list(session.scalars(sa.select(model).where(model.csi_id.in_(csi_ids)).order_by(model.id)))


def _history(session: Session, cases: list[CSI]) -> dict[str, list[dict[str, Any]]]:
    ids = [c.id for c in cases]
    csi_no = {c.id: c.csi_no for c in cases}
    orders = _rows(session, WorkOrder, ids)
    wo_no = {w.id: w.wo_no for w in orders}
    visits = _rows(session, PSR, ids)
    return {
        "cases": [_case(c) for c in cases],
        "work_orders": [_work_order(w, csi_no) for w in orders],
        "visits": [_visit(p, csi_no, wo_no) for p in visits],
        "parts_changed": [part for p in visits for part in _parts(p, csi_no, wo_no)],
        "quality_feedback": [_feedback(q, csi_no) for q in _rows(session, QualityFeedback, ids)],
        "surveys": [_survey(s, csi_no) for s in _rows(session, SatisfactionSurvey, ids)],
        "supplier_claims": [_claim(s, csi_no) for s in _rows(session, SupplierClaim, ids)],
        "training_plans": [_training(t, csi_no) for t in _rows(session, TrainingPlan, ids)],
        "part_returns": [_return(r, csi_no) for r in _rows(session, PartReturn, ids)],
    }


def _pick(record: Any, names: str) -> dict[str, Any]:
    return {name: json_value(getattr(record, name)) for name in names.split()}


def _case(csi: CSI) -> dict[str, Any]:
    names = "kind status received_at description coverage root_cause responsibility service_plan billing closed_at"
    # §5.8: a service ended without the customer's agreement stays visible in the archive (reason, who, when)
    return {"number": csi.csi_no, "case_id": csi.id, **_pick(csi, names + " archive_location service_end")}


def _work_order(work_order: WorkOrder, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "kind status site planned_date engineers temporary_staff rounds labour_hours created_at completed_at"
    return {
        "number": work_order.wo_no,
        "csi_no": csi_no[work_order.csi_id],
        **_pick(work_order, names),
        "labour_cost": json_value(work_order.labour_cost),
    }


def _visit(psr: PSR, csi_no: dict[int, str], wo_no: dict[int, str]) -> dict[str, Any]:
    names = "visit_date round_no engineer labour_hours work_performed outcome old_parts satisfaction customer_signed_by"
    return {"number": psr.psr_no, "csi_no": csi_no[psr.csi_id], "wo_no": wo_no.get(psr.wo_id), **_pick(psr, names)}


def _parts(psr: PSR, csi_no: dict[int, str], wo_no: dict[int, str]) -> list[dict[str, Any]]:
    """§2.4/§3.1 archive: each part changed on a visit (from the PSR), with where it came from and the old part."""
    where = {"psr_no": psr.psr_no, "wo_no": wo_no.get(psr.wo_id), "csi_no": csi_no[psr.csi_id]}
    return [
        {
            "part_no": part.get("part_no"),
            "qty": part.get("qty"),
            "source": part.get("source"),
            "old_parts": psr.old_parts,
            "visit_date": json_value(psr.visit_date),
            **where,
        }
        for part in psr.parts_used or []
        if isinstance(part, dict)
    ]


def _feedback(feedback: QualityFeedback, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "form_code status description corrective_action filed_by filed_at closed_at"
    return {"number": feedback.qf_no, "csi_no": csi_no[feedback.csi_id], **_pick(feedback, names)}


def _survey(survey: SatisfactionSurvey, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "form_code satisfaction dissatisfied opinions filed_by filed_at"
    return {"number": survey.sv_no, "csi_no": csi_no[survey.csi_id], **_pick(survey, names)}


def _claim(claim: SupplierClaim, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "status supplier created_at claim_amount accepted_amount recovered_amount closed_at"
    return {"number": claim.sc_no, "csi_no": csi_no[claim.csi_id], **_pick(claim, names)}


def _training(plan: TrainingPlan, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "location planned_date status delivered_date modules attendance"
    return {"number": plan.tp_no, "csi_no": csi_no[plan.csi_id], **_pick(plan, names)}


def _return(record: PartReturn, csi_no: dict[int, str]) -> dict[str, Any]:
    names = "part_no quantity remedy status registered_at exchange_so_no closed_at"
    return {"number": record.rt_no, "csi_no": csi_no[record.csi_id], **_pick(record, names)}


EVENT_SOURCES = (
    ("cases", "csi", "received_at"),
    ("work_orders", "wo", "created_at"),
    ("visits", "psr", "visit_date"),
    ("quality_feedback", "quality-feedback", "filed_at"),
    ("surveys", "survey", "filed_at"),
    ("supplier_claims", "supplier-claim", "created_at"),
    ("training_plans", "training-plan", "planned_date"),
    ("part_returns", "part-return", "registered_at"),
)


def _events(unit: dict[str, Any], cases: list[CSI], history: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The archive's timeline: the sale, then every record by its date (visits by the visit date)."""
    events: list[dict[str, Any]] = []
    if unit["sale_date"]:
        events.append({"at": unit["sale_date"], "type": "sale", "number": unit["so_no"], "csi_no": None})
    for key, record_type, stamp in EVENT_SOURCES:
        for item in history[key]:
            csi_no = item.get("csi_no", item["number"] if record_type == "csi" else None)
            events.append({"at": item[stamp], "type": record_type, "number": item["number"], "csi_no": csi_no})
    for part in history["parts_changed"]:
        where = {"number": part["psr_no"], "csi_no": part["csi_no"], "part_no": part["part_no"]}
        events.append({"at": part["visit_date"], "type": "part", **where})
    return sorted(events, key=lambda e: _moment(e["at"]))


def _moment(value: str | None) -> datetime:
    """Sort key of a date or date-time text (a bare date sorts at the start of its day, UTC)."""
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value) if "T" in value else datetime.combine(date.fromisoformat(value), time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_archived_units(session: Session, text: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Sold units that keep a service archive (policy in force at their sale), filtered by serial, SO# or customer."""
    query = sa.select(SalesOrderLine).where(SalesOrderLine.serial_no.is_not(None)).order_by(SalesOrderLine.id.desc())
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(SalesOrderLine.serial_no.ilike(like))
    units = []
    for line in session.scalars(query.limit(limit * 4)):
        if line.serial_no and policy_in_force(session, line.product, line.sales_order.sale_date).archive_required:
            order = line.sales_order
            units.append(
                {
                    "serial_no": line.serial_no,
                    "product": {"code": line.product.code, "name": line.product.name},
                    "customer": {"code": order.customer.code, "name": order.customer.name},
                    "so_no": order.so_no,
                    "sale_date": json_value(order.sale_date),
                }
            )
    return units[:limit]
