"""§5.3–§5.8 operators: open a WO's visit round, record the visit (PSR, labour, POs, QAHRC0722C/0807C, supplier
claim), technical support before another round, and finish the round (the WO is done, the case woken)."""

from __future__ import annotations

from typing import Any

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.cases.service import get_case
from engine.aftersales.dispatch import documents
from engine.aftersales.dispatch.operators import WO_ID
from engine.aftersales.visits.service import cancel_terminated_round
from engine.aftersales.visits.service import case_instance_id
from engine.aftersales.visits.service import complete_work_order
from engine.aftersales.visits.service import get_work_order
from engine.aftersales.visits.service import open_round
from engine.bpmn.catalog import Param
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.user import Role

ESCALATE_AFTER_ROUNDS = 2  # technical support twice: the next visit is the third round, the director is told

VISIT_FIELDS = (
    "visit_date",
    "labour_hours",
    "work_performed",
    "outcome",
    "quality_problem_found",
    "old_parts",
    "satisfaction",
    "customer_signed_by",
)


def start_visit_round(call: Call, wo_id: int) -> dict[str, Any]:
    """§5.3: open the WO's next visit round as its own instance, for the WO's engineer."""
    work_order = get_work_order(call.session, wo_id)
    instance = open_round(call.step, work_order, case_instance_id(call.session, call.step.instance_id))
    return {"round_instance_id": instance.id, "round_no": work_order.rounds}


def finish_visit_round(call: Call, wo_id: int, another_round: bool) -> dict[str, Any]:
    """§5.8: after technical support another round starts; otherwise the WO is done and, with every WO of the case
    done, the case is woken."""
    work_order = get_work_order(call.session, wo_id)
    parent_id = case_instance_id(call.session, call.step.instance_id)
    if another_round:
        return {"next_round_instance_id": open_round(call.step, work_order, parent_id).id}
    complete_work_order(call.step, work_order, parent_id)
    return {"wo_completed": True}


def record_visit(call: Call, wo_id: int, round_no: int = 1) -> dict[str, Any]:
    """§5.3–§5.7: one visit's PSR, labour, POs, quality feedback, survey and supplier claim."""
    work_order = get_work_order(call.session, wo_id)
    return documents.record_visit(call.session, work_order, int(round_no), call.form, actor=call.actor)


def record_technical_support(call: Call, csi_id: int) -> None:
    """§5.8: technical support given and the next steps agreed with the customer; another visit follows."""
    csi = get_case(call.session, csi_id)
    csi.renegotiations = (csi.renegotiations or 0) + 1
    log_event(
        call.session,
        "csi.renegotiated",
        actor=call.actor,
        csi_id=csi.id,
        message=call.form["agreed_next_steps"],
        data=dict(call.form),
    )
    if csi.renegotiations >= ESCALATE_AFTER_ROUNDS:  # §5.8 "until the customer is satisfied": the second level hears
        people = users_with_role(call.session, Role.SERVICE_DIRECTOR.value)
        people += users_with_role(call.session, Role.SERVICE_SUPERVISOR.value)
        params = {"key": csi.csi_no, "rounds": csi.renegotiations + 1}
        link, dedupe = f"/cases/{csi.id}", f"escalated:{csi.id}:{csi.renegotiations}"
        notify(call.session, people, "case.escalated", params, link=link, dedupe=dedupe)


def register(registry: Registry) -> None:
    """The visits feature's operators."""
    registry.operator(
        "start_visit_round",
        params=(WO_ID,),
        section="§5.3",
        doc="WO: rounds + 1, in progress; starts a field_visit_round instance; returns round_instance_id, round_no.",
    )(start_visit_round)
    registry.operator(
        "finish_visit_round",
        params=(WO_ID, Param("another_round", "bool", doc="true: technical support agreed another visit (§5.8)")),
        section="§5.8",
        doc="WO: another round, or completed; the case is woken (work_orders_done) when all its WOs are done.",
    )(finish_visit_round)
    registry.operator(
        "record_visit",
        params=(WO_ID, Param("round_no", "int", required=False, doc="the visit round")),
        form_fields=VISIT_FIELDS,
        user_task_only=True,
        section="§5.3–§5.7",
        doc="PSR, WO labour, zero-price POs, QF (QAHRC0722C), survey (QAHRC0807C), supplier claim; "
        "returns psr_no, satisfied, supplier_claim_no.",
    )(record_visit)
    registry.operator(
        "record_technical_support",
        params=(CSI_ID,),
        form_fields=("support_given", "agreed_next_steps"),
        user_task_only=True,
        section="§5.8",
        doc="CSI: renegotiations + 1 and the agreed next steps on the timeline.",
    )(record_technical_support)
    registry.add_termination_hook(cancel_terminated_round)
