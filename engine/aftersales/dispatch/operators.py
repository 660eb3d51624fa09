"""§5.1–§5.4 and §2.5 operators: the parts-only SO, the WO (with its fee SO) for field service or training at the
customer's site, and HR's formalities for service abroad."""

from __future__ import annotations

from typing import Any

from engine.aftersales.cases.operators import CSI_ID
from engine.aftersales.cases.service import get_case
from engine.aftersales.dispatch import documents
from engine.aftersales.visits.service import get_work_order
from engine.bpmn.catalog import Param
from engine.clock import utcnow
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.timeline import log_event
from engine.records.service_sales_order import ServiceSOType

WO_ID = Param("wo_id", "int", doc="the work order (WO) the step acts on")
WO_FIELDS = ("engineers", "planned_date", "site", "labour_rate")


def issue_parts_so(call: Call, csi_id: int) -> dict[str, Any]:
    """§5.2: parts only, paid or free per billing, on an SO whose remarks name the CSI."""
    csi = get_case(call.session, csi_id)
    order = documents.create_service_so(
        call.session,
        so_type=ServiceSOType.PARTS_ONLY,
        csi_id=csi.id,
        billing=csi.billing or "free",
        lines=list(call.form["lines"]),
        remarks=call.form.get("remarks", ""),
        actor=call.actor,
    )
    return {"parts_so_no": order.so_no}


def _issue_wo(call: Call, csi_id: int, kind: str) -> dict[str, Any]:
    csi = get_case(call.session, csi_id)
    work_order = documents.open_work_order(call.session, csi, call.form, kind=kind, actor=call.actor)
    if kind == "training":
        documents.latest_training_plan(call.session, csi.id).wo_id = work_order.id
    return {"wo_id": work_order.id, "wo_no": work_order.wo_no, "overseas_site": work_order.overseas_site}


def issue_work_order(call: Call, csi_id: int) -> dict[str, Any]:
    """§5.3: a WO for field service; paid or partly paid service gets its fee SO linked (§5.4)."""
    return _issue_wo(call, csi_id, "field_service")


def issue_training_work_order(call: Call, csi_id: int) -> dict[str, Any]:
    """§6.3: training at the customer's site runs as a service job with a WO delivered by engineers."""
    return _issue_wo(call, csi_id, "training")


def record_overseas_formalities(call: Call, wo_id: int) -> None:
    """§2.5: HR arranged visa, invitation and travel before the visit is scheduled."""
    work_order = get_work_order(call.session, wo_id)
    work_order.formalities = {**dict(call.form), "arranged_by": call.actor, "arranged_at": utcnow().isoformat()}
    log_event(
        call.session,
        "wo.formalities",
        actor=call.actor,
        csi_id=work_order.csi_id,
        message=work_order.wo_no,
        data=dict(call.form),
    )


def register(registry: Registry) -> None:
    """The dispatch feature's operators."""
    registry.operator(
        "create_parts_so",
        params=(CSI_ID,),
        form_fields=("lines",),
        user_task_only=True,
        section="§5.2",
        doc="SO (parts only) with the CSI in its remarks; returns parts_so_no.",
    )(issue_parts_so)
    registry.operator(
        "create_work_order",
        params=(CSI_ID,),
        form_fields=WO_FIELDS,
        user_task_only=True,
        section="§5.3–§5.4",
        doc="WO (field service) and, for paid service, its fee SO; returns wo_id, wo_no, overseas_site.",
    )(issue_work_order)
    registry.operator(
        "create_training_work_order",
        params=(CSI_ID,),
        form_fields=WO_FIELDS,
        user_task_only=True,
        section="§6.3",
        doc="WO (training at the customer's site) linked to the training plan; returns wo_id, wo_no.",
    )(issue_training_work_order)
    registry.operator(
        "record_overseas_formalities",
        params=(WO_ID,),
        form_fields=("visa_status",),
        user_task_only=True,
        section="§2.5",
        doc="WO: visa, invitation and travel arranged by HR.",
    )(record_overseas_formalities)
