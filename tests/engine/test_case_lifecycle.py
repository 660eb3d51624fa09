"""The case lifecycle (issue 9): withdraw / cancel a case, terminate from monitoring, terminate a visit round."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from engine.aftersales.cases.lifecycle import withdraw_case
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.platform import admin_actions
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.timeline import TimelineEvent
from engine.records.work_order import WorkOrder
from engine.reports.dashboard import Period
from engine.reports.dashboard import ageing
from engine.reports.dashboard import case_figures
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # §4.6 due Thursday 26th 17:30 Shanghai
LATER = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # long past the deadline


def kinds(session, csi_id):
    session.expire_all()
    query = sa.select(TimelineEvent.kind).where(TimelineEvent.csi_id == csi_id).order_by(TimelineEvent.id)
    return list(session.scalars(query))


def with_round(session, runtime, calendar, user_named):
    csi, instance = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    round_instance = session.scalars(
        sa.select(ProcessInstance).where(ProcessInstance.parent_instance_id == instance.id)
    ).one()
    return csi, instance, round_instance


def test_withdraw_cancels_the_case_its_instances_rounds_work_orders_and_tasks(session, runtime, calendar, user_named):
    csi, instance, round_instance = with_round(session, runtime, calendar, user_named)
    withdraw_case(session, runtime, user_named("manager"), csi.id, "客户撤回投诉", calendar=calendar)
    session.commit()
    session.expire_all()
    assert csi.status == "cancelled" and csi.cancelled_by == "manager" and csi.cancel_reason == "客户撤回投诉"
    assert instance.status == "terminated" and round_instance.status == "terminated"
    assert case_tasks(session, csi.id) == []
    statuses = session.scalars(sa.select(HumanTask.status).where(HumanTask.csi_id == csi.id)).all()
    assert "open" not in statuses and "cancelled" in statuses
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).one()
    assert work_order.status == "cancelled" and work_order.cancel_reason == "客户撤回投诉"
    events = kinds(session, csi.id)
    assert events.count("csi.cancelled") == 1 and "wo.cancelled" in events and "instance.terminated" in events
    with pytest.raises(ConflictError):
        withdraw_case(session, runtime, user_named("supervisor"), csi.id, "again", calendar=calendar)


@pytest.mark.parametrize(
    ("username", "reason", "error"),
    [
        ("engineer", "客户撤回", PermissionDeniedError),
        ("director", "客户撤回", PermissionDeniedError),
        ("manager", "  ", InvalidInputError),
        ("manager", None, InvalidInputError),
        ("manager", "duplicate of CSI-2099-000999", InvalidInputError),
    ],
)
def test_withdraw_refuses_wrong_role_missing_reason_or_unknown_duplicate_and_changes_nothing(
    session, runtime, calendar, user_named, username, reason, error
):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    before = kinds(session, csi.id)
    with pytest.raises(error) as raised:
        withdraw_case(session, runtime, user_named(username), csi.id, reason, calendar=calendar)
    session.rollback()
    session.expire_all()
    if error is InvalidInputError:
        assert "reason" in raised.value.fields
    assert csi.status == "analysing" and instance.status == "running" and kinds(session, csi.id) == before


def test_withdrawing_a_duplicate_links_both_cases(session, runtime, calendar, user_named):
    first, _ = register(session, runtime, user_named("manager"), calendar)
    second, _ = register(session, runtime, user_named("manager"), calendar)
    withdraw_case(
        session, runtime, user_named("supervisor"), second.id, f"duplicate of {first.csi_no.lower()}", calendar=calendar
    )
    session.commit()
    session.expire_all()
    assert second.duplicate_of_id == first.id and second.status == "cancelled"
    assert first.status == "analysing" and "csi.duplicate_linked" in kinds(session, first.id)


def test_terminating_the_case_instance_from_monitoring_cancels_the_csi(session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    admin_actions.terminate_instance(
        session, runtime, user_named("director"), instance.id, "错误登记", calendar=calendar
    )
    session.commit()
    session.expire_all()
    assert csi.status == "cancelled" and csi.cancel_reason == "错误登记" and csi.cancelled_by == "director"
    cancelled = [e for e in session.scalars(sa.select(TimelineEvent).where(TimelineEvent.kind == "csi.cancelled"))]
    assert cancelled[0].data["how"] == "instance_terminated" and cancelled[0].data["status_before"] == "analysing"


def test_terminating_a_visit_round_cancels_its_work_order_and_wakes_the_case(session, runtime, calendar, user_named):
    csi, instance, round_instance = with_round(session, runtime, calendar, user_named)
    assert case_tasks(session, csi.id) == ["field_visit"]
    admin_actions.terminate_instance(
        session, runtime, user_named("supervisor"), round_instance.id, "工程师无法到场，另行安排", calendar=calendar
    )
    session.commit()
    session.expire_all()
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).one()
    assert work_order.status == "cancelled" and round_instance.status == "terminated"
    assert instance.status == "running" and case_tasks(session, csi.id) == ["close_case"]  # not waiting forever
    assert csi.status != "cancelled"


def test_a_cancelled_case_leaves_ageing_and_the_sla_figures(session, runtime, calendar, user_named):
    with time_machine.travel(MONDAY, tick=False):
        csi, _ = register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)
        kept, _ = register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)
    period = Period(date(2026, 11, 23), date(2026, 11, 29), ZoneInfo("Asia/Shanghai"))
    assert ageing(session, LATER)["open"] == 2
    assert sum(w["breached"] for w in case_figures(session, period, LATER)["weeks"]) == 2
    withdraw_case(session, runtime, user_named("manager"), csi.id, "客户撤回", calendar=calendar)
    session.commit()
    assert ageing(session, LATER)["open"] == 1 and ageing(session, LATER)["undecided_overdue"] == 1
    assert sum(w["breached"] for w in case_figures(session, period, LATER)["weeks"]) == 1
    assert not csi.sla_breached(LATER) and kept.sla_breached(LATER)


def test_closing_with_open_items_needs_a_recorded_reason(session, runtime, calendar, user_named):
    from engine.aftersales.cases.service import close
    from engine.aftersales.cases.service import open_items
    from engine.clock import utcnow

    csi, _ = register(session, runtime, user_named("manager"), calendar)
    assert open_items(session, csi) == []
    csi.sla_breached_at = utcnow()  # a §4.6 breach without the supervisor's reason
    with pytest.raises(InvalidInputError) as refused:
        close(session, csi, {"archive_location": "A-03"}, actor="manager")
    assert "open_items_reason" in refused.value.fields and "§4.6" in refused.value.fields["open_items_reason"]
    assert csi.closed_at is None
    close(session, csi, {"archive_location": "A-03", "open_items_reason": "主管休假，理由稍后补记"}, actor="manager")
    assert csi.status == "closed"
    assert "csi.closed_with_open_items" in kinds(session, csi.id)
