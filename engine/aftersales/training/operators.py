"""§6 operators: the training plan from the product's syllabus, and training delivered at the company's site."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.cases.service import get_case
from engine.aftersales.dispatch import documents
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event


def create_training_plan(call: Call, csi_id: int) -> dict[str, Any]:
    """§6.1–§6.3: the training plan from the product's syllabus, at the company or at the customer's site."""
    plan = documents.create_training_plan(call.session, get_case(call.session, csi_id), call.form, actor=call.actor)
    return {"training_plan_no": plan.tp_no, "training_location": plan.location}


def record_training_delivery(call: Call, csi_id: int) -> None:
    """§6.2: training at the company's site was delivered; attendance and evaluation recorded."""
    plan = documents.latest_training_plan(call.session, int(csi_id))
    plan.delivered_date = date.fromisoformat(call.form["delivered_date"])
    plan.attendance = int(call.form["attendance"])
    plan.evaluation = call.form["evaluation"]
    plan.status = "delivered"
    log_event(call.session, "training.delivered", actor=call.actor, csi_id=plan.csi_id, message=plan.tp_no)


def register(registry: Registry) -> None:
    """The training feature's operators."""
    registry.operator(
        "create_training_plan",
        params=(CSI_ID,),
        form_fields=("training_location", "planned_date", "trainees", "modules"),
        user_task_only=True,
        section="§6.1–§6.3",
        doc="TP: training plan from the syllabus; returns training_plan_no, training_location.",
    )(create_training_plan)
    registry.operator(
        "record_training_delivery",
        params=(CSI_ID,),
        form_fields=("delivered_date", "attendance", "evaluation"),
        user_task_only=True,
        section="§6.2",
        doc="TP: delivered date, attendance, evaluation; status delivered.",
    )(record_training_delivery)
