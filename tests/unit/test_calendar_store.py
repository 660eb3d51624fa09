"""Calendar store on in-memory SQLite: overrides change deadlines, edits validate, the cache goes stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar
from engine.calendar import clear_day
from engine.calendar import invalidate_cache
from engine.calendar import load_calendar
from engine.calendar import set_business_hours
from engine.calendar import set_day
from engine.calendar import set_published_through
from engine.db import Base
from engine.errors import InvalidInputError
from engine.records.calendar import CalendarDay
from engine.records.calendar import CalendarSetting

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)


def _create_calendar_tables(engine: sa.Engine) -> None:
    """Create only the two calendar tables in `engine` (the typed equivalent of `Model.__table__`)."""
    tables = [
        Base.metadata.tables[CalendarDay.__tablename__],
        Base.metadata.tables[CalendarSetting.__tablename__],
    ]
    Base.metadata.create_all(engine, tables=tables)


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    """A fresh in-memory SQLite database holding only the calendar tables."""
    engine = sa.create_engine("sqlite://")
    _create_calendar_tables(engine)
    invalidate_cache()
    yield engine
    invalidate_cache()
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A plain session; the test decides when to commit."""
    with Session(engine) as session:
        yield session


def test_empty_tables_load_the_default_calendar(session: Session) -> None:
    calendar = load_calendar(session)
    assert calendar.published_through_year == 2026
    assert calendar.timezone == "Asia/Shanghai"
    assert calendar.close_of_business == time(17, 30)
    assert calendar.deadline(RECEIVED, 3).due_date == date(2025, 10, 11)


def test_override_making_a_holiday_a_workday_changes_the_deadline(session: Session) -> None:
    set_day(session, date(2025, 10, 1), True, "company_extra_workday", "Plant open", "admin1")
    assert load_calendar(session).deadline(RECEIVED, 3).due_date == date(2025, 10, 10)


def test_override_making_a_workday_a_closure_changes_the_deadline(session: Session) -> None:
    set_day(session, date(2025, 10, 9), False, "company_closure", "Stocktaking", "admin1")
    calendar = load_calendar(session)
    assert not calendar.is_workday(date(2025, 10, 9))
    # 10 Oct (Fri), 11 Oct (Sat make-up), 13 Oct (Mon).
    assert calendar.deadline(RECEIVED, 3).due_date == date(2025, 10, 13)


def test_set_day_records_who_and_when_and_only_flushes(session: Session) -> None:
    row = set_day(session, date(2025, 6, 7), True, "company_extra_workday", " Extra Saturday ", " admin1 ")
    assert (row.name, row.source, row.updated_by) == ("Extra Saturday", "admin", "admin1")
    assert row.updated_at is not None
    assert not session.new and not session.dirty
    session.rollback()
    assert session.get(CalendarDay, date(2025, 6, 7)) is None
    assert session.get(CalendarSetting, 1) is None


def test_set_day_replaces_an_existing_override(session: Session) -> None:
    set_day(session, date(2025, 6, 7), True, "company_extra_workday", "Extra", "admin1")
    set_day(session, date(2025, 6, 7), False, "weekend", "Back to rest", "admin2")
    assert session.scalars(sa.select(CalendarDay)).one().updated_by == "admin2"
    assert not load_calendar(session).is_workday(date(2025, 6, 7))


def test_clear_day_restores_statutory_data(session: Session) -> None:
    set_day(session, date(2025, 10, 1), True, "company_extra_workday", "Open", "admin1")
    assert load_calendar(session).is_workday(date(2025, 10, 1))
    assert clear_day(session, date(2025, 10, 1), "admin1")
    assert not load_calendar(session).is_workday(date(2025, 10, 1))
    assert not clear_day(session, date(2025, 10, 1), "admin1")


def test_publishing_next_year_makes_its_deadlines_final(session: Session) -> None:
    received = datetime(2027, 3, 10, 10, 0, tzinfo=SHANGHAI)
    assert load_calendar(session).deadline(received, 3).provisional
    set_published_through(session, 2027, "admin1")
    assert not load_calendar(session).deadline(received, 3).provisional


def test_business_hours_change_due_time(session: Session) -> None:
    set_business_hours(session, "Asia/Shanghai", "18:00", "admin1")
    due_at = load_calendar(session).deadline(RECEIVED, 3).due_at
    assert due_at == datetime(2025, 10, 11, 18, 0, tzinfo=SHANGHAI)


def test_every_edit_bumps_the_calendar_version(session: Session) -> None:
    set_day(session, date(2025, 6, 7), True, "company_extra_workday", "Extra", "admin1")
    first = load_calendar(session).version
    set_published_through(session, 2027, "admin1")
    second = load_calendar(session).version
    assert second == first + 1


def test_unchanged_tables_reuse_the_loaded_calendar(engine: sa.Engine) -> None:
    with Session(engine) as session:
        set_day(session, date(2025, 6, 7), True, "company_extra_workday", "Extra", "admin1")
        session.commit()
    with Session(engine) as first, Session(engine) as second:
        assert load_calendar(first) is load_calendar(second)


def test_edit_committed_elsewhere_invalidates_the_cached_calendar(engine: sa.Engine) -> None:
    with Session(engine) as session:
        set_published_through(session, 2026, "admin1")
        session.commit()
    with Session(engine) as reader:
        before = load_calendar(reader)
        reader.commit()
        with Session(engine) as writer:
            set_day(writer, date(2025, 10, 1), True, "company_extra_workday", "Open", "admin1")
            writer.commit()
        after = load_calendar(reader)
    assert after is not before
    assert after.is_workday(date(2025, 10, 1))


def test_rolled_back_edit_never_serves_a_stale_calendar(engine: sa.Engine) -> None:
    with Session(engine) as session:
        set_published_through(session, 2026, "admin1")
        session.commit()
    with Session(engine) as session:
        set_day(session, date(2025, 10, 1), True, "company_extra_workday", "Open", "admin1")
        assert load_calendar(session).is_workday(date(2025, 10, 1))
        session.rollback()
    with Session(engine) as session:
        set_day(session, date(2025, 10, 2), True, "company_extra_workday", "Open", "admin1")
        session.commit()
    with Session(engine) as session:
        calendar = load_calendar(session)
    assert not calendar.is_workday(date(2025, 10, 1))
    assert calendar.is_workday(date(2025, 10, 2))


def test_calendars_of_different_databases_are_not_shared() -> None:
    engines = [sa.create_engine("sqlite://") for _ in range(2)]
    for engine in engines:
        _create_calendar_tables(engine)
    with Session(engines[0]) as session:
        set_day(session, date(2025, 10, 1), True, "company_extra_workday", "Open", "admin1")
        session.commit()
        assert load_calendar(session).is_workday(date(2025, 10, 1))
    with Session(engines[1]) as session:
        set_published_through(session, 2026, "admin1")
        session.commit()
        assert not load_calendar(session).is_workday(date(2025, 10, 1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"day": datetime(2025, 10, 1, 0, 0)}, "day", id="datetime-not-date"),
        pytest.param({"day": "2025-10-01"}, "day", id="string-day"),
        pytest.param({"day": date(1999, 12, 31)}, "day", id="year-too-early"),
        pytest.param({"kind": "holiday"}, "kind", id="unknown-kind"),
        pytest.param({"is_workday": False}, "kind", id="kind-contradicts-flag"),
        pytest.param({"is_workday": 1}, "is_workday", id="flag-not-bool"),
        pytest.param({"name": "x" * 201}, "name", id="name-too-long"),
        pytest.param({"actor": "  "}, "actor", id="blank-actor"),
        pytest.param({"source": ""}, "source", id="blank-source"),
    ],
)
def test_set_day_rejects_bad_input_naming_the_field(session: Session, kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "day": date(2025, 10, 1),
        "is_workday": True,
        "kind": "company_extra_workday",
        "name": "Open",
        "actor": "admin1",
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError) as raised:
        set_day(session, **arguments)  # type: ignore[arg-type]
    assert field in raised.value.fields
    assert session.scalars(sa.select(CalendarDay)).all() == []


@pytest.mark.parametrize("year", [1999, 2101, True, "2027", 2027.0])
def test_set_published_through_rejects_bad_year(session: Session, year: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        set_published_through(session, year, "admin1")  # type: ignore[arg-type]
    assert "year" in raised.value.fields
    assert session.get(CalendarSetting, 1) is None


@pytest.mark.parametrize(
    ("timezone", "closing", "field"),
    [
        ("Mars/Base", "17:30", "timezone"),
        ("", "17:30", "timezone"),
        ("Asia/Shanghai", "24:00", "close_of_business"),
        ("Asia/Shanghai", "5pm", "close_of_business"),
    ],
)
def test_set_business_hours_rejects_bad_input(session: Session, timezone: str, closing: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        set_business_hours(session, timezone, closing, "admin1")
    assert field in raised.value.fields


def test_database_refuses_kind_that_contradicts_is_workday(session: Session) -> None:
    session.add(
        CalendarDay(
            day=date(2025, 10, 1),
            is_workday=True,
            kind="statutory_holiday",
            name="",
            source="admin",
            updated_at=datetime(2025, 1, 1, tzinfo=SHANGHAI),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_loaded_calendar_is_a_business_calendar(session: Session) -> None:
    assert isinstance(load_calendar(session), BusinessCalendar)
