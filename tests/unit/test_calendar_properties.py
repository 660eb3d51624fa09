"""Property tests of §4.6 deadlines over receipts 2004–2026, against `holidays` as an independent oracle."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engine.calendar import BusinessCalendar

CALENDAR = BusinessCalendar()
ORACLE = holidays.country_holidays("CN", categories=("public",))
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [ZoneInfo(name) for name in ("UTC", "Asia/Shanghai", "Pacific/Auckland", "America/Los_Angeles")]

receipts = st.datetimes(
    min_value=datetime(2004, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(ZONES),
)
working_days = st.integers(min_value=1, max_value=15)


@settings(max_examples=1000, deadline=None)
@given(received=receipts)
def test_plan_deadline_is_three_working_days_after_local_receipt_date(received: datetime) -> None:
    deadline = CALENDAR.deadline(received, 3)
    local_receipt = received.astimezone(SHANGHAI).date()
    due = deadline.due_date
    assert CALENDAR.is_workday(due)
    assert due > local_receipt
    counted = [
        local_receipt + timedelta(days=offset)
        for offset in range(1, (due - local_receipt).days + 1)
        if CALENDAR.is_workday(local_receipt + timedelta(days=offset))
    ]
    assert len(counted) == 3
    assert counted[-1] == due
    assert deadline.due_at.tzinfo is not None
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
    assert deadline.due_at.timetz().replace(tzinfo=None) == time(17, 30)
    assert deadline.provisional == (due.year > 2026)


@settings(max_examples=1000, deadline=None)
@given(received=receipts, n=working_days)
def test_nth_workday_after_agrees_with_holidays_library(received: datetime, n: int) -> None:
    local_receipt = received.astimezone(SHANGHAI).date()
    due = CALENDAR.nth_workday_after(local_receipt, n)
    assert due == ORACLE.get_nth_working_day(local_receipt, n)
    assert CALENDAR.workdays_between(local_receipt, due) == n
    assert CALENDAR.workdays_between(local_receipt, due - timedelta(days=1)) == n - 1
