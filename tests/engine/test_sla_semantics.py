"""§4.6 semantics (issue 9 item 3): only reviewed cases have the clock; a supervisor may pause it while the case
waits on the customer; the deadline moves by the working days paused and its timer re-arms."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from engine.aftersales.cases import read
from engine.aftersales.cases.lifecycle import withdraw_case
from engine.aftersales.review.pause import pause_clock
from engine.aftersales.review.pause import resume_clock
from engine.calendar import load_calendar
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.platform.timers import fire_due_timers
from engine.records.timeline import TimelineEvent
from engine.reports.dashboard import Period
from engine.reports.dashboard import ageing
from engine.reports.dashboard import case_figures
from tests.helpers import case_tasks
from tests.helpers import register

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Shanghai: §4.6 due Thursday 26th 17:30
TUESDAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
AFTER_DUE = datetime(2026, 11, 26, 9, 31, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
WEEK = Period(date(2026, 11, 23), date(2026, 11, 29), ZoneInfo("Asia/Shanghai"))


def kinds(session, csi_id):
    session.expire_all()
    return list(session.scalars(sa.select(TimelineEvent.kind).where(TimelineEvent.csi_id == csi_id)))


def test_training_requests_have_no_clock(session, runtime, calendar, user_named):
    with time_machine.travel(MONDAY, tick=False):
        csi, _ = register(
            session, runtime, user_named("manager"), calendar, received_at=MONDAY, kind="training_request"
        )
    assert csi.plan_decided_at is None and not csi.sla_breached(AFTER_DUE)
    view = read.sla_view(csi, AFTER_DUE)
    assert view["applies"] is False and view["running"] is False and view["breached"] is False
    assert sum(w["breached"] for w in case_figures(session, WEEK, AFTER_DUE)["weeks"]) == 0
    assert ageing(session, AFTER_DUE)["undecided_overdue"] == 0
    with time_machine.travel(AFTER_DUE, tick=False):
        assert read.list_cases(session, overdue=True) == []


def test_a_paused_clock_does_not_run_out_and_resuming_moves_the_deadline(
    session, sessions, runtime, calendar, user_named
):
    with time_machine.travel(MONDAY, tick=False):
        csi, instance = register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)
    with time_machine.travel(TUESDAY, tick=False):
        pause_clock(session, runtime, user_named("supervisor"), csi.id, "等待顾客提供故障视频", calendar=calendar)
        session.commit()
    session.expire_all()
    assert csi.sla_paused_at is not None and instance.next_timer_due.year >= 2036  # parked
    assert read.sla_view(csi, AFTER_DUE)["paused"] is True and not csi.sla_breached(AFTER_DUE)
    assert sum(w["breached"] for w in case_figures(session, WEEK, AFTER_DUE)["weeks"]) == 0
    session.rollback()
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    with time_machine.travel(FRIDAY, tick=False):
        resume_clock(session, runtime, user_named("supervisor"), csi.id, "视频已收到", calendar=calendar)
        session.commit()
    session.expire_all()
    # paused Tuesday → resumed Friday: Wed, Thu, Fri are excluded; Thursday 26th + 3 working days = Tuesday 1st
    due = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert csi.sla_paused_days == 3 and csi.sla_paused_at is None
    assert csi.plan_due_at == due and instance.next_timer_due == due
    assert not csi.sla_breached(FRIDAY) and read.sla_view(csi, FRIDAY)["paused_working_days"] == 3
    assert {"sla.paused", "sla.resumed"} <= set(kinds(session, csi.id))
    assert "analyse_root_cause" in case_tasks(session, csi.id)


@pytest.mark.parametrize(
    ("username", "reason", "error"),
    [("manager", "等待顾客", PermissionDeniedError), ("supervisor", "", InvalidInputError)],
)
def test_pause_refuses_wrong_role_or_missing_reason(session, runtime, calendar, user_named, username, reason, error):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    timer = instance.next_timer_due
    with pytest.raises(error):
        pause_clock(session, runtime, user_named(username), csi.id, reason, calendar=calendar)
    session.rollback()
    session.expire_all()
    assert csi.sla_paused_at is None and instance.next_timer_due == timer and "sla.paused" not in kinds(session, csi.id)


def test_nothing_to_pause_for_training_breached_or_ended_cases(session, sessions, runtime, calendar, user_named):
    training, _ = register(session, runtime, user_named("manager"), calendar, kind="training_request")
    with pytest.raises(ConflictError):
        pause_clock(session, runtime, user_named("supervisor"), training.id, "r", calendar=calendar)
    session.rollback()
    with time_machine.travel(MONDAY, tick=False):
        late, _ = register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)
    with time_machine.travel(AFTER_DUE, tick=False):
        fire_due_timers(sessions, runtime, load_calendar)
        with pytest.raises(ConflictError):
            pause_clock(session, runtime, user_named("supervisor"), late.id, "r", calendar=calendar)
        session.rollback()
    with pytest.raises(ConflictError):
        resume_clock(session, runtime, user_named("supervisor"), late.id, calendar=calendar)
    session.rollback()
    withdraw_case(session, runtime, user_named("manager"), late.id, "客户撤回", calendar=calendar)
    session.commit()
    assert read.sla_view(late)["running"] is False and read.sla_view(late)["breached"] is False
