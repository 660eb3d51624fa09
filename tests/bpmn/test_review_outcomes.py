"""Review outcomes (issue 9 item 4, §4.2, §4.4, §4.6): send back to root-cause analysis with a note (the clock keeps
running), or decide "no service" with a reason code; on the shipped and the renamed models."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from engine.calendar import load_calendar
from engine.errors import InvalidInputError
from engine.platform.timers import fire_due_timers
from engine.records.timeline import TimelineEvent
from tests.helpers import ANSWERS
from tests.helpers import assert_round_trip
from tests.helpers import complete
from tests.helpers import open_task_ids
from tests.helpers import register

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 Shanghai; §4.6 due Thursday 26th 17:30
SEND_BACK = {"outcome": "send_back", "review_form": "supervisor", "opinion": "责任判定依据不足，请补充检测报告"}


def events(session, csi_id, kind):
    query = sa.select(TimelineEvent).where(TimelineEvent.csi_id == csi_id, TimelineEvent.kind == kind)
    return list(session.scalars(query))


def test_send_back_returns_to_analysis_and_the_clock_keeps_running(session, sessions, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    with time_machine.travel(RECEIVED, tick=False):
        csi, instance = register(session, runtime, manager, calendar, received_at=RECEIVED)
        complete(session, runtime, instance, "analyse_root_cause", manager, calendar)
        due = instance.next_timer_due
        complete(session, runtime, instance, "review_csi", supervisor, calendar, data=SEND_BACK)
    assert open_task_ids(session, instance) == ["analyse_root_cause"] and csi.status == "analysing"
    assert csi.plan_decided_at is None and instance.next_timer_due == due  # nothing decided, same clock
    [sent_back] = events(session, csi.id, "csi.sent_back")
    assert sent_back.message == SEND_BACK["opinion"] and sent_back.actor == "supervisor"
    assert_round_trip(session, runtime, instance)

    session.rollback()  # SQLite: every transaction holds the write lock; the worker needs it
    with time_machine.travel(RECEIVED + timedelta(days=4), tick=False):  # past the deadline while re-analysed
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
    session.expire_all()
    assert csi.sla_breached_at is not None
    complete(session, runtime, instance, "analyse_root_cause", manager, calendar)
    complete(session, runtime, instance, "review_csi", supervisor, calendar)
    assert "answer_customer" in open_task_ids(session, instance) and csi.plan_decided_at is not None


def test_no_service_needs_a_reason_code_and_ends_after_the_answer(session, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    csi, instance = register(session, runtime, manager, calendar)
    complete(session, runtime, instance, "analyse_root_cause", manager, calendar)
    no_service = {**ANSWERS["review_csi"], "service_plan": ["none"], "opinion": "电话指导后已恢复正常"}
    with pytest.raises(InvalidInputError) as refused:
        complete(session, runtime, instance, "review_csi", supervisor, calendar, data=no_service)
    assert "no_service_reason" in refused.value.fields
    session.rollback()
    complete(
        session,
        runtime,
        instance,
        "review_csi",
        supervisor,
        calendar,
        {**no_service, "no_service_reason": "resolved_by_phone"},
    )
    assert csi.plan_decided_at is not None and csi.service_plan == ["none"]
    assert csi.no_service_reason == "resolved_by_phone"
    assert open_task_ids(session, instance) == ["answer_customer"]
    complete(session, runtime, instance, "answer_customer", manager, calendar)
    assert open_task_ids(session, instance) == ["close_case"]
    assert_round_trip(session, runtime, instance)


def test_a_decision_without_a_plan_names_the_missing_fields(session, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    csi, instance = register(session, runtime, manager, calendar)
    complete(session, runtime, instance, "analyse_root_cause", manager, calendar)
    with pytest.raises(InvalidInputError) as refused:
        complete(
            session, runtime, instance, "review_csi", supervisor, calendar, data={**SEND_BACK, "outcome": "decide"}
        )
    assert {"service_plan", "billing", "signed_original_location"} <= set(refused.value.fields)
