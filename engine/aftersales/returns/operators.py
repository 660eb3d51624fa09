"""§3.1 operators of `part_return`: each step of a returned spare part writes its record (status, by whom,
when) and the case's timeline; the exchange issues the replacement's parts SO naming the CSI (§5.2)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from engine.aftersales.dispatch import documents
from engine.aftersales.dispatch.parts import check_part_numbers
from engine.aftersales.event_dates import future_day_problem
from engine.aftersales.returns.service import RETURN_PROCESS_ID
from engine.aftersales.returns.service import get_part_return
from engine.bpmn.catalog import BindingSpec
from engine.bpmn.catalog import Param
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.registry import Call
from engine.platform.registry import Registry
from engine.platform.registry import Termination
from engine.platform.timeline import log_event
from engine.records.part_return import PartReturn
from engine.records.part_return import ReturnStatus
from engine.records.service_sales_order import ServiceSOType

RT_NO = Param("rt_no", "str", doc="the part return (RT number) the step acts on")


def _open_return(call: Call, rt_no: str, expected: ReturnStatus) -> PartReturn:
    """The return, which must stand at `expected` (the model's order; a replayed step is refused, not redone)."""
    record = get_part_return(call.session, rt_no)
    if record.status != expected.value:
        raise ConflictError(
            Problem("return_state", f"{record.rt_no} is {record.status}", record=record.rt_no, status=record.status)
        )
    return record


def _log(call: Call, record: PartReturn, kind: str, **data: Any) -> None:
    log_event(
        call.session, f"part_return.{kind}", actor=call.actor, csi_id=record.csi_id, message=record.rt_no, data=data
    )


def record_return_received(call: Call, rt_no: str) -> None:
    """§3.1: the returned part arrived: date received, by whom, its condition on arrival."""
    record = _open_return(call, rt_no, ReturnStatus.REGISTERED)
    form = call.form
    received_on = date.fromisoformat(str(form["received_on"]))
    if future := future_day_problem(received_on):
        raise InvalidInputError("the part cannot have arrived yet", {"received_on": future})
    record.received_on = received_on
    record.condition = str(form["condition"])
    record.condition_notes = form.get("condition_notes") or None
    record.received_by, record.received_at = call.actor, utcnow()
    record.status = ReturnStatus.RECEIVED.value
    _log(call, record, "received", received_on=str(form["received_on"]), condition=record.condition)


def record_return_inspection(call: Call, rt_no: str) -> None:
    """§3.1: the part was inspected: finding, responsibility and the decision (exchange, credit or refuse)."""
    record = _open_return(call, rt_no, ReturnStatus.RECEIVED)
    form = call.form
    record.finding = str(form["finding"])
    record.responsibility = str(form["responsibility"])
    record.decision = str(form["decision"])
    record.refusal_reason = form.get("refusal_reason") or None
    record.inspected_by, record.inspected_at = call.actor, utcnow()
    record.status = ReturnStatus.INSPECTED.value
    _log(call, record, "inspected", responsibility=record.responsibility, decision=record.decision)


def exchange_returned_part(call: Call, rt_no: str) -> dict[str, Any]:
    """§3.1, §5.2: the replacement goes out on a free parts SO whose remarks name the CSI and the return."""
    record = _open_return(call, rt_no, ReturnStatus.INSPECTED)
    form = call.form
    part_no = str(form.get("replacement_part_no") or "").strip() or record.part_no
    check_part_numbers(call.session, [{"part_no": part_no}], "replacement_part_no")
    order = documents.create_service_so(
        call.session,
        so_type=ServiceSOType.PARTS_ONLY,
        csi_id=record.csi_id,
        billing="free",
        lines=[
            {
                "part_no": part_no,
                "description": f"换货 / exchange {record.rt_no}",
                "qty": record.quantity,
                "unit_price": 0,
            }
        ],  # fmt: skip
        remarks=f"RT: {record.rt_no} {form.get('remarks') or ''}",
        actor=call.actor,
    )
    record.exchange_so_id, record.exchange_so_no = order.id, order.so_no
    _settle(call, record, ReturnStatus.EXCHANGED, so_no=order.so_no, part_no=part_no)
    return {"exchange_so_no": order.so_no}


def credit_returned_part(call: Call, rt_no: str) -> None:
    """§3.1 compensation: the customer is credited (amount ≥ 0) on a credit note."""
    record = _open_return(call, rt_no, ReturnStatus.INSPECTED)
    form = call.form
    record.credit_amount = documents.money(form["credit_amount"])
    record.credit_note_ref = str(form["credit_note_ref"]).strip()
    _settle(call, record, ReturnStatus.CREDITED, credit_amount=str(record.credit_amount), note=record.credit_note_ref)


def refuse_part_return(call: Call, rt_no: str) -> None:
    """§3.1: the return is refused with the inspection's reason, and closed."""
    record = _open_return(call, rt_no, ReturnStatus.INSPECTED)
    _settle(call, record, ReturnStatus.REFUSED, reason=record.refusal_reason)


def _settle(call: Call, record: PartReturn, outcome: ReturnStatus, **data: Any) -> None:
    record.status = outcome.value
    record.settlement_notes = call.form.get("notes") or None
    record.settled_by, record.closed_at = call.actor, utcnow()
    _log(call, record, outcome.value, **data)


def cancel_terminated_return(termination: Termination) -> None:
    """Termination hook: a return whose process ended unfinished (the case withdrawn, or monitoring) is cancelled."""
    query = sa.select(PartReturn).where(PartReturn.instance_id == termination.instance.id)
    record = termination.session.scalars(query).first()
    if record is None or not record.is_open:
        return
    before = record.status
    record.status = ReturnStatus.CANCELLED.value
    record.closed_at = utcnow()
    log_event(
        termination.session,
        "part_return.cancelled",
        actor=termination.actor,
        csi_id=record.csi_id,
        message=record.rt_no,
        data={"reason": termination.reason, "status_before": before},
    )


BINDING = BindingSpec(
    name="part return",
    process_id=RETURN_PROCESS_ID,
    section="§3.1",
    reason="a returned spare part must be received, inspected and exchanged, credited or refused on its record",
    operators=(
        "record_return_received",
        "record_return_inspection",
        "exchange_returned_part",
        "credit_returned_part",
        "refuse_part_return",
    ),
)


def register(registry: Registry) -> None:
    """The returns feature's operators, its binding, its own start and its termination hook."""
    registry.operator(
        "record_return_received",
        params=(RT_NO,),
        form_fields=("received_on", "condition"),
        user_task_only=True,
        section="§3.1",
        doc="RT: date received, received by, condition on arrival; status received.",
    )(record_return_received)
    registry.operator(
        "record_return_inspection",
        params=(RT_NO,),
        form_fields=("finding", "responsibility", "decision"),
        user_task_only=True,
        section="§3.1",
        doc="RT: finding, responsibility, decision (exchange / credit / refuse with reason); status inspected.",
    )(record_return_inspection)
    registry.operator(
        "exchange_returned_part",
        params=(RT_NO,),
        user_task_only=True,
        section="§3.1, §5.2",
        doc="RT: a free parts SO for the replacement naming the CSI; status exchanged; returns exchange_so_no.",
    )(exchange_returned_part)
    registry.operator(
        "credit_returned_part",
        params=(RT_NO,),
        form_fields=("credit_amount", "credit_note_ref"),
        user_task_only=True,
        section="§3.1",
        doc="RT: credit amount (≥ 0) and credit note reference; status credited.",
    )(credit_returned_part)
    registry.operator(
        "refuse_part_return",
        params=(RT_NO,),
        section="§3.1",
        doc="RT: refused with the inspection's reason; closed.",
    )(refuse_part_return)
    registry.add_binding(BINDING)
    registry.add_own_start(
        RETURN_PROCESS_ID, "register the returned part on its case (POST /api/v1/cases/{id}/part-returns, §3.1)"
    )
    registry.add_termination_hook(cancel_terminated_return)
