"""Business calendar behaviour: §4.6 golden deadlines, 调休 days, overrides, time zones, provisional years."""

from __future__ import annotations

import os
import time as time_module
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import BusinessCalendar
from engine.calendar import Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN_WORKING_DAYS = 3
"""§4.6: complaint received → service plan decided within 3 working days."""


@pytest.fixture(scope="module")
def calendar() -> BusinessCalendar:
    """The default calendar: statutory China data, published through 2026, Shanghai, 17:30."""
    return BusinessCalendar()


def _received(day: date, hour: int = 10) -> datetime:
    """A receipt at `hour` local Shanghai time on `day`."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


GOLDEN = [
    pytest.param(date(2025, 9, 26), date(2025, 9, 30), id="fri-before-national-day-sunday-makeup-counts"),
    pytest.param(date(2025, 9, 28), date(2025, 10, 9), id="received-on-makeup-sunday"),
    pytest.param(date(2025, 9, 30), date(2025, 10, 11), id="saturday-makeup-after-golden-week"),
    pytest.param(date(2026, 2, 13), date(2026, 2, 25), id="spring-festival-2026"),
    pytest.param(date(2026, 9, 30), date(2026, 10, 10), id="national-day-2026-saturday-makeup"),
    pytest.param(date(2025, 4, 30), date(2025, 5, 8), id="labour-day-2025"),
]


@pytest.mark.parametrize(("received", "due"), GOLDEN)
def test_plan_deadline_matches_golden_table(calendar: BusinessCalendar, received: date, due: date) -> None:
    deadline = calendar.deadline(_received(received), PLAN_WORKING_DAYS)
    assert deadline == Deadline(due_at=datetime.combine(due, time(17, 30), tzinfo=SHANGHAI), provisional=False)
    assert deadline.due_date == due


@pytest.mark.parametrize(("received", "due"), GOLDEN)
def test_nth_workday_after_matches_golden_table(calendar: BusinessCalendar, received: date, due: date) -> None:
    assert calendar.nth_workday_after(received, PLAN_WORKING_DAYS) == due


def test_make_up_sunday_counts_as_working_day(calendar: BusinessCalendar) -> None:
    assert calendar.is_workday(date(2025, 9, 28))


def test_make_up_saturday_counts_as_working_day(calendar: BusinessCalendar) -> None:
    assert calendar.is_workday(date(2025, 10, 11))


def test_bridge_weekday_in_golden_week_is_a_rest_day(calendar: BusinessCalendar) -> None:
    assert not calendar.is_workday(date(2025, 10, 8))


def test_plain_weekday_and_plain_weekend(calendar: BusinessCalendar) -> None:
    assert calendar.is_workday(date(2025, 9, 24))
    assert not calendar.is_workday(date(2025, 9, 21))


def test_half_day_holidays_do_not_close_the_office(calendar: BusinessCalendar) -> None:
    # Women's Day (8 March) is a half day off for women only: not a rest day for the SLA clocks.
    assert calendar.is_workday(date(2024, 3, 8))
    assert calendar.is_workday(date(2023, 3, 8))


def test_receipt_time_is_converted_to_business_zone_before_counting(calendar: BusinessCalendar) -> None:
    # 20:00 UTC on 25 Sep is 04:00 on 26 Sep in Shanghai: counting starts from the 26th.
    deadline = calendar.deadline(datetime(2025, 9, 25, 20, 0, tzinfo=UTC), PLAN_WORKING_DAYS)
    assert deadline.due_at == datetime(2025, 9, 30, 17, 30, tzinfo=SHANGHAI)


def test_receipt_just_before_local_midnight_counts_from_that_local_day(calendar: BusinessCalendar) -> None:
    # 15:59 UTC is 23:59 on Thu 25 Sep in Shanghai: 26 Fri, 28 Sun (make-up), 29 Mon.
    deadline = calendar.deadline(datetime(2025, 9, 25, 15, 59, tzinfo=UTC), PLAN_WORKING_DAYS)
    assert deadline.due_date == date(2025, 9, 29)


def test_naive_receipt_is_taken_as_utc_like_stored_timestamps(calendar: BusinessCalendar) -> None:
    naive = datetime(2025, 9, 25, 20, 0)
    assert calendar.deadline(naive, 3) == calendar.deadline(naive.replace(tzinfo=UTC), 3)


def test_due_at_is_aware_and_in_business_zone(calendar: BusinessCalendar) -> None:
    due_at = calendar.deadline(_received(date(2025, 9, 26)), PLAN_WORKING_DAYS).due_at
    assert due_at.tzinfo is not None
    assert due_at.utcoffset() == timedelta(hours=8)
    assert due_at.astimezone(UTC) == datetime(2025, 9, 30, 9, 30, tzinfo=UTC)


def test_receipt_on_rest_day_counts_from_next_calendar_day(calendar: BusinessCalendar) -> None:
    # Received on National Day itself: the first counted day is the first working day after it.
    assert calendar.nth_workday_after(date(2025, 10, 1), 1) == date(2025, 10, 9)
    assert calendar.nth_workday_after(date(2025, 10, 1), 3) == date(2025, 10, 11)


def test_receipt_day_itself_is_never_counted(calendar: BusinessCalendar) -> None:
    assert calendar.nth_workday_after(date(2025, 9, 24), 1) == date(2025, 9, 25)


def test_counting_crosses_the_year_boundary(calendar: BusinessCalendar) -> None:
    # 2025-12-31 Wed; 2026-01-01..03 off, 2026-01-04 (Sun) is a make-up working day.
    assert calendar.nth_workday_after(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert calendar.nth_workday_after(date(2025, 12, 31), 3) == date(2026, 1, 6)


def test_counting_spans_many_years(calendar: BusinessCalendar) -> None:
    start = date(2024, 6, 3)
    due = calendar.nth_workday_after(start, 600)
    assert calendar.workdays_between(start, due) == 600
    assert calendar.is_workday(due)


def test_deadline_in_unpublished_year_is_provisional(calendar: BusinessCalendar) -> None:
    assert calendar.deadline(_received(date(2027, 3, 10)), PLAN_WORKING_DAYS).provisional


def test_deadline_spilling_into_unpublished_year_is_provisional(calendar: BusinessCalendar) -> None:
    deadline = calendar.deadline(_received(date(2026, 12, 30)), PLAN_WORKING_DAYS)
    assert deadline.due_date.year == 2027
    assert deadline.provisional


def test_deadline_in_last_published_year_is_final(calendar: BusinessCalendar) -> None:
    assert not calendar.deadline(_received(date(2026, 12, 1)), PLAN_WORKING_DAYS).provisional


def test_publishing_next_year_makes_its_deadlines_final() -> None:
    assert not BusinessCalendar(published_through_year=2027).deadline(_received(date(2027, 3, 10)), 3).provisional


def test_override_making_a_holiday_a_workday_shortens_the_deadline() -> None:
    calendar = BusinessCalendar({date(2025, 10, 1): True})
    assert calendar.is_workday(date(2025, 10, 1))
    assert calendar.deadline(_received(date(2025, 9, 30)), 3).due_date == date(2025, 10, 10)


def test_override_making_a_workday_a_company_closure_lengthens_the_deadline() -> None:
    calendar = BusinessCalendar({date(2025, 9, 29): False})
    assert not calendar.is_workday(date(2025, 9, 29))
    assert calendar.deadline(_received(date(2025, 9, 26)), 3).due_date == date(2025, 10, 9)


def test_override_making_a_saturday_a_company_extra_workday_counts_it() -> None:
    calendar = BusinessCalendar({date(2025, 6, 7): True})
    assert calendar.nth_workday_after(date(2025, 6, 6), 1) == date(2025, 6, 7)


def test_overrides_do_not_leak_into_other_calendars() -> None:
    BusinessCalendar({date(2025, 10, 1): True}).is_workday(date(2025, 10, 1))
    assert not BusinessCalendar().is_workday(date(2025, 10, 1))


def test_close_of_business_is_configurable() -> None:
    calendar = BusinessCalendar(close_of_business=time(18, 0))
    assert calendar.deadline(_received(date(2025, 9, 26)), 3).due_at == datetime(2025, 9, 30, 18, 0, tzinfo=SHANGHAI)


def test_other_business_zone_changes_the_local_receipt_date() -> None:
    calendar = BusinessCalendar(timezone="UTC")
    deadline = calendar.deadline(datetime(2025, 9, 25, 20, 0, tzinfo=UTC), 3)
    assert deadline.due_at == datetime(2025, 9, 29, 17, 30, tzinfo=ZoneInfo("UTC"))


def test_workdays_between_excludes_start_and_includes_end(calendar: BusinessCalendar) -> None:
    assert calendar.workdays_between(date(2025, 9, 26), date(2025, 9, 30)) == 3
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 9, 30)) == 0
    assert calendar.workdays_between(date(2025, 10, 1), date(2025, 9, 1)) == 0


def test_zero_or_negative_working_days_is_rejected(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        calendar.nth_workday_after(date(2025, 1, 2), 0)


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        BusinessCalendar(timezone="Mars/Olympus_Mons")


def test_aware_close_of_business_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        BusinessCalendar(close_of_business=time(17, 30, tzinfo=UTC))


def test_datetime_override_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="dates"):
        BusinessCalendar({datetime(2025, 10, 1, 0, 0): True})


def test_deadline_is_fast_once_years_are_cached(calendar: BusinessCalendar) -> None:
    received = _received(date(2025, 9, 26))
    calendar.deadline(received, 3)
    runs = 2000
    started = time_module.perf_counter()
    for _ in range(runs):
        calendar.deadline(received, 3)
    per_call = (time_module.perf_counter() - started) / runs
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} µs per deadline"


@pytest.fixture
def restore_process_tz() -> Iterator[None]:
    """Put the TZ environment variable back after a test that changes it."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time_module.tzset()


def _sample_deadlines() -> list[Deadline]:
    """Deadlines for receipts around local midnight and golden weeks, from a freshly built calendar."""
    calendar = BusinessCalendar()
    moments = [
        datetime(2025, 9, 25, 15, 59, tzinfo=UTC),
        datetime(2025, 9, 25, 16, 0, tzinfo=UTC),
        datetime(2025, 9, 25, 20, 0, tzinfo=UTC),
        datetime(2025, 9, 25, 20, 0),
        datetime(2026, 2, 13, 23, 30, tzinfo=ZoneInfo("Pacific/Auckland")),
        datetime(2025, 4, 30, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
        datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
    ]
    return [calendar.deadline(moment, 3) for moment in moments]


def test_result_does_not_depend_on_process_timezone(restore_process_tz: None) -> None:
    results = []
    for zone in ("UTC", "Pacific/Auckland", "America/Los_Angeles"):
        os.environ["TZ"] = zone
        time_module.tzset()
        results.append(_sample_deadlines())
    assert results[0] == results[1] == results[2]
    assert [d.due_at.utcoffset() for d in results[0]] == [timedelta(hours=8)] * len(results[0])
