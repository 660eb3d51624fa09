"""§4.6 reminders and the daily digest (issue 10 items 2 and 4): the manager and the supervisor are reminded when a
plan is still undecided at two thirds of its 3 working days, on the golden calendar cases of domain.md (make-up
working days count, nobody is reminded on a rest day); managers and the director get one digest a working day."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from engine.aftersales.cases.digest import send_daily_digest
from engine.aftersales.review.reminders import plan_reminder_at
from engine.aftersales.review.reminders import remind_undecided_plans
from engine.aftersales.review.reminders import working_days_left
from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.records.notification import Notice
from engine.records.notification import OutboxMessage
from engine.records.timeline import TimelineEvent
from engine.worker import run_once
from tests.helpers import register

SHANGHAI = ZoneInfo("Asia/Shanghai")

# domain.md §A4 golden cases: received (local) → §4.6 due date → reminder day (two thirds: the 2nd working day)
GOLDEN = [
    (date(2025, 9, 26), date(2025, 9, 30), date(2025, 9, 29)),  # Sun 28 is a make-up working day (WD1)
    (date(2025, 9, 28), date(2025, 10, 9), date(2025, 9, 30)),  # received on a make-up day; golden week follows
    (date(2025, 9, 30), date(2025, 10, 11), date(2025, 10, 10)),  # Sat 11 is a make-up working day (WD3)
    (date(2026, 2, 13), date(2026, 2, 25), date(2026, 2, 24)),  # Sat 14 works (WD1), spring festival 15–23 off
    (date(2026, 9, 30), date(2026, 10, 10), date(2026, 10, 9)),  # National Day, Sat 10 make-up (WD3)
    (date(2025, 4, 30), date(2025, 5, 8), date(2025, 5, 7)),  # Labour Day 1–5 May off
]


@pytest.mark.parametrize(("received", "due", "reminder"), GOLDEN, ids=[str(g[0]) for g in GOLDEN])
def test_the_reminder_falls_at_close_of_business_of_the_second_working_day_on_the_golden_cases(
    received: date, due: date, reminder: date
) -> None:
    calendar = BusinessCalendar()
    deadline = calendar.deadline(datetime.combine(received, datetime.min.time(), SHANGHAI).replace(hour=9), 3)
    assert deadline.due_date == due
    at = plan_reminder_at(calendar, deadline.due_at, 2 / 3)
    assert at == datetime(reminder.year, reminder.month, reminder.day, 17, 30, tzinfo=SHANGHAI)
    assert calendar.is_workday(at.date())


@pytest.mark.parametrize(("share", "left"), [(2 / 3, 1), (0.5, 2), (0.1, 2), (0.9, 1), (1 / 3, 2)])
def test_the_share_of_working_time_sets_the_working_days_left(share: float, left: int) -> None:
    assert working_days_left(share) == left


def test_a_share_of_one_half_reminds_at_the_end_of_the_first_working_day() -> None:
    calendar = BusinessCalendar()
    deadline = calendar.deadline(datetime(2026, 2, 13, 9, tzinfo=SHANGHAI), 3)
    assert plan_reminder_at(calendar, deadline.due_at, 0.5) == datetime(2026, 2, 14, 17, 30, tzinfo=SHANGHAI)


def test_counting_back_crosses_a_year_end() -> None:
    calendar = BusinessCalendar()
    assert calendar.nth_workday_before(date(2026, 1, 5), 1) == date(2026, 1, 4)  # Sun 4 Jan is a make-up working day
    assert calendar.nth_workday_before(date(2026, 1, 5), 2) == date(2025, 12, 31)  # 1–3 Jan 2026 off
    assert calendar.nth_workday_after(date(2025, 12, 31), 2) == date(2026, 1, 5)


@pytest.fixture
def mailed(session, user_named):
    for name in ("manager", "supervisor", "director", "engineer"):
        user = user_named(name)
        user.email = f"{name}@example.com"
    session.commit()


def told(session, kind):
    session.expire_all()
    return sorted(session.scalars(sa.select(Notice.username).where(Notice.kind == kind)))


def test_the_manager_and_the_supervisor_are_reminded_once_when_two_thirds_have_passed(
    session, runtime, user_named, mailed
):
    received = datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI)  # due 2026-02-25 17:30, reminder 2026-02-24 17:30
    with time_machine.travel(received, tick=False):
        csi, _ = register(session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=received)
    assert remind_undecided_plans(session, datetime(2026, 2, 24, 17, 29, tzinfo=SHANGHAI)) == 0
    assert told(session, "sla.reminder") == []
    assert remind_undecided_plans(session, datetime(2026, 2, 24, 17, 31, tzinfo=SHANGHAI)) == 1
    session.commit()
    assert told(session, "sla.reminder") == ["manager", "supervisor"]
    mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "sla.reminder")).all()
    assert sorted(m.address for m in mails) == ["manager@example.com", "supervisor@example.com"]
    assert all(csi.csi_no in m.subject and "2026-02-25 17:30" in m.body for m in mails)
    assert remind_undecided_plans(session, datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI)) == 0  # told once
    session.commit()
    assert told(session, "sla.reminder") == ["manager", "supervisor"]
    events = session.scalars(sa.select(TimelineEvent).where(TimelineEvent.kind == "sla.reminded")).all()
    assert [e.csi_id for e in events] == [csi.id]


def test_nobody_is_reminded_on_a_rest_day_even_when_the_reminder_time_has_passed(session, runtime, user_named):
    received = datetime(2025, 9, 28, 9, 0, tzinfo=SHANGHAI)  # reminder 2025-09-30 17:30, due 2025-10-09 17:30
    with time_machine.travel(received, tick=False):
        register(  # the demo's older sale: its recent one is dated a year before today, after this receipt
            session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=received,
            customer_code="C002", origin_so_no="SO-2022-0042", serial_no="CNC500-0042",
        )  # fmt: skip
    assert remind_undecided_plans(session, datetime(2025, 10, 2, 10, 0, tzinfo=SHANGHAI)) == 0  # National Day
    assert remind_undecided_plans(session, datetime(2025, 10, 9, 8, 30, tzinfo=SHANGHAI)) == 1  # the next workday
    session.commit()


def test_a_decided_plan_or_a_training_request_is_not_reminded(session, runtime, user_named):
    received = datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(received, tick=False):
        training, _ = register(
            session,
            runtime,
            user_named("manager"),
            lambda: load_calendar(session),
            received_at=received,
            kind="training_request",
            origin_so_no=None,
            serial_no=None,
        )
        decided, _ = register(
            session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=received
        )
    decided.plan_decided_at = received
    session.commit()
    assert remind_undecided_plans(session, datetime(2026, 2, 24, 17, 31, tzinfo=SHANGHAI)) == 0


def test_the_worker_poll_runs_the_reminder_and_the_digest(session, sessions, runtime, user_named, monkeypatch):
    monkeypatch.setenv("AFTERSALES_DIGEST_HOUR", "8")
    received = datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(received, tick=False):
        register(session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=received)
    with time_machine.travel(datetime(2026, 2, 24, 17, 45, tzinfo=SHANGHAI), tick=False):
        run_once(sessions, runtime)
        run_once(sessions, runtime)
    assert told(session, "sla.reminder") == ["manager", "supervisor"]
    assert told(session, "digest.daily") == ["director", "manager"]


def test_the_digest_counts_open_cases_by_step_and_goes_once_a_working_day_after_its_hour(session, runtime, user_named):
    received = datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(received, tick=False):
        csi, _ = register(session, runtime, user_named("manager"), lambda: load_calendar(session), received_at=received)
    director = user_named("director")
    director.email, director.locale = "director@example.com", "en"
    session.commit()
    assert send_daily_digest(session, datetime(2026, 2, 24, 7, 59, tzinfo=SHANGHAI), hour=8) == 0
    assert send_daily_digest(session, datetime(2026, 2, 20, 9, 0, tzinfo=SHANGHAI), hour=8) == 0  # spring festival
    assert send_daily_digest(session, datetime(2026, 2, 25, 8, 0, tzinfo=SHANGHAI), hour=8) == 2
    session.commit()
    assert send_daily_digest(session, datetime(2026, 2, 25, 15, 0, tzinfo=SHANGHAI), hour=8) == 0
    session.commit()
    assert told(session, "digest.daily") == ["director", "manager"]
    [mail] = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "digest.daily")).all()
    assert mail.lang == "en" and "Daily digest 2026-02-25: 1 open, due 1 today" in mail.subject
    assert f"analysing {1 if csi.status == 'analysing' else 0}" in mail.body and "§4.6" in mail.body
    assert send_daily_digest(session, datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI), hour=-1) == 0


def test_an_open_quality_feedback_and_supplier_claim_tell_their_owners_once_when_overdue(
    session, runtime, user_named, calendar
):
    from engine.aftersales.cases.followups import remind_overdue_followups
    from tests.scenarios import field_service_case

    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        csi = field_service_case(session, runtime, calendar, user_named)
    from engine.records.quality import QualityFeedback
    from engine.records.supplier_claim import SupplierClaim

    qf = session.scalars(sa.select(QualityFeedback).where(QualityFeedback.csi_id == csi.id)).one()
    claim = session.scalars(sa.select(SupplierClaim).where(SupplierClaim.csi_id == csi.id)).one()
    qf.closed_at, claim.closed_at = None, None  # both still open
    session.commit()
    # filed 2026-12-01: 10 working days later is 2026-12-15; 20 working days later 2026-12-29
    assert remind_overdue_followups(session, datetime(2026, 12, 14, 10, 0, tzinfo=SHANGHAI)) == 0
    assert remind_overdue_followups(session, datetime(2026, 12, 15, 10, 0, tzinfo=SHANGHAI)) == 1
    session.commit()
    assert told(session, "qf.overdue") == ["manager", "qc"]
    assert remind_overdue_followups(session, datetime(2026, 12, 19, 10, 0, tzinfo=SHANGHAI)) == 0  # Saturday
    assert remind_overdue_followups(session, datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI)) == 1  # the claim; QF once
    session.commit()
    assert told(session, "claim.overdue") == ["manager", "sales"] and told(session, "qf.overdue") == ["manager", "qc"]


def test_repeated_technical_support_escalates_to_the_director_and_supervisors(session, runtime, user_named, calendar):
    from tests.helpers import do
    from tests.helpers import drive_to_dispatch

    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    for round_no in (1, 2):
        do(session, runtime, csi.id, "field_visit", user_named("engineer"), calendar, outcome="unsolved")
        do(session, runtime, csi.id, "technical_support", user_named("manager"), calendar)
        assert told(session, "case.escalated") == ([] if round_no == 1 else ["director", "supervisor"])
    bodies = session.scalars(sa.select(Notice.title).where(Notice.kind == "case.escalated")).all()
    assert all(csi.csi_no in title for title in bodies)
