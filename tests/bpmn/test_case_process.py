"""Path tests of §4 on the real workflows/: register → root cause → review → answer → dispatch, §4.6 clock."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from engine.calendar import load_calendar
from engine.platform.timers import fire_due_timers
from engine.records.timeline import TimelineEvent
from tests.helpers import assert_round_trip
from tests.helpers import complete
from tests.helpers import open_task
from tests.helpers import open_task_ids
from tests.helpers import register

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


def kinds(session, csi_id):
    return list(
        session.scalars(sa.select(TimelineEvent.kind).where(TimelineEvent.csi_id == csi_id).order_by(TimelineEvent.id))
    )


def test_quality_complaint_runs_root_cause_review_answer_then_dispatches(session, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    csi, instance = register(session, runtime, manager, calendar)
    assert csi.csi_no.startswith("CSI-") and csi.origin_so_no == "SO-2025-0001"  # §4.2 CSI at once with SO#
    assert open_task_ids(session, instance) == ["analyse_root_cause"]
    assert csi.status == "analysing"
    assert_round_trip(session, runtime, instance)

    complete(session, runtime, instance, "analyse_root_cause", manager, calendar)
    assert open_task_ids(session, instance) == ["review_csi"] and csi.status == "under_review"
    assert csi.responsibility == "supplier"
    assert_round_trip(session, runtime, instance)

    complete(session, runtime, instance, "review_csi", supervisor, calendar)
    assert open_task_ids(session, instance) == ["answer_customer"]
    assert csi.plan_decided_at is not None and csi.review_opinion  # §4.4 written opinion in the CSI
    assert csi.service_plan == ["field_service"] and csi.signed_original_location  # §4.5
    assert instance.next_timer_due is None  # the §4.6 clock stopped with the decision
    assert_round_trip(session, runtime, instance)

    complete(session, runtime, instance, "answer_customer", manager, calendar)
    assert open_task_ids(session, instance) == ["issue_work_order"] and csi.status == "dispatching"  # §5.1
    assert csi.answer_channel == "phone" and csi.plan_summary
    assert csi.billing == "free" and csi.cost_bearer == "supplier"  # DMN: in warranty, supplier responsible
    assert not csi.sla_breached(datetime.now(UTC))
    assert "task.completed" in kinds(session, csi.id)
    assert_round_trip(session, runtime, instance)


def test_service_request_goes_straight_to_review(session, runtime, calendar, user_named):
    csi, instance = register(
        session, runtime, user_named("manager"), calendar, kind="service_request", origin_so_no=None, serial_no=None
    )
    assert open_task_ids(session, instance) == ["review_csi"]
    assert csi.status == "under_review"


def test_request_registered_by_other_staff_is_recorded_as_forwarded(session, runtime, calendar, user_named):
    csi, _ = register(session, runtime, user_named("sales"), calendar)  # §4.1
    assert csi.forwarded_by == "sales"
    assert "csi.forwarded" in kinds(session, csi.id)


def test_deadline_passing_undecided_breaches_sla_and_escalates_to_supervisor_once(
    session, runtime, calendar, user_named, sessions
):
    manager = user_named("manager")
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday; due Thursday 26th 17:30 +08:00
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        csi, instance = register(session, runtime, manager, calendar, received_at=received)
    assert csi.plan_due_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 26, 9, 29, tzinfo=UTC), tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    with time_machine.travel(datetime(2026, 11, 26, 9, 31, tzinfo=UTC), tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    session.expire_all()
    assert csi.sla_breached_at is not None
    assert open_task_ids(session, instance) == ["analyse_root_cause", "handle_overdue_plan"]  # non-interrupting
    assert kinds(session, csi.id).count("sla.breached") == 1
    assert_round_trip(session, runtime, instance)
    complete(session, runtime, instance, "handle_overdue_plan", user_named("supervisor"), calendar)
    assert csi.sla_exception_reason == "等待供应商检测报告"
    assert open_task_ids(session, instance) == ["analyse_root_cause"]


def test_request_received_long_ago_is_breached_at_registration(session, runtime, calendar, user_named):
    received = datetime.now(UTC) - timedelta(days=15)
    csi, instance = register(session, runtime, user_named("manager"), calendar, received_at=received)
    assert csi.sla_breached_at is not None
    assert "handle_overdue_plan" in open_task_ids(session, instance)
    assert open_task(session, instance, "analyse_root_cause").due_at == csi.plan_due_at  # overdue, still shown
