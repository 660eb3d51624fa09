"""One UTC clock for the whole engine, so tests can move time with time-machine in one place."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

CLOCK_SKEW = timedelta(minutes=5)  # a time typed on another device may run this far ahead of ours


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (SQLite returns those) as UTC and convert aware ones to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def in_the_future(moment: datetime) -> bool:
    """Whether an aware time said to have happened is still to come (beyond CLOCK_SKEW)."""
    return moment > utcnow() + CLOCK_SKEW
