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
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.user import Role

PROPOSE_END = "propose_end"  # technical support's outcome: end the service the customer will not accept (§5.8)
APPROVE = "approve"
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


def record_technical_support(call: Call, csi_id: int) -> dict[str, Any]:
    """§5.8: technical support given and either the next steps agreed with the customer (another visit follows) or,
    when the customer will never agree, a proposal to end the service, with its reason, for the director.

    :raises InvalidInputError: the agreed next steps or the reason for ending missing (nothing written).
    """
    csi = get_case(call.session, csi_id)
    form = call.form
    if form.get("support_outcome") == PROPOSE_END:
        reason = str(form.get("end_reason") or "").strip()
        if not reason:
            raise InvalidInputError(
                "say why the service should end (§5.8)", {"end_reason": Problem("required", "required")}
            )
        csi.renegotiations = (csi.renegotiations or 0) + 1
        log_event(
            call.session,
            "csi.end_proposed",
            actor=call.actor,
            csi_id=csi.id,
            message=reason,
            data=dict(form),
        )
        proposal = {"key": csi.csi_no, "who": call.actor, "reason": reason}
        directors = users_with_role(call.session, Role.SERVICE_DIRECTOR.value)
        notify(
            call.session,
            directors,
            "case.end_proposed",
            proposal,
            link=f"/cases/{csi.id}",
            dedupe=f"end:{csi.id}:{csi.renegotiations}",
        )
        return {"end_proposed": True, "end_proposed_by": call.actor}
    if not str(form.get("agreed_next_steps") or "").strip():
        raise InvalidInputError(
            "agree the next steps with the customer (§5.8)", {"agreed_next_steps": Problem("required", "required")}
        )
    csi.renegotiations = (csi.renegotiations or 0) + 1
    log_event(
        call.session,
        "csi.renegotiated",
        actor=call.actor,
        csi_id=csi.id,
        message=form["agreed_next_steps"],
        data=dict(form),
    )
    if csi.renegotiations >= ESCALATE_AFTER_ROUNDS:  # §5.8 "until the customer is satisfied": the second level hears
        people = users_with_role(call.session, Role.SERVICE_DIRECTOR.value)
        people += users_with_role(call.session, Role.SERVICE_SUPERVISOR.value)
        params = {"key": csi.csi_no, "rounds": csi.renegotiations + 1}
        link, dedupe = f"/cases/{csi.id}", f"escalated:{csi.id}:{csi.renegotiations}"
        notify(call.session, people, "case.escalated", params, link=link, dedupe=dedupe)
    return {"end_proposed": False}


def record_neutral_decision(call: Call, csi_id: int) -> None:
    """§5.8: the customer was neutral (neither satisfied nor dissatisfied): the service manager decides, with a
    note, whether the service goes on with technical support or ends here; who decided and why go on the timeline.

    :raises InvalidInputError: no note (nothing written).
    """
    csi = get_case(call.session, csi_id)
    note = str(call.form.get("decision_note") or "").strip()
    if not note:
        raise InvalidInputError("say why (§5.8)", {"decision_note": Problem("required", "required")})
    decision = call.form["neutral_decision"]
    log_event(
        call.session,
        "csi.neutral_decided",
        actor=call.actor,
        csi_id=csi.id,
        message=note,
        data={"decision": decision, "note": note},
    )


def decide_end_of_service(call: Call, csi_id: int, wo_id: int, end_reason: str, end_proposed_by: str) -> dict[str, Any]:
    """§5.8: the service director approves (with a note) or rejects ending the service the customer will not accept;
    approved, the CSI records the end (reason, proposed by, approved by, when); rejected, another round follows.

    :raises PermissionDeniedError: the director approving their own proposal. :raises InvalidInputError: no note.
    """
    if call.actor == end_proposed_by:
        raise PermissionDeniedError(
            Problem("own_proposal", "the proposal to end the service needs another person's approval (§5.8)")
        )
    note = str(call.form.get("director_note") or "").strip()
    if not note:
        raise InvalidInputError("say why (§5.8)", {"director_note": Problem("required", "required")})
    csi = get_case(call.session, csi_id)
    approved = call.form["director_decision"] == APPROVE
    if not approved:
        log_event(
            call.session,
            "csi.end_rejected",
            actor=call.actor,
            csi_id=csi.id,
            message=note,
            data={"reason": end_reason, "proposed_by": end_proposed_by, "note": note},
        )
        return {"end_approved": False}
    work_order = get_work_order(call.session, wo_id)
    csi.service_end = {
        "reason": end_reason,
        "proposed_by": end_proposed_by,
        "approved_by": call.actor,
        "approved_at": utcnow().isoformat(),
        "note": note,
        "wo_no": work_order.wo_no,
    }
    log_event(
        call.session,
        "csi.service_ended_unaccepted",
        actor=call.actor,
        csi_id=csi.id,
        message=end_reason,
        data=dict(csi.service_end),
    )
    return {"end_approved": True}


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
        form_fields=("support_given",),
        user_task_only=True,
        section="§5.8",
        doc="CSI: renegotiations + 1; the agreed next steps, or a proposal to end the service (director told), on "
        "the timeline; returns end_proposed, end_proposed_by.",
    )(record_technical_support)
    registry.operator(
        "record_neutral_decision",
        params=(CSI_ID,),
        form_fields=("neutral_decision", "decision_note"),
        user_task_only=True,
        section="§5.8",
        doc="Timeline: the service manager's decision on a neutral customer (continue or end) and why.",
    )(record_neutral_decision)
    registry.operator(
        "decide_end_of_service",
        params=(
            CSI_ID,
            WO_ID,
            Param("end_reason", "str", doc="why the service should end (technical support's proposal)"),
            Param("end_proposed_by", "str", doc="who proposed it; may not approve it"),
        ),
        form_fields=("director_decision", "director_note"),
        user_task_only=True,
        section="§5.8",
        doc="CSI: service ended without the customer's agreement (approved) or the rejection on the timeline; "
        "returns end_approved.",
    )(decide_end_of_service)
    registry.add_termination_hook(cancel_terminated_round)
