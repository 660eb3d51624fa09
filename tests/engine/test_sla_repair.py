"""§4.6 clock repair: a calendar change moves open deadlines and re-arms their BPMN timers; breaches stay put."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
import time_machine

from engine.aftersales.review.sla import recompute_open_deadlines
from engine.calendar import load_calendar
from engine.calendar import set_day
from engine.calendar import set_published_through
from engine.platform.timers import fire_due_timers
from tests.helpers import register

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai; due Thursday 26th 17:30

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


def test_company_closure_moves_the_deadline_and_the_timer(session, runtime, calendar, user_named, sessions):
    with time_machine.travel(MONDAY, tick=False):
        csi, instance = register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)
    set_day(session, date(2026, 11, 24), False, "company_closure", "设备检修停工", "admin")
    assert recompute_open_deadlines(session, runtime, calendar, actor="admin") == 1
    session.commit()
    assert csi.plan_due_at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert instance.next_timer_due == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 26, 9, 31, tzinfo=UTC), tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 0  # the old deadline no longer fires
    with time_machine.travel(datetime(2026, 11, 27, 9, 31, tzinfo=UTC), tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
    session.expire_all()
    assert csi.sla_breached_at is not None


def test_publishing_less_of_the_calendar_marks_open_deadlines_provisional(session, runtime, calendar, user_named):
    csi, _ = register(
        session, runtime, user_named("manager"), calendar, received_at=datetime.now(UTC) - timedelta(hours=1)
    )
    assert csi.plan_due_provisional is False
    set_published_through(session, 2025, "admin")
    assert recompute_open_deadlines(session, runtime, calendar, actor="admin") == 1
    session.commit()
    assert csi.plan_due_provisional is True


def test_breached_clocks_are_not_moved_back(session, runtime, calendar, user_named):
    csi, _ = register(
        session, runtime, user_named("manager"), calendar, received_at=datetime.now(UTC) - timedelta(days=20)
    )
    breached_due = csi.plan_due_at
    set_published_through(session, 2025, "admin")
    assert recompute_open_deadlines(session, runtime, calendar, actor="admin") == 0
    assert csi.plan_due_at == breached_due
