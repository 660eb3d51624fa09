"""§6 operators: the training plan from the product's syllabus, training delivered at the company's site, and the
training visit at the customer's site (§6.3) recorded by the training WO's engineer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.cases.service import get_case
from engine.aftersales.dispatch import documents
from engine.aftersales.dispatch.operators import WO_ID
from engine.aftersales.event_dates import future_day_problem
from engine.aftersales.visits.service import get_work_order
from engine.bpmn.catalog import Param
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.training_plan import TrainingPlan

TRAINING_VISIT_FIELDS = (
    "modules_delivered",
    "delivered_date",
    "duration_hours",
    "attendance",
    "assessment_result",
    "customer_evaluation",
    "customer_signed_by",
)


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


def record_training_visit(call: Call, csi_id: int, wo_id: int, round_no: int = 1) -> dict[str, Any]:
    """§6.3: the training WO's engineer records the training delivered at the customer's site: modules (from the
    product's syllabus), date, duration (the WO's labour, §5.3), the trainees present, their assessment, the customer's
    evaluation and sign-off; written onto the training plan with a timeline entry.

    :raises InvalidInputError: a module not in the syllabus, no trainee listed or none present (nothing written).
    """
    csi = get_case(call.session, csi_id)
    work_order = get_work_order(call.session, wo_id)
    form = call.form
    modules = [str(m) for m in form.get("modules_delivered") or []]
    if not modules:
        raise InvalidInputError(
            "name the modules delivered (§6.3)", {"modules_delivered": Problem("choose_one", "choose at least one")}
        )
    documents.check_syllabus_modules(call.session, csi, modules, "modules_delivered")
    if future := future_day_problem(date.fromisoformat(form["delivered_date"])):
        raise InvalidInputError("the training cannot have been given yet", {"delivered_date": future})
    attendance = [dict(row) for row in form.get("attendance") or []]
    present = [row for row in attendance if row.get("present")]
    if not present:
        raise InvalidInputError(
            "list the trainees and who attended (§6.3)",
            {"attendance": Problem("no_trainee_present", "no trainee is marked present")},
        )
    query = sa.select(TrainingPlan).where(TrainingPlan.wo_id == work_order.id).order_by(TrainingPlan.id.desc())
    plan = call.session.scalars(query).first() or documents.latest_training_plan(call.session, csi.id)
    hours = documents.money(form["duration_hours"])
    plan.delivered_date = date.fromisoformat(form["delivered_date"])
    plan.attendance = len(present)
    plan.evaluation = form["customer_evaluation"]
    plan.status = "delivered"
    plan.visit_record = {
        "wo_no": work_order.wo_no,
        "round_no": int(round_no),
        "engineer": call.actor,
        "modules_delivered": modules,
        "duration_hours": str(hours),
        "attendance": attendance,
        "assessment_result": form["assessment_result"],
        "customer_evaluation": form["customer_evaluation"],
        "comments": form.get("comments", ""),
        "customer_signed_by": form["customer_signed_by"],
        "recorded_at": utcnow().isoformat(),
    }
    work_order.labour_hours = Decimal(work_order.labour_hours or 0) + hours  # §5.3: the WO records the labour
    log_event(
        call.session,
        "training.visit_recorded",
        actor=call.actor,
        csi_id=csi.id,
        message=plan.tp_no,
        data={
            "wo": work_order.wo_no,
            "modules": modules,
            "present": len(present),
            "listed": len(attendance),
            "signed_by": form["customer_signed_by"],
        },
    )
    return {"training_plan_no": plan.tp_no}


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
    registry.operator(
        "record_training_visit",
        params=(CSI_ID, WO_ID, Param("round_no", "int", required=False, doc="the visit round")),
        form_fields=TRAINING_VISIT_FIELDS,
        user_task_only=True,
        section="§6.3",
        doc="TP: modules delivered (from the syllabus), date, attendance, assessment, evaluation, sign-off; "
        "WO labour; status delivered; returns training_plan_no.",
    )(record_training_visit)
