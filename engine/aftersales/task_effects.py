"""What completing each user task writes into the records (the facts), keyed by the task's BPMN id.

An effect may return extra data for the process (ids and flags only, never copies of records), which is merged
into the task's completion data so gateways can branch on it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.dispatch import documents
from engine.aftersales.review.billing import check_review_decision
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.process import ProcessInstance
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.service_sales_order import ServiceSOType
from engine.records.supplier_claim import SupplierClaim
from engine.records.training_plan import TrainingPlan
from engine.records.work_order import WorkOrder

Extra = dict[str, Any] | None


@dataclass(frozen=True)
class EffectContext:
    """Where an effect runs: the step's session, the case, the instance, who acts and the task's process data."""

    session: Session
    csi: CSI
    instance: ProcessInstance
    actor: str
    process_data: Mapping[str, Any]

    def work_order(self) -> WorkOrder:
        """The WO of the round (or the one just issued in this case step)."""
        wo_id = self.process_data.get("wo_id") or self.instance.work_order_id
        work_order = self.session.get(WorkOrder, wo_id) if wo_id else None
        if work_order is None:
            raise NotFoundError("this task has no work order")
        return work_order


Effect = Callable[[EffectContext, Mapping[str, Any]], Extra]


def analyse_root_cause(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§4.2: the root cause and the responsible party come first, before the review."""
    ctx.csi.root_cause = data["root_cause"]
    ctx.csi.responsibility = data["responsibility"]
    ctx.csi.analysed_by = ctx.actor
    return None


def review_csi(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§4.4–§4.5: opinion, plan and billing enter the CSI (a change of the DMN proposal needs a reason); §4.6 stops."""
    check_review_decision(ctx.process_data, data)
    csi = ctx.csi
    csi.review_form = data["review_form"]
    csi.review_opinion = data["opinion"]
    csi.service_plan = list(data["service_plan"])
    csi.signed_original_location = data["signed_original_location"]
    csi.billing = data["billing"]
    csi.cost_bearer = ctx.process_data.get("cost_bearer")
    csi.billing_override_reason = data.get("override_reason") or None
    csi.reviewed_by = ctx.actor
    csi.plan_decided_at = utcnow()
    return None


def answer_customer(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§4.6: the customer was told the decided plan; channel, time and summary are recorded."""
    ctx.csi.answer_channel = data["answer_channel"]
    ctx.csi.answered_at = datetime.fromisoformat(data["answered_at"].replace("Z", "+00:00"))
    ctx.csi.plan_summary = data["plan_summary"]
    ctx.csi.answered_by = ctx.actor
    return None


def handle_overdue_plan(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§4.6 "normally 3 working days": the supervisor records why this case took longer."""
    ctx.csi.sla_exception_reason = data["exception_reason"]
    return None


def issue_parts_so(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.2: parts only, paid or free per billing, on an SO whose remarks name the CSI."""
    order = documents.create_service_so(
        ctx.session,
        so_type=ServiceSOType.PARTS_ONLY,
        csi_id=ctx.csi.id,
        billing=ctx.csi.billing or "free",
        lines=list(data["lines"]),
        remarks=data.get("remarks", ""),
        actor=ctx.actor,
    )
    return {"parts_so_no": order.so_no}


def _issue_wo(ctx: EffectContext, data: Mapping[str, Any], kind: str) -> Extra:
    work_order = documents.open_work_order(ctx.session, ctx.csi, data, kind=kind, actor=ctx.actor)
    if kind == "training":
        plan = _training_plan(ctx)
        plan.wo_id = work_order.id
    return {"wo_id": work_order.id, "wo_no": work_order.wo_no, "overseas_site": work_order.overseas_site}


def issue_work_order(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.3: a WO for field service; paid or partly paid service gets its fee SO linked (§5.4)."""
    return _issue_wo(ctx, data, "field_service")


def issue_training_work_order(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§6.3: training at the customer's site runs as a service job with a WO delivered by engineers."""
    return _issue_wo(ctx, data, "training")


def arrange_overseas_formalities(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§2.5: HR arranged visa, invitation and travel before the visit is scheduled."""
    work_order = ctx.work_order()
    work_order.formalities = {**dict(data), "arranged_by": ctx.actor, "arranged_at": utcnow().isoformat()}
    log_event(
        ctx.session, "wo.formalities", actor=ctx.actor, csi_id=ctx.csi.id, message=work_order.wo_no, data=dict(data)
    )
    return None


def field_visit(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.3–§5.7: one visit's PSR, labour, POs, quality feedback, survey and supplier claim."""
    round_no = int(ctx.process_data.get("round_no", 1))
    return documents.record_visit(ctx.session, ctx.work_order(), round_no, data, actor=ctx.actor)


def quality_feedback_review(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.6: Engineering/QC investigated the QAHRC0722C feedback and set the corrective action."""
    feedback = _feedback_of(ctx, ctx.process_data.get("psr_no"))
    feedback.investigation = data["investigation"]
    feedback.corrective_action = data["corrective_action"]
    feedback.status = "closed" if data["disposition"] == "accepted" else "rejected"
    feedback.reviewed_by = ctx.actor
    feedback.closed_at = utcnow()
    log_event(
        ctx.session,
        "quality_feedback.closed",
        actor=ctx.actor,
        csi_id=ctx.csi.id,
        message=feedback.qf_no,
        data={"disposition": data["disposition"]},
    )
    return None


def _feedback_of(ctx: EffectContext, psr_no: str | None) -> QualityFeedback:
    query = sa.select(QualityFeedback).where(QualityFeedback.csi_id == ctx.csi.id)
    if psr_no:
        query = query.join(PSR, PSR.id == QualityFeedback.psr_id).where(PSR.psr_no == psr_no)
    feedback = ctx.session.scalars(query.order_by(QualityFeedback.id.desc())).first()
    if feedback is None:
        raise NotFoundError("no quality feedback for this visit")
    return feedback


def supplier_claim(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.5: Sales handled the supplier quality claim raised from the CSI copy."""
    number = ctx.process_data.get("supplier_claim_no")
    claim = ctx.session.scalars(sa.select(SupplierClaim).where(SupplierClaim.sc_no == number)).first()
    if claim is None:
        raise NotFoundError(f"supplier claim {number} does not exist")
    claim.supplier = data["supplier"]
    claim.claim_amount = documents.money(data["claim_amount"])
    claim.status = data["outcome"]
    claim.notes = data.get("notes")
    claim.handled_by = ctx.actor
    if data["outcome"] != "submitted":
        claim.closed_at = utcnow()
    log_event(
        ctx.session,
        "supplier_claim.updated",
        actor=ctx.actor,
        csi_id=ctx.csi.id,
        message=claim.sc_no,
        data={"outcome": data["outcome"], "claim_amount": str(claim.claim_amount)},
    )
    return None


def technical_support(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§5.8: technical support given and the next steps agreed with the customer; another visit follows."""
    ctx.csi.renegotiations = (ctx.csi.renegotiations or 0) + 1
    log_event(
        ctx.session,
        "csi.renegotiated",
        actor=ctx.actor,
        csi_id=ctx.csi.id,
        message=data["agreed_next_steps"],
        data=dict(data),
    )
    return None


def _training_plan(ctx: EffectContext) -> TrainingPlan:
    plan = ctx.session.scalars(
        sa.select(TrainingPlan).where(TrainingPlan.csi_id == ctx.csi.id).order_by(TrainingPlan.id.desc())
    ).first()
    if plan is None:
        raise NotFoundError("the case has no training plan")
    return plan


def plan_training(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§6.1–§6.3: the training plan from the product's syllabus, at the company or at the customer's site."""
    plan = documents.create_training_plan(ctx.session, ctx.csi, data, actor=ctx.actor)
    return {"training_plan_no": plan.tp_no, "training_location": plan.location}


def deliver_training(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§6.2: training at the company's site was delivered; attendance and evaluation recorded."""
    plan = _training_plan(ctx)
    plan.delivered_date = date.fromisoformat(data["delivered_date"])
    plan.attendance = int(data["attendance"])
    plan.evaluation = data["evaluation"]
    plan.status = "delivered"
    log_event(ctx.session, "training.delivered", actor=ctx.actor, csi_id=ctx.csi.id, message=plan.tp_no)
    return None


def close_case(ctx: EffectContext, data: Mapping[str, Any]) -> Extra:
    """§2.2, §4.5: the case is closed with the filing location of its service archive and signed originals."""
    ctx.csi.archive_location = data["archive_location"]
    ctx.csi.closing_notes = data.get("closing_notes")
    ctx.csi.closed_at = utcnow()
    ctx.csi.status = CSIStatus.CLOSED.value
    return None


TASK_EFFECTS: Mapping[str, Effect] = {
    "analyse_root_cause": analyse_root_cause,
    "review_csi": review_csi,
    "answer_customer": answer_customer,
    "handle_overdue_plan": handle_overdue_plan,
    "issue_parts_so": issue_parts_so,
    "issue_work_order": issue_work_order,
    "issue_training_work_order": issue_training_work_order,
    "arrange_overseas_formalities": arrange_overseas_formalities,
    "field_visit": field_visit,
    "quality_feedback_review": quality_feedback_review,
    "supplier_claim": supplier_claim,
    "technical_support": technical_support,
    "plan_training": plan_training,
    "deliver_training": deliver_training,
    "close_case": close_case,
}
