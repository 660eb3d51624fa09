"""§5.5–§5.6 operators: Engineering/QC closes a QAHRC0722C quality feedback; a supplier claim starts its own process
and Sales submits it, records the supplier's answer and the settlement (§5.5)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.claims import service
from engine.aftersales.dispatch import documents
from engine.aftersales.visits.service import case_instance_id
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


def start_supplier_claim(call: Call, supplier_claim_no: str) -> dict[str, Any]:
    """§5.5: start the claim's own process for Sales beside the case; the caller does not wait for it."""
    claim = service.get_claim(call.session, supplier_claim_no)
    if call.step.runtime is None:
        raise RuntimeError("a claim process is started only inside an engine step")
    instance = service.start_claim_process(
        call.session,
        call.step.runtime,
        claim,
        actor=call.actor,
        calendar=call.step.calendar,
        parent_id=case_instance_id(call.session, call.step.instance_id),
    )
    return {"claim_instance_id": instance.id}


def submit_supplier_claim(call: Call, supplier_claim_no: str) -> dict[str, Any]:
    """§5.5: Sales sent the claim to a supplier of the master."""
    claim = service.get_claim(call.session, supplier_claim_no)
    service.submit(call.session, claim, call.form, actor=call.actor)
    return {"claim_status": claim.status}


def record_supplier_answer(call: Call, supplier_claim_no: str) -> dict[str, Any]:
    """§5.5: the supplier accepted, partly accepted or rejected the claim."""
    claim = service.get_claim(call.session, supplier_claim_no)
    return {"claim_status": service.record_answer(call.session, claim, call.form, actor=call.actor)}


def settle_supplier_claim(call: Call, supplier_claim_no: str) -> dict[str, Any]:
    """§5.5: the accepted claim is settled (credit note, replacement or payment) and closed."""
    claim = service.get_claim(call.session, supplier_claim_no)
    service.settle(call.session, claim, call.form, actor=call.actor)
    return {"claim_status": claim.status}


def update_supplier_claim(call: Call, supplier_claim_no: str) -> None:
    """§5.5: Sales handled the supplier quality claim raised from the CSI copy (one-shot task of field_visit_round
    versions before the claim process; kept so their running instances finish). A claim left `submitted` goes on
    in the claim process, so Sales can record the supplier's answer and the settlement."""
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
    if claim.closed_at is None and call.step.runtime is not None:
        parent_id = case_instance_id(call.session, call.step.instance_id)
        service.start_claim_process(
            call.session, call.step.runtime, claim, actor=call.actor, calendar=call.step.calendar, parent_id=parent_id
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
    claim_no = Param("supplier_claim_no", "str", doc="the SC (supplier claim number)")
    registry.operator(
        "start_supplier_claim",
        params=(claim_no,),
        section="§5.5",
        doc="starts a supplier_claim instance for the SC beside the case (not waited for); returns claim_instance_id.",
    )(start_supplier_claim)
    registry.operator(
        "submit_supplier_claim",
        params=(claim_no,),
        form_fields=("supplier_code", "claim_amount", "reference_sent"),
        user_task_only=True,
        section="§5.5",
        doc="SC: supplier of the master, parts, claimed amount, reference sent; status submitted.",
    )(submit_supplier_claim)
    registry.operator(
        "record_supplier_answer",
        params=(claim_no,),
        form_fields=("supplier_answer",),
        user_task_only=True,
        section="§5.5",
        doc="SC: accepted / partly_accepted (accepted amount ≤ claimed) / rejected (reason; closed); "
        "returns claim_status.",
    )(record_supplier_answer)
    registry.operator(
        "settle_supplier_claim",
        params=(claim_no,),
        form_fields=("recovered_amount", "settled_on", "settlement_kind", "settlement_reference"),
        user_task_only=True,
        section="§5.5",
        doc="SC: recovered amount, settlement date, kind and reference; status settled, closed.",
    )(settle_supplier_claim)
    registry.add_termination_hook(service.close_terminated_claim)
    registry.operator(
        "update_supplier_claim",
        params=(Param("supplier_claim_no", "str", doc="the SC raised by the visit"),),
        form_fields=("supplier", "claim_amount", "outcome"),
        user_task_only=True,
        section="§5.5",
        doc="SC: supplier, claim amount, outcome, notes.",
    )(update_supplier_claim)
