"""Dates on which something is recorded as having happened (a part received, a claim settled, a training given):
never after today on the business calendar's day, so a record cannot claim what has not happened yet."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import Problem


def future_day_problem(day: date, timezone: str = BUSINESS_TIMEZONE) -> Problem | None:
    """A problem when `day` lies after today where the business is (Asia/Shanghai by default), else None."""
    if day > utcnow().astimezone(ZoneInfo(timezone)).date():
        return Problem("future", "cannot be in the future")
    return None
