"""What the after-sales application requires of the processes it starts and wakes: a deploy that breaks one of
these is refused naming the binding and its section (DESIGN.md "The model is the truth").

Registration starts `after_sales_case`; `start_visit_round` starts `field_visit_round`; a round wakes the case with
the message `work_orders_done`; a raised supplier claim starts `supplier_claim` (§5.5). Task ids are free: only the
operators and messages the regulation depends on are bound.
"""

from __future__ import annotations

from engine.aftersales.claims.service import CLAIM_PROCESS_ID
from engine.aftersales.intake.service import CASE_PROCESS_ID
from engine.aftersales.visits.service import DONE_MESSAGE
from engine.aftersales.visits.service import ROUND_PROCESS_ID
from engine.bpmn.catalog import BindingSpec
from engine.platform.registry import Registry

PLAN_PROCESS_ID = "decide_service_plan"  # called by the case; needs the case's data

BINDINGS = (
    BindingSpec(
        name="plan decision",
        process_id=CASE_PROCESS_ID,
        section="§4.4–§4.6",
        reason="the review must record the plan decision, which stops the §4.6 clock",
        operators=("record_plan_decision",),
    ),
    BindingSpec(
        name="§4.6 breach",
        process_id=CASE_PROCESS_ID,
        section="§4.6",
        reason="a plan not decided within 3 working days must be recorded as a breach",
        operators=("record_sla_breach",),
    ),
    BindingSpec(
        name="answer to the customer",
        process_id=CASE_PROCESS_ID,
        section="§4.6",
        reason="the customer must be answered with the decided plan",
        operators=("record_customer_answer",),
    ),
    BindingSpec(
        name="case closure",
        process_id=CASE_PROCESS_ID,
        section="§2.2, §4.5",
        reason="the case must be closed with the filing location of its service archive",
        operators=("record_case_closure",),
    ),
    BindingSpec(
        name="visit rounds",
        process_id=CASE_PROCESS_ID,
        section="§5.3, §5.8",
        reason="field service runs as visit rounds, and the case waits until its work orders are done",
        operators=("start_visit_round",),
        messages=(DONE_MESSAGE,),
    ),
    BindingSpec(
        name="visit report",
        process_id=ROUND_PROCESS_ID,
        section="§5.3–§5.7",
        reason="each visit must file its PSR, labour, POs, survey and quality feedback",
        operators=("record_visit",),
    ),
    BindingSpec(
        name="round end",
        process_id=ROUND_PROCESS_ID,
        section="§5.8",
        reason="a round must finish its WO or start the next round until the customer is satisfied",
        operators=("finish_visit_round",),
    ),
    BindingSpec(
        name="supplier claim",
        process_id=CLAIM_PROCESS_ID,
        section="§5.5",
        reason="Sales must submit the claim to a supplier of the master, record its answer and settle it",
        operators=("submit_supplier_claim", "record_supplier_answer", "settle_supplier_claim"),
    ),
)


def register(registry: Registry) -> None:
    """Declare the bindings, and that the application starts its processes itself."""
    for binding in BINDINGS:
        registry.add_binding(binding)
    registry.add_own_start(CASE_PROCESS_ID, "register the request as a case (POST /api/v1/cases, §4.1–§4.2)")
    registry.add_own_start(ROUND_PROCESS_ID, "a work order's visit round starts from its case (§5.3)")
    registry.add_own_start(
        CLAIM_PROCESS_ID, "raise the claim on its case (POST /api/v1/cases/{id}/supplier-claims) or from a visit (§5.5)"
    )
    registry.add_own_start(PLAN_PROCESS_ID, "it runs inside a case, called by after_sales_case (§4.2–§4.6)")
