"""Business calendar: China working days (调休 included) with admin overrides, for §4.6 SLA deadlines."""

from engine.calendar.business import DEFAULT_CLOSE_OF_BUSINESS
from engine.calendar.business import DEFAULT_PUBLISHED_THROUGH_YEAR
from engine.calendar.business import DEFAULT_TIMEZONE
from engine.calendar.business import BusinessCalendar
from engine.calendar.business import Deadline
from engine.calendar.store import clear_day
from engine.calendar.store import invalidate_cache
from engine.calendar.store import load_calendar
from engine.calendar.store import set_business_hours
from engine.calendar.store import set_day
from engine.calendar.store import set_published_through

__all__ = [
    "DEFAULT_CLOSE_OF_BUSINESS",
    "DEFAULT_PUBLISHED_THROUGH_YEAR",
    "DEFAULT_TIMEZONE",
    "BusinessCalendar",
    "Deadline",
    "clear_day",
    "invalidate_cache",
    "load_calendar",
    "set_business_hours",
    "set_day",
    "set_published_through",
]
