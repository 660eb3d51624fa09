"""The §5 document chain: service SO, WO, PSR, zero-price PO, QAHRC0722C, QAHRC0807C and supplier claims.

Every creator checks its links first (no SO without its CSI, no fee SO without its WO, no PO without PRJ# = an
existing WO of the same CSI) and raises InvalidInputError naming the field; nothing is written on refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.dispatch.parts import check_part_numbers
from engine.aftersales.policies.service import current_syllabus
from engine.aftersales.portal.customer import offer_survey
from engine.aftersales.visits.lifecycle import check_work_order_form
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.master import Product
from engine.records.numbering import next_number
from engine.records.psr import PSR
from engine.records.quality import DISSATISFIED
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.service_purchase import ServicePurchase
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.service_sales_order import ServiceSOType
from engine.records.supplier_claim import SupplierClaim
from engine.records.training_plan import TrainingPlan
from engine.records.work_order import MAX_MONEY
from engine.records.work_order import WorkOrder

PAID = ("paid", "partly_paid")

LATEST_OFFSET = timedelta(hours=14)  # UTC+14: the earliest calendar on earth, so no local today is the future


def _number(session: Session, prefix: str) -> str:
    return next_number(session, prefix, utcnow().astimezone(ZoneInfo(BUSINESS_TIMEZONE)).year)


def money(value: Any) -> Decimal:
    """A money or hours value with two decimals (forms send floats; records keep Decimal)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _log(session: Session, event: str, csi_id: int, actor: str, number: str, **data: Any) -> None:
    log_event(session, event, actor=actor, csi_id=csi_id, message=number, data={"number": number, **data})


def create_service_so(
    session: Session,
    *,
    so_type: ServiceSOType,
    csi_id: int | None,
    wo_id: int | None = None,
    billing: str,
    lines: list[dict[str, Any]] | None = None,
    amount: Decimal | None = None,
    remarks: str = "",
    actor: str,
) -> ServiceSalesOrder:
    """Issue a service SO whose remarks name the CSI (§5.2); a fee SO must name its WO (§5.4).

    :raises InvalidInputError: no CSI, unknown CSI, fee SO without a WO of that CSI.
    """
    csi = session.get(CSI, csi_id) if csi_id is not None else None
    if csi is None:
        raise InvalidInputError(
            "a service SO must rest on a CSI (§5.2)",
            {"csi": Problem("so_needs_csi", "no CSI given or it does not exist")},
        )
    work_order = session.get(WorkOrder, wo_id) if wo_id is not None else None
    if so_type == ServiceSOType.SERVICE_FEE and (work_order is None or work_order.csi_id != csi.id):
        raise InvalidInputError("a fee SO must be linked to its WO (§5.4)", {"wo": "no WO of this CSI given"})
    lines = lines or []
    if so_type == ServiceSOType.PARTS_ONLY:
        check_part_numbers(session, lines, "lines")  # §5.2: parts from the parts master only
    total = amount if amount is not None else sum((money(x["unit_price"]) * int(x["qty"]) for x in lines), Decimal("0"))
    if billing not in PAID and so_type == ServiceSOType.PARTS_ONLY:
        total = Decimal("0")  # free parts are still issued on an SO, at price 0 (§5.2 "paid or free")
    if money(total) > MAX_MONEY:  # each line is bounded by its form; their sum must fit the SO's amount too
        raise InvalidInputError(
            f"the SO's total {money(total)} is above {MAX_MONEY}",
            {"lines": Problem("range", f"the total must not exceed {MAX_MONEY}", limit=str(MAX_MONEY))},
        )
    wo_note = f" WO: {work_order.wo_no}" if work_order is not None else ""
    order = ServiceSalesOrder(
        so_no=_number(session, "SO"),
        so_type=so_type.value,
        csi_id=csi.id,
        wo_id=work_order.id if work_order else None,
        billing=billing,
        amount=money(total),
        lines=lines,
        remarks=f"CSI: {csi.csi_no}{wo_note} {remarks}".strip()[:1000],
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(order)
    session.flush()
    _log(
        session,
        "so.issued",
        csi.id,
        actor,
        order.so_no,
        so_type=order.so_type,
        amount=str(order.amount),
        wo=work_order.wo_no if work_order else None,
    )
    return order


def open_work_order(session: Session, csi: CSI, form: Mapping[str, Any], *, kind: str, actor: str) -> WorkOrder:
    """Issue a WO (§5.3; §6.3 for training); paid or partly paid service also gets its fee SO linked (§5.4).

    :raises InvalidInputError: paid service without a fee amount; engineers who are not active service engineers, a
        past planned date without a reason, a labour rate of 0 (issue 9).
    """
    check_work_order_form(session, form)
    billing = csi.billing or "free"
    fee = form.get("fee_amount")
    if billing in PAID and kind == "field_service" and fee is None:
        raise InvalidInputError(
            "paid service needs its fee (§5.4)", {"fee_amount": Problem("required", "required when billing is paid")}
        )
    work_order = WorkOrder(
        wo_no=_number(session, "WO"),
        csi_id=csi.id,
        kind=kind,
        site=form["site"],
        overseas_site=bool(form.get("overseas_site", False)),
        planned_date=date.fromisoformat(form["planned_date"]),
        engineers=list(form["engineers"]),
        labour_rate=money(form["labour_rate"]),
        billing=billing,
        fee_amount=money(fee) if fee is not None else None,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(work_order)
    session.flush()
    _log(
        session,
        "wo.issued",
        csi.id,
        actor,
        work_order.wo_no,
        kind=kind,
        engineers=work_order.engineers,
        planned_date_reason=form.get("planned_date_reason") or None,
    )
    if billing in PAID and work_order.fee_amount is not None:
        create_service_so(
            session,
            so_type=ServiceSOType.SERVICE_FEE,
            csi_id=csi.id,
            wo_id=work_order.id,
            billing=billing,
            amount=work_order.fee_amount,
            remarks="field service fee",
            actor=actor,
        )
    return work_order


def fee_order(session: Session, work_order: WorkOrder) -> ServiceSalesOrder | None:
    """The fee SO linked to a WO (§5.4), if any."""
    query = sa.select(ServiceSalesOrder).where(
        ServiceSalesOrder.wo_id == work_order.id, ServiceSalesOrder.so_type == ServiceSOType.SERVICE_FEE.value
    )
    return session.scalars(query).first()


def create_zero_price_po(
    session: Session,
    *,
    prj_no: str,
    csi_id: int,
    purpose: str,
    lines: list[dict[str, Any]],
    actor: str,
    psr_id: int | None = None,
) -> ServicePurchase:
    """Issue a zero-price PO whose PRJ# is the WO number and whose remarks carry the CSI (§5.5).

    :raises InvalidInputError: PRJ# is not an existing WO, or that WO belongs to another CSI.
    """
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.wo_no == prj_no)).first()
    if work_order is None:
        raise InvalidInputError("PRJ# must be an existing WO number (§5.5)", {"prj_no": f"no WO {prj_no!r}"})
    csi = session.get(CSI, csi_id)
    if csi is None or work_order.csi_id != csi.id:
        raise InvalidInputError("the PO's CSI must be its WO's CSI (§5.5)", {"csi": "does not match the WO"})
    purchase = ServicePurchase(
        po_no=_number(session, "PO"),
        prj_no=work_order.wo_no,
        wo_id=work_order.id,
        csi_id=csi.id,
        psr_id=psr_id,
        purpose=purpose,
        lines=lines,
        total_price=Decimal("0"),
        remarks=f"CSI: {csi.csi_no}",
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(purchase)
    session.flush()
    _log(session, "po.issued", csi.id, actor, purchase.po_no, prj_no=purchase.prj_no, purpose=purpose)
    return purchase


def record_visit(
    session: Session, work_order: WorkOrder, round_no: int, form: Mapping[str, Any], *, actor: str
) -> dict[str, Any]:
    """Record one visit (§5.3–§5.7): PSR, labour on the WO, POs, QAHRC0722C, QAHRC0807C and a supplier claim.

    Returns the flags the round's process needs (`satisfied`, `supplier_claim_no`, `psr_no`, ...).
    """
    csi = session.get(CSI, work_order.csi_id)
    if csi is None:
        raise NotFoundError(f"CSI of {work_order.wo_no} does not exist")
    if form.get("quality_problem_found") and not form.get("quality_problem_description"):
        raise InvalidInputError(
            "describe the quality problem (§5.6)",
            {"quality_problem_description": Problem("required", "required when a quality problem was found")},
        )
    check_part_numbers(session, list(form.get("parts_used", [])), "parts_used")  # §5.3/§5.5: known parts only
    visit_date = date.fromisoformat(form["visit_date"])
    if visit_date > (utcnow() + LATEST_OFFSET).date():  # §5.3: a visit made, dated where the engineer is (§2.5)
        raise InvalidInputError(
            "the visit date cannot be in the future", {"visit_date": Problem("future", "cannot be in the future")}
        )
    hours = money(form["labour_hours"])
    psr = PSR(
        psr_no=_number(session, "PSR"),
        wo_id=work_order.id,
        csi_id=csi.id,
        round_no=round_no,
        engineer=actor,
        visit_date=visit_date,
        labour_hours=hours,
        work_performed=form["work_performed"],
        parts_used=list(form.get("parts_used", [])),
        outcome=form["outcome"],
        old_parts=form["old_parts"],
        quality_problem_found=bool(form["quality_problem_found"]),
        customer_opinions=form.get("customer_opinions", ""),
        satisfaction=form["satisfaction"],
        customer_signed_by=form["customer_signed_by"],
        created_at=utcnow(),
    )
    session.add(psr)
    session.flush()
    work_order.labour_hours = Decimal(work_order.labour_hours or 0) + hours
    _log(
        session,
        "psr.filed",
        csi.id,
        actor,
        psr.psr_no,
        wo=work_order.wo_no,
        outcome=psr.outcome,
        labour_hours=str(hours),
        labour_cost=str(work_order.labour_cost),
    )
    _purchases_for_visit(session, work_order, csi, psr, actor)
    survey = _survey(session, work_order, csi, psr, form, actor)
    offer_survey(session, csi, work_order, psr, actor=actor)  # §5.7: the customer may answer QAHRC0807C too
    if psr.quality_problem_found:
        _quality_feedback(session, work_order, csi, psr, form["quality_problem_description"], actor)
    claim = _supplier_claim(session, work_order, csi, psr, actor) if _claim_needed(csi, psr) else None
    return {
        "psr_no": psr.psr_no,
        "satisfied": not survey.dissatisfied,
        "supplier_claim_no": claim.sc_no if claim else None,
    }


def _purchases_for_visit(session: Session, work_order: WorkOrder, csi: CSI, psr: PSR, actor: str) -> None:
    bought = [p for p in psr.parts_used if p.get("source") == "bought"]
    if bought:
        create_zero_price_po(
            session,
            prj_no=work_order.wo_no,
            csi_id=csi.id,
            purpose="buy_parts",
            lines=bought,
            actor=actor,
            psr_id=psr.id,
        )
    if psr.old_parts == "recovered":
        recovered = [{"part_no": p["part_no"], "qty": p["qty"], "old_part": True} for p in psr.parts_used] or [
            {"part_no": "old part", "qty": 1, "old_part": True}
        ]
        create_zero_price_po(
            session,
            prj_no=work_order.wo_no,
            csi_id=csi.id,
            purpose="recover_old_parts",
            lines=recovered,
            actor=actor,
            psr_id=psr.id,
        )


def _survey(
    session: Session, work_order: WorkOrder, csi: CSI, psr: PSR, form: Mapping[str, Any], actor: str
) -> SatisfactionSurvey:
    survey = SatisfactionSurvey(
        sv_no=_number(session, "SV"),
        csi_id=csi.id,
        wo_id=work_order.id,
        psr_id=psr.id,
        satisfaction=psr.satisfaction,
        dissatisfied=psr.satisfaction in DISSATISFIED,
        opinions=form.get("customer_opinions", ""),
        filed_by=actor,
        filed_at=utcnow(),
    )
    session.add(survey)
    session.flush()
    _log(
        session,
        "survey.filed",
        csi.id,
        actor,
        survey.sv_no,
        satisfaction=survey.satisfaction,
        dissatisfied=survey.dissatisfied,
    )
    return survey


def _quality_feedback(
    session: Session, work_order: WorkOrder, csi: CSI, psr: PSR, description: str, actor: str
) -> QualityFeedback:
    feedback = QualityFeedback(
        qf_no=_number(session, "QF"),
        csi_id=csi.id,
        wo_id=work_order.id,
        psr_id=psr.id,
        description=description,
        filed_by=actor,
        filed_at=utcnow(),
    )
    session.add(feedback)
    session.flush()
    _log(session, "quality_feedback.filed", csi.id, actor, feedback.qf_no, form="QAHRC0722C")
    return feedback


def _claim_needed(csi: CSI, psr: PSR) -> bool:
    """§5.5: a part that cannot be recovered, where the supplier is responsible, is claimed via Sales."""
    return psr.old_parts == "unrecoverable" and csi.responsibility == "supplier"


def _supplier_claim(session: Session, work_order: WorkOrder, csi: CSI, psr: PSR, actor: str) -> SupplierClaim:
    parts = [{"part_no": p["part_no"], "qty": p["qty"]} for p in psr.parts_used if p.get("part_no")]
    return raise_supplier_claim(session, csi, actor=actor, work_order=work_order, psr=psr, parts=parts)


def raise_supplier_claim(
    session: Session,
    csi: CSI,
    *,
    actor: str,
    work_order: WorkOrder | None = None,
    psr: PSR | None = None,
    parts: list[dict[str, Any]] | None = None,
    reason: str | None = None,
) -> SupplierClaim:
    """§5.5: the Service Department raises a supplier claim (SC) with an immutable snapshot of the CSI and copies it
    to Sales; from a visit (its WO and PSR) or from any case whose part cannot be recovered."""
    claim = SupplierClaim(
        sc_no=_number(session, "SC"),
        csi_id=csi.id,
        wo_id=work_order.id if work_order is not None else None,
        psr_id=psr.id if psr is not None else None,
        csi_snapshot=csi.facts(),
        parts=parts or None,
        reason=reason,
        raised_by=actor,
        created_at=utcnow(),
    )
    session.add(claim)
    session.flush()
    _log(session, "supplier_claim.raised", csi.id, actor, claim.sc_no, note="CSI copied to Sales (§5.5)")
    return claim


def check_syllabus_modules(session: Session, csi: CSI, modules: list[str], field: str) -> int | None:
    """§6.1: training modules must come from the product's current syllabus (by code or title) when one exists;
    returns the syllabus version checked against.

    :raises InvalidInputError: a module not in the syllabus, naming `field`.
    """
    syllabus = None
    if csi.product_code:
        product = session.scalars(sa.select(Product).where(Product.code == csi.product_code)).first()
        syllabus = current_syllabus(session, product) if product is not None else None
    if syllabus is None:
        return None
    known = {str(m.get("code")) for m in syllabus.modules} | {str(m.get("title")) for m in syllabus.modules}
    unknown = [m for m in modules if m not in known]
    if unknown:
        raise InvalidInputError(
            "modules must come from the product's syllabus (§6.1)",
            {field: Problem("not_in_syllabus", "not in the syllabus: " + ", ".join(unknown), modules=unknown)},
        )
    return int(syllabus.version)


def create_training_plan(session: Session, csi: CSI, form: Mapping[str, Any], *, actor: str) -> TrainingPlan:
    """§6.1–§6.3: a training plan; its modules must come from the product's current syllabus when one exists.

    :raises InvalidInputError: a module not in the syllabus.
    """
    modules = list(form["modules"])
    syllabus_version = check_syllabus_modules(session, csi, modules, "modules")
    plan = TrainingPlan(
        tp_no=_number(session, "TP"),
        csi_id=csi.id,
        location=form["training_location"],
        planned_date=date.fromisoformat(form["planned_date"]),
        trainees=int(form["trainees"]),
        modules=modules,
        syllabus_version=syllabus_version,
        planned_by=actor,
        created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    _log(session, "training.planned", csi.id, actor, plan.tp_no, location=plan.location)
    return plan


def latest_training_plan(session: Session, csi_id: int) -> TrainingPlan:
    """The case's newest training plan (§6).

    :raises NotFoundError: the case has no training plan.
    """
    query = sa.select(TrainingPlan).where(TrainingPlan.csi_id == csi_id).order_by(TrainingPlan.id.desc())
    plan = session.scalars(query).first()
    if plan is None:
        raise NotFoundError("the case has no training plan")
    return plan
