"""Load the business calendar from its override tables and edit them; services flush, callers commit.

Caching: every edit made here bumps `calendar_setting.version` (atomically, `version + 1` in SQL)
and writes a fresh random `revision`. `load_calendar` reads only that one settings row per call
and reuses the calendar it built last time for the same engine while the revision is unchanged.
The revision is random rather than the version alone so that a calendar built inside a
transaction that later rolled back can never be mistaken for a committed one with the same
version number. Edits that bypass this module (raw SQL, migrations) must bump the revision too,
or call `invalidate_cache()`; with no settings row nothing is cached.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from datetime import datetime
from datetime import time
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar.business import DEFAULT_CLOSE_OF_BUSINESS
from engine.calendar.business import DEFAULT_PUBLISHED_THROUGH_YEAR
from engine.calendar.business import DEFAULT_TIMEZONE
from engine.calendar.business import BusinessCalendar
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.records.calendar import DAY_KINDS
from engine.records.calendar import WORKING_DAY_KINDS
from engine.records.calendar import CalendarDay
from engine.records.calendar import CalendarSetting

SETTING_ID = 1
MIN_YEAR = 2000
MAX_YEAR = 2100
"""Bounds for days and published years an admin may enter; outside them is a typo, not a plan."""

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

_cache: WeakKeyDictionary[sa.Engine, tuple[str, BusinessCalendar]] = WeakKeyDictionary()


def invalidate_cache() -> None:
    """Forget every cached calendar, e.g. after editing the tables without this module."""
    _cache.clear()


def format_close_of_business(value: time) -> str:
    """The 'HH:MM' text stored in `calendar_setting.close_of_business`."""
    return value.strftime("%H:%M")


def parse_close_of_business(text: str) -> time:
    """Parse 'HH:MM' (00:00–23:59) into a naive local time; InvalidInputError names the field."""
    match = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInputError(
            "close of business must be HH:MM", {"close_of_business": "expected HH:MM between 00:00 and 23:59"}
        )
    return time(int(match.group(1)), int(match.group(2)))


def _validate_timezone(name: str) -> str:
    """Return `name` when zoneinfo knows it, else raise InvalidInputError on the timezone field."""
    error = InvalidInputError("unknown time zone", {"timezone": f"unknown time zone {name!r}"})
    if not isinstance(name, str):
        raise error
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise error from exc
    return name


def _engine_of(session: Session) -> sa.Engine:
    """The Engine behind the session, also when the session is bound to a Connection."""
    bind = session.get_bind()
    return bind.engine if isinstance(bind, sa.Connection) else bind


def load_calendar(session: Session) -> BusinessCalendar:
    """The calendar from `calendar_day` overrides and `calendar_setting`, defaults when the row is missing.

    Costs one single-row query while nothing has changed (see the module docstring).
    """
    setting = session.execute(
        sa.select(
            CalendarSetting.published_through_year,
            CalendarSetting.timezone,
            CalendarSetting.close_of_business,
            CalendarSetting.version,
            CalendarSetting.revision,
        ).where(CalendarSetting.id == SETTING_ID)
    ).one_or_none()
    engine = _engine_of(session)
    if setting is not None:
        cached = _cache.get(engine)
        if cached is not None and cached[0] == setting.revision:
            return cached[1]
    rows = session.execute(sa.select(CalendarDay.day, CalendarDay.is_workday)).all()
    overrides = {row.day: bool(row.is_workday) for row in rows}
    if setting is None:
        return BusinessCalendar(overrides)
    calendar = BusinessCalendar(
        overrides,
        published_through_year=setting.published_through_year,
        timezone=setting.timezone,
        close_of_business=parse_close_of_business(setting.close_of_business),
        version=setting.version,
    )
    _cache[engine] = (setting.revision, calendar)
    return calendar


def _touch_setting(session: Session, actor: str, now: datetime) -> CalendarSetting:
    """Get or create the settings row and bump its version and revision so cached calendars go stale."""
    setting = session.get(CalendarSetting, SETTING_ID)
    revision = uuid.uuid4().hex
    if setting is None:
        setting = CalendarSetting(
            id=SETTING_ID,
            published_through_year=DEFAULT_PUBLISHED_THROUGH_YEAR,
            timezone=DEFAULT_TIMEZONE,
            close_of_business=format_close_of_business(DEFAULT_CLOSE_OF_BUSINESS),
            version=1,
            revision=revision,
            updated_by=actor,
            updated_at=now,
        )
        session.add(setting)
        return setting
    setting.version = CalendarSetting.version + 1
    setting.revision = revision
    setting.updated_by = actor
    setting.updated_at = now
    return setting


def _validate_actor(actor: str) -> str:
    """A non-empty actor id of at most 100 characters (the audit column's width)."""
    if not isinstance(actor, str) or not actor.strip() or len(actor.strip()) > 100:
        raise InvalidInputError("actor is required", {"actor": "required, at most 100 characters"})
    return actor.strip()


def _validate_day(day: date) -> date:
    """A plain date (not a datetime) between MIN_YEAR and MAX_YEAR."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInputError("day must be a date", {"day": "expected a date"})
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        message = f"year must be between {MIN_YEAR} and {MAX_YEAR}"
        raise InvalidInputError("day out of range", {"day": message})
    return day


def set_day(
    session: Session,
    day: date,
    is_workday: bool,
    kind: str,
    name: str,
    actor: str,
    *,
    source: str = "admin",
) -> CalendarDay:
    """Create or replace the override for `day`; `is_workday` must agree with `kind`. Flushes only."""
    _validate_day(day)
    actor = _validate_actor(actor)
    fields: dict[str, str] = {}
    if not isinstance(is_workday, bool):
        fields["is_workday"] = "expected true or false"
    if kind not in DAY_KINDS:
        fields["kind"] = f"must be one of {', '.join(DAY_KINDS)}"
    elif isinstance(is_workday, bool) and is_workday != (kind in WORKING_DAY_KINDS):
        actual = "a working" if kind in WORKING_DAY_KINDS else "a rest"
        fields["kind"] = f"kind {kind!r} is {actual} day; it contradicts is_workday"
    if not isinstance(name, str) or len(name.strip()) > 200:
        fields["name"] = "text of at most 200 characters"
    if not isinstance(source, str) or not source.strip() or len(source.strip()) > 32:
        fields["source"] = "required, at most 32 characters"
    if fields:
        raise InvalidInputError("invalid calendar day", fields)
    now = utcnow()
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.is_workday = is_workday
    row.kind = kind
    row.name = name.strip()
    row.source = source.strip()
    row.updated_by = actor
    row.updated_at = now
    _touch_setting(session, actor, now)
    session.flush()
    return row


def clear_day(session: Session, day: date, actor: str) -> bool:
    """Remove the override for `day` so the statutory data applies again; False when there was none."""
    _validate_day(day)
    actor = _validate_actor(actor)
    row = session.get(CalendarDay, day)
    if row is None:
        return False
    session.delete(row)
    _touch_setting(session, actor, utcnow())
    session.flush()
    return True


def set_published_through(session: Session, year: int, actor: str) -> CalendarSetting:
    """Record the last year whose holiday notice is loaded; later deadlines are provisional. Flushes only."""
    actor = _validate_actor(actor)
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInputError(
            "invalid published year", {"year": f"expected a year between {MIN_YEAR} and {MAX_YEAR}"}
        )
    setting = _touch_setting(session, actor, utcnow())
    setting.published_through_year = year
    session.flush()
    return setting


def set_business_hours(session: Session, timezone: str, close_of_business: str, actor: str) -> CalendarSetting:
    """Change the business time zone and the 'HH:MM' close of business used for due times. Flushes only."""
    actor = _validate_actor(actor)
    zone = _validate_timezone(timezone)
    closing = parse_close_of_business(close_of_business)
    setting = _touch_setting(session, actor, utcnow())
    setting.timezone = zone
    setting.close_of_business = format_close_of_business(closing)
    session.flush()
    return setting
