"""Path tests of §3.1 spare-part returns on the real workflows/ (and the renamed copy): a returned part is received,
inspected by Engineering/QC and exchanged on a §5.2 parts SO, credited, or refused with its reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.aftersales.cases.lifecycle import withdraw_case
from engine.aftersales.cases.service import open_items
from engine.aftersales.returns.service import start_part_return
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.records.part_return import PartReturn
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.timeline import TimelineEvent
from tests.helpers import assert_round_trip
from tests.helpers import complete
from tests.helpers import open_task_ids
from tests.helpers import register

PARTS_CASE = {"kind": "parts_claim", "customer_code": "C100", "origin_so_no": "SO-2025-0100", "serial_no": None}
RETURN = {"part_no": "P-SPINDLE", "quantity": 2, "remedy": "exchange", "reason": "新轴承运转异响"}
RECEIVED = {"received_on": "2026-12-02", "condition": "intact", "condition_notes": "原包装"}
INSPECTED = {"finding": "轴承滚道有压痕", "responsibility": "quality", "decision": "exchange"}


def start(session, runtime, calendar, people, **changes):
    """A parts claim (§3.1 spare part sold on SO-2025-0100) with one registered return."""
    csi, _ = register(session, runtime, people("manager"), calendar, **PARTS_CASE)
    record = start_part_return(session, runtime, people("manager"), csi.id, {**RETURN, **changes}, calendar=calendar)
    session.commit()
    return csi, record, session.get(ProcessInstance, record.instance_id)


def receive_and_inspect(session, runtime, calendar, people, instance, **inspection):
    assert open_task_ids(session, instance) == ["receive_return"]
    complete(session, runtime, instance, "receive_return", people("manager"), calendar, RECEIVED)
    assert open_task_ids(session, instance) == ["inspect_return"]
    complete(session, runtime, instance, "inspect_return", people("qc"), calendar, {**INSPECTED, **inspection})


def events(session, csi_id):
    session.expire_all()
    query = sa.select(TimelineEvent.kind).where(
        TimelineEvent.csi_id == csi_id, TimelineEvent.kind.like("part_return.%")
    )
    return list(session.scalars(query.order_by(TimelineEvent.id)))


def test_exchange_issues_a_free_parts_so_naming_the_csi(session, runtime, calendar, user_named):
    csi, record, instance = start(session, runtime, calendar, user_named)
    assert record.rt_no.startswith("RT-") and record.status == "registered" and record.origin_so_no == "SO-2025-0100"
    assert open_items(session, csi) == [record.rt_no]  # close_case lists an unfinished return
    receive_and_inspect(session, runtime, calendar, user_named, instance)
    session.refresh(record)
    assert (record.status, record.received_by, record.inspected_by) == ("inspected", "manager", "qc")
    assert str(record.received_on) == "2026-12-02" and record.responsibility == "quality"
    assert open_task_ids(session, instance) == ["exchange_part"]
    complete(session, runtime, instance, "exchange_part", user_named("manager"), calendar, {"remarks": "顺丰到付"})
    session.refresh(record)
    order = session.get(ServiceSalesOrder, record.exchange_so_id)
    assert record.status == "exchanged" and record.settled_by == "manager" and record.closed_at is not None
    assert order is not None and order.so_no == record.exchange_so_no and order.so_type == "parts_only"
    assert order.remarks.startswith(f"CSI: {csi.csi_no}") and record.rt_no in order.remarks  # §5.2
    assert order.amount == Decimal("0.00") and order.lines[0]["part_no"] == "P-SPINDLE" and order.lines[0]["qty"] == 2
    session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED.value and instance.business_key == record.rt_no
    assert events(session, csi.id) == [
        "part_return.registered",
        "part_return.received",
        "part_return.inspected",
        "part_return.exchanged",
    ]
    assert open_items(session, csi) == []
    assert_round_trip(session, runtime, instance)


def test_credit_records_the_amount_and_the_credit_note(session, runtime, calendar, user_named):
    csi, record, instance = start(session, runtime, calendar, user_named, remedy="compensation")
    receive_and_inspect(session, runtime, calendar, user_named, instance, responsibility="transport", decision="credit")
    assert open_task_ids(session, instance) == ["credit_customer"]
    complete(
        session, runtime, instance, "credit_customer", user_named("manager"), calendar,
        {"credit_amount": 760.0, "credit_note_ref": "CN-2026-0031"},
    )  # fmt: skip
    session.refresh(record)
    assert (record.status, record.credit_amount, record.credit_note_ref) == (
        "credited",
        Decimal("760.00"),
        "CN-2026-0031",
    )
    assert record.exchange_so_no is None and events(session, csi.id)[-1] == "part_return.credited"
    session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED.value


def test_refusal_closes_with_the_inspection_reason(session, runtime, calendar, user_named):
    csi, record, instance = start(session, runtime, calendar, user_named, remedy="return")
    reason = "零件已安装使用，超出退货条件"
    receive_and_inspect(
        session, runtime, calendar, user_named, instance,
        responsibility="customer_use", decision="refuse", refusal_reason=reason,
    )  # fmt: skip
    session.refresh(record)
    assert (record.status, record.refusal_reason, record.settled_by) == ("refused", reason, "qc")
    assert open_task_ids(session, instance) == [] and events(session, csi.id)[-1] == "part_return.refused"
    session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED.value


def test_a_part_is_not_received_on_a_day_still_to_come(session, runtime, calendar, user_named):
    _, record, instance = start(session, runtime, calendar, user_named)
    with pytest.raises(InvalidInputError) as refused:
        complete(
            session, runtime, instance, "receive_return", user_named("manager"), calendar,
            {**RECEIVED, "received_on": "2099-01-04"},
        )  # fmt: skip
    session.rollback()
    assert refused.value.fields["received_on"].code == "future"
    session.refresh(record)
    assert record.status == "registered" and open_task_ids(session, instance) == ["receive_return"]


def test_refusing_without_a_reason_is_refused_naming_the_field(session, runtime, calendar, user_named):
    _, record, instance = start(session, runtime, calendar, user_named)
    complete(session, runtime, instance, "receive_return", user_named("manager"), calendar, RECEIVED)
    with pytest.raises(InvalidInputError) as refused:
        complete(
            session, runtime, instance, "inspect_return", user_named("qc"), calendar,
            {**INSPECTED, "decision": "refuse"},
        )  # fmt: skip
    session.rollback()
    assert "refusal_reason" in refused.value.fields
    session.refresh(record)
    assert record.status == "received" and open_task_ids(session, instance) == ["inspect_return"]


def test_withdrawing_the_case_cancels_its_open_return(session, runtime, calendar, user_named):
    csi, record, instance = start(session, runtime, calendar, user_named)
    withdraw_case(session, runtime, user_named("manager"), csi.id, "顾客撤回", calendar=calendar)
    session.commit()
    session.refresh(record)
    session.refresh(instance)
    assert record.status == "cancelled" and instance.status == InstanceStatus.TERMINATED.value
    assert events(session, csi.id)[-1] == "part_return.cancelled"
    with pytest.raises(ConflictError):
        start_part_return(session, runtime, user_named("manager"), csi.id, RETURN, calendar=calendar)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PartReturn)) == 1


def test_closing_the_case_names_an_unfinished_return(session, runtime, calendar, user_named):
    """Issue 9 item 8 / §3.1: close_case lists a return not yet exchanged, credited or refused as an open item."""
    from engine.platform import tasks
    from tests.helpers import case_task
    from tests.helpers import do
    from tests.helpers import drive_to_dispatch

    review = {"service_plan": ["parts_only"], "billing": "paid"}
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named, review=review, **PARTS_CASE)
    record = start_part_return(session, runtime, user_named("manager"), csi.id, RETURN, calendar=calendar)
    session.commit()
    do(session, runtime, csi.id, "issue_parts_so", user_named("manager"), calendar)
    task = case_task(session, csi.id, "close_case")
    with pytest.raises(InvalidInputError) as refused:
        tasks.complete_task(
            session, runtime, user_named("manager"), task.id, {"archive_location": "服务部档案柜B-01"},
            calendar=calendar,
        )  # fmt: skip
    session.rollback()
    assert record.rt_no in refused.value.fields["open_items_reason"]
