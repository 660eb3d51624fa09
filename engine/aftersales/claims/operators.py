"""§5.5–§5.6 operators: Engineering/QC closes a QAHRC0722C quality feedback, Sales handles a supplier claim."""

from __future__ import annotations

import sqlalchemy as sa

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.dispatch import documents
from engine.bpmn.catalog import Param
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.supplier_claim import SupplierClaim


def close_quality_feedback(call: Call, csi_id: int, psr_no: str | None = None) -> None:
    """§5.6: Engineering/QC investigated the QAHRC0722C feedback and set the corrective action."""
    query = sa.select(QualityFeedback).where(QualityFeedback.csi_id == int(csi_id))
    if psr_no:
        query = query.join(PSR, PSR.id == QualityFeedback.psr_id).where(PSR.psr_no == psr_no)
    feedback = call.session.scalars(query.order_by(QualityFeedback.id.desc())).first()
    if feedback is None:
        raise NotFoundError(Problem("feedback_missing", "no quality feedback for this visit"))
    form = call.form
    feedback.investigation = form["investigation"]
    feedback.corrective_action = form["corrective_action"]
    feedback.status = "closed" if form["disposition"] == "accepted" else "rejected"
    feedback.reviewed_by = call.actor
    feedback.closed_at = utcnow()
    log_event(
        call.session,
        "quality_feedback.closed",
        actor=call.actor,
        csi_id=feedback.csi_id,
        message=feedback.qf_no,
        data={"disposition": form["disposition"]},
    )


def update_supplier_claim(call: Call, supplier_claim_no: str) -> None:
    """§5.5: Sales handled the supplier quality claim raised from the CSI copy."""
    query = sa.select(SupplierClaim).where(SupplierClaim.sc_no == supplier_claim_no)
    claim = call.session.scalars(query).first()
    if claim is None:
        raise NotFoundError(
            Problem("record_missing", f"supplier claim {supplier_claim_no} does not exist", record=supplier_claim_no)
        )
    form = call.form
    claim.supplier = form["supplier"]
    claim.claim_amount = documents.money(form["claim_amount"])
    claim.status = form["outcome"]
    claim.notes = form.get("notes")
    claim.handled_by = call.actor
    if form["outcome"] != "submitted":
        claim.closed_at = utcnow()
    log_event(
        call.session,
        "supplier_claim.updated",
        actor=call.actor,
        csi_id=claim.csi_id,
        message=claim.sc_no,
        data={"outcome": form["outcome"], "claim_amount": str(claim.claim_amount)},
    )


def register(registry: Registry) -> None:
    """The claims feature's operators."""
    registry.operator(
        "close_quality_feedback",
        params=(CSI_ID, Param("psr_no", "str", required=False, doc="the visit's PSR (its QAHRC0722C)")),
        form_fields=("investigation", "corrective_action", "disposition"),
        user_task_only=True,
        section="§5.6",
        doc="QF (QAHRC0722C): investigation, corrective action; status closed or rejected.",
    )(close_quality_feedback)
    registry.operator(
        "update_supplier_claim",
        params=(Param("supplier_claim_no", "str", doc="the SC raised by the visit"),),
        form_fields=("supplier", "claim_amount", "outcome"),
        user_task_only=True,
        section="§5.5",
        doc="SC: supplier, claim amount, outcome, notes.",
    )(update_supplier_claim)
