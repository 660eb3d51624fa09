"""Pure business calendar: China working days plus admin overrides, and working-day SLA deadlines (§4.6)."""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from engine.calendar.statutory import statutory_workdays
from engine.clock import as_utc

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_CLOSE_OF_BUSINESS = time(17, 30)
DEFAULT_PUBLISHED_THROUGH_YEAR = 2026
"""Last year whose State Council holiday notice is in the data; later years are extrapolated."""


@dataclass(frozen=True)
class Deadline:
    """A working-day due time; `provisional` when a counted day lies in a year not yet published."""

    due_at: datetime
    provisional: bool

    @property
    def due_date(self) -> date:
        """The local due date (the n-th working day after the receipt date)."""
        return self.due_at.date()


class BusinessCalendar:
    """Answers "is this a working day" and "when is n working days after" without touching the database.

    The statutory calendar comes from `holidays` (`is_working_day`, so 调休 make-up days count);
    `overrides` (date → is working day) sit on top. Per-year sorted day ordinals are cached, so a
    deadline costs a few bisects. Instances are immutable after construction and safe to share
    between threads (a cache race only computes the same tuple twice).
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        published_through_year: int = DEFAULT_PUBLISHED_THROUGH_YEAR,
        timezone: str = DEFAULT_TIMEZONE,
        close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
        version: int = 0,
    ) -> None:
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {timezone!r}") from exc
        if close_of_business.tzinfo is not None:
            raise ValueError("close_of_business must be a naive local time")
        self.published_through_year = published_through_year
        self.timezone = timezone
        self.close_of_business = close_of_business
        self.version = version
        self._overrides: dict[int, dict[date, bool]] = {}
        for day, working in (overrides or {}).items():
            if isinstance(day, datetime):
                raise ValueError("override keys must be dates, not datetimes")
            self._overrides.setdefault(day.year, {})[day] = bool(working)
        self._years: dict[int, tuple[int, ...]] = {}

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone every receipt is converted to before counting."""
        return self._zone

    def _workdays(self, year: int) -> tuple[int, ...]:
        """Sorted ordinals of the working days of `year`, overrides applied (cached per instance)."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        days = set(statutory_workdays(year))
        for day, working in self._overrides.get(year, {}).items():
            if working:
                days.add(day)
            else:
                days.discard(day)
        result = tuple(sorted(day.toordinal() for day in days))
        self._years[year] = result
        return result

    def is_workday(self, day: date) -> bool:
        """True when `day` is a working day: weekday, make-up day or company extra day, not a rest day."""
        days = self._workdays(day.year)
        ordinal = day.toordinal()
        index = bisect_left(days, ordinal)
        return index < len(days) and days[index] == ordinal

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day after `day`; `day` itself is never counted (Civil Code art. 201).

        A start on a rest day still counts from the next calendar day, which is the same as
        "from the first working day after". A last day that is a holiday cannot occur, so
        Civil Code art. 203 (roll a holiday end forward) is satisfied by construction.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        year = day.year
        days = self._workdays(year)
        index = bisect_right(days, day.toordinal())
        remaining = n
        while True:
            available = len(days) - index
            if remaining <= available:
                return date.fromordinal(days[index + remaining - 1])
            remaining -= available
            year += 1
            days = self._workdays(year)
            index = 0

    def nth_workday_before(self, day: date, n: int) -> date:
        """The n-th working day before `day` (`day` itself not counted): counting a deadline back, e.g. a reminder."""
        if n < 1:
            raise ValueError("n must be at least 1")
        year = day.year
        days = self._workdays(year)
        index = bisect_left(days, day.toordinal())
        remaining = n
        while True:
            if remaining <= index:
                return date.fromordinal(days[index - remaining])
            remaining -= index
            year -= 1
            days = self._workdays(year)
            index = len(days)

    def workdays_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]: the start day is excluded (art. 201); 0 when end <= start."""
        if end <= start:
            return 0
        total = 0
        for year in range(start.year, end.year + 1):
            days = self._workdays(year)
            low = bisect_right(days, start.toordinal()) if year == start.year else 0
            high = bisect_right(days, end.toordinal()) if year == end.year else len(days)
            total += high - low
        return total

    def local_date(self, moment: datetime) -> date:
        """The calendar date of `moment` in the business time zone (naive values are UTC, as stored)."""
        return as_utc(moment).astimezone(self._zone).date()

    def close_of_business_on(self, day: date) -> datetime:
        """Close of business on `day` as an aware datetime in the business time zone."""
        return datetime.combine(day, self.close_of_business, tzinfo=self._zone)

    def deadline(self, received_at: datetime, working_days: int) -> Deadline:
        """Due at close of business on the n-th working day after the local receipt date (§4.6: n=3).

        The receipt day is not counted (Civil Code art. 201). The receipt is converted to the
        business time zone first, so 2025-09-25T20:00Z is received on 2025-09-26 in Shanghai;
        nothing here reads the process TZ. `provisional` is True when the due date (the last
        counted day) lies after `published_through_year`, whose holidays are only extrapolated.
        """
        due_date = self.nth_workday_after(self.local_date(received_at), working_days)
        return Deadline(
            due_at=self.close_of_business_on(due_date),
            provisional=due_date.year > self.published_through_year,
        )
