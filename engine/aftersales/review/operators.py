"""§4.2–§4.6 operators: root cause, the review's plan decision (stops the §4.6 clock), the answer to the customer,
the supervisor's reason for a late plan, and the breach the §4.6 timer records."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.cases.service import get_case
from engine.aftersales.portal.customer import mail_answer
from engine.aftersales.review.billing import check_review_decision
from engine.aftersales.review.reminders import remind_undecided_plans
from engine.bpmn.catalog import Param
from engine.clock import in_the_future
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.user import Role

_DECISION_FIELDS = ("service_plan", "billing", "signed_original_location")
PROPOSAL = (
    Param("kind", "str", required=False, doc="the case kind (a parts claim gets parts only, §2.3)"),
    Param("product_category", "str", required=False, doc="§3.1 product type"),
    Param("allowed_plans", "list", required=False, doc="the DMN's allowed plans (§3.1)"),
    Param("proposed_billing", "str", required=False, doc="the DMN's proposed billing (§3.2)"),
    Param("cost_bearer", "str", required=False, doc="who bears the cost (§3.2)"),
)


def record_root_cause(call: Call, csi_id: int) -> None:
    """§4.2: the root cause and the responsible party come first, before the review."""
    csi = get_case(call.session, csi_id)
    csi.root_cause = call.form["root_cause"]
    csi.responsibility = call.form["responsibility"]
    csi.analysed_by = call.actor


def record_plan_decision(call: Call, csi_id: int, **proposal: Any) -> dict[str, Any]:
    """§4.4–§4.5: opinion, plan and billing enter the CSI (a change of the DMN proposal needs a reason); §4.6 stops.

    A review sent back to root-cause analysis (outcome `send_back`) decides nothing here: the model routes on the
    returned `review_outcome` and records the send-back with its own operator (record_send_back); the clock runs on.
    "No service" (plan `none`) is a decision and needs a reason code (unfounded, resolved by phone, out of scope).
    """
    form = call.form
    if form.get("outcome") == "send_back":
        return {"review_outcome": "send_back"}
    missing = {n: Problem("required", "this field is required") for n in _DECISION_FIELDS if not form.get(n)}
    if missing:  # the form's schema requires them unless the CSI is sent back
        raise InvalidInputError("the decision is incomplete", missing)
    check_review_decision({k: v for k, v in proposal.items() if v is not None}, form)
    csi = get_case(call.session, csi_id)
    csi.no_service_reason = form.get("no_service_reason") if list(form["service_plan"]) == ["none"] else None
    csi.review_form = form["review_form"]
    csi.review_opinion = form["opinion"]
    csi.service_plan = list(form["service_plan"])
    csi.signed_original_location = form["signed_original_location"]
    csi.billing = form["billing"]
    csi.cost_bearer = proposal.get("cost_bearer")
    csi.billing_override_reason = form.get("override_reason") or None
    csi.reviewed_by = call.actor
    csi.plan_decided_at = utcnow()
    return {"review_outcome": "decided"}


def record_send_back(call: Call, csi_id: int, note: str) -> None:
    """§4.2/§4.4: the supervisor sends the CSI back to root-cause analysis with a note; the §4.6 clock keeps running."""
    csi = get_case(call.session, csi_id)
    log_event(
        call.session,
        "csi.sent_back",
        actor=call.actor,
        csi_id=csi.id,
        instance_id=call.step.instance_id,
        message=note,
        data={"note": note},
    )


def record_customer_answer(call: Call, csi_id: int) -> None:
    """§4.6: the customer was told the decided plan; channel, time and summary are recorded."""
    csi = get_case(call.session, csi_id)
    csi.answer_channel = call.form["answer_channel"]
    answered_at = datetime.fromisoformat(call.form["answered_at"].replace("Z", "+00:00"))
    if in_the_future(answered_at):  # §4.6 records when the customer was told, not a plan
        raise InvalidInputError(
            "the answer time cannot be in the future", {"answered_at": Problem("future", "cannot be in the future")}
        )
    csi.answered_at = answered_at
    csi.plan_summary = call.form["plan_summary"]
    csi.answered_by = call.actor
    mail_answer(call.session, csi, actor=call.actor)  # §4.6: the customer's contact gets the plan by mail too


def record_sla_exception(call: Call, csi_id: int) -> None:
    """§4.6 "normally 3 working days": the supervisor records why this case took longer."""
    get_case(call.session, csi_id).sla_exception_reason = call.form["exception_reason"]


def record_sla_breach(call: Call, csi_id: int) -> dict[str, Any]:
    """§4.6: the plan was not decided within 3 working days; stamp the CSI once and put it on the timeline."""
    csi = get_case(call.session, csi_id)
    if csi.sla_breached_at is None:
        csi.sla_breached_at = utcnow()
        log_event(
            call.session,
            "sla.breached",
            actor="system",
            csi_id=csi.id,
            instance_id=call.step.instance_id,
            message=f"§4.6 plan not decided by {csi.plan_due_at.isoformat()}",
            data={"plan_due_at": csi.plan_due_at.isoformat()},
        )
        escalated = users_with_role(call.session, Role.SERVICE_SUPERVISOR.value)
        escalated += users_with_role(call.session, Role.SERVICE_DIRECTOR.value)  # the second level (issue 10)
        due = csi.plan_due_at.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
        params = {"key": csi.csi_no, "due": due}
        notify(call.session, escalated, "sla.breached", params, link=f"/cases/{csi.id}", dedupe=f"breach:{csi.id}")
    return {"recorded": True, "breached_at": csi.sla_breached_at.isoformat()}


def register(registry: Registry) -> None:
    """The review feature's operators."""
    registry.operator(
        "record_root_cause",
        params=(CSI_ID,),
        form_fields=("root_cause", "responsibility"),
        user_task_only=True,
        section="§4.2",
        doc="CSI: root cause, responsibility, analysed by.",
    )(record_root_cause)
    registry.operator(
        "record_plan_decision",
        params=(CSI_ID, *PROPOSAL),
        form_fields=("review_form", "opinion"),  # plan, billing and signed original: required unless sent back
        user_task_only=True,
        section="§4.4–§4.6",
        doc='CSI: review form, opinion, service plan ("none" with its reason code), billing, signed original; '
        "plan_decided_at stops the §4.6 clock; returns review_outcome (decided, or send_back: nothing decided).",
    )(record_plan_decision)
    registry.operator(
        "record_send_back",
        params=(CSI_ID, Param("note", "str", doc="why the review sends the CSI back (the review opinion)")),
        section="§4.2, §4.4",
        doc="Timeline: the CSI went back to root-cause analysis with the supervisor's note; the §4.6 clock runs on.",
    )(record_send_back)
    registry.operator(
        "record_customer_answer",
        params=(CSI_ID,),
        form_fields=("answer_channel", "answered_at", "plan_summary"),
        user_task_only=True,
        section="§4.6",
        doc="CSI: answer channel, answered at, plan summary.",
    )(record_customer_answer)
    registry.operator(
        "record_sla_exception",
        params=(CSI_ID,),
        form_fields=("exception_reason",),
        user_task_only=True,
        section="§4.6",
        doc="CSI: the supervisor's reason for a plan decided late.",
    )(record_sla_exception)
    registry.operator(
        "record_sla_breach",
        params=(CSI_ID,),
        section="§4.6",
        doc="CSI: sla_breached_at (once) and a timeline entry.",
    )(record_sla_breach)
    registry.add_job(remind_undecided_plans)
