"""Contract test: the `holidays` seed agrees with `chinesecalendar` on every published day 2004–2026."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

import chinese_calendar
import pytest

from engine.calendar import BusinessCalendar
from engine.calendar.statutory import statutory_workdays

FIRST_YEAR = 2004
LAST_YEAR = 2026
"""chinesecalendar 1.11 covers 2004–2026 and raises NotImplementedError outside it."""

KNOWN_DISAGREEMENT = date(2005, 12, 31)
"""Sat 2005-12-31: a 调休 make-up working day for New Year 2006; `holidays` is right, chinesecalendar is not.

国办发明电〔2005〕35号 moves the weekend of 31 Dec / 1 Jan to 2–3 Jan and says "12月31日(星期六)上班".
"""


def _days(first: date, last: date) -> list[date]:
    """Every calendar day from `first` to `last` inclusive."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def test_holidays_and_chinesecalendar_agree_on_every_day_2004_to_2026_but_one() -> None:
    calendar = BusinessCalendar()
    disagreements = [
        day
        for day in _days(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
        if calendar.is_workday(day) != chinese_calendar.is_workday(day)
    ]
    assert disagreements == [KNOWN_DISAGREEMENT]


def test_saturday_2005_12_31_is_a_makeup_workday_that_chinesecalendar_misses() -> None:
    assert KNOWN_DISAGREEMENT.weekday() == 5
    assert KNOWN_DISAGREEMENT in statutory_workdays(2005)
    assert not chinese_calendar.is_workday(KNOWN_DISAGREEMENT)


@pytest.mark.parametrize("year", range(2024, LAST_YEAR + 1))
def test_recent_years_make_up_days_match_chinesecalendar(year: int) -> None:
    weekend_workdays = {day for day in statutory_workdays(year) if day.weekday() >= 5}
    expected = {day for day in _days(date(year, 1, 1), date(year, 12, 31)) if day.weekday() >= 5}
    assert weekend_workdays == {day for day in expected if chinese_calendar.is_workday(day)}


def test_chinesecalendar_has_no_data_after_last_published_year() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(LAST_YEAR + 1, 1, 4))
