"""Statutory China working days per year from `holidays` (public category only), cached for the process."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from functools import cache

import holidays

COUNTRY = "CN"
CATEGORIES: tuple[str, ...] = ("public",)
"""Only nationwide public holidays: `half_day` (Women's Day, Youth Day…) covers part of the workforce only."""


@cache
def statutory_workdays(year: int) -> frozenset[date]:
    """Working days of `year` by the State Council notice, 调休 make-up weekend days included.

    `holidays.is_working_day` is used rather than `date not in holidays`: a make-up Sunday such as
    2025-09-28 is not a holiday *and* not a weekday, and only `is_working_day` counts it. The
    library's data is immutable for the process, so one computation per year is enough.
    """
    cn = holidays.country_holidays(COUNTRY, years=year, categories=CATEGORIES)
    day = date(year, 1, 1)
    end = date(year, 12, 31)
    found: set[date] = set()
    while True:
        if cn.is_working_day(day):
            found.add(day)
        if day == end:
            return frozenset(found)
        day += timedelta(days=1)
