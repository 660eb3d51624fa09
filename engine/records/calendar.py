"""Business-calendar tables: admin overrides on top of the statutory China calendar, and its settings."""

from __future__ import annotations

from datetime import date
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base

DAY_KINDS: tuple[str, ...] = (
    "workday",
    "weekend",
    "statutory_holiday",
    "adjusted_rest",
    "makeup_workday",
    "company_closure",
    "company_extra_workday",
)
"""Every `calendar_day.kind`; adjusted_rest is 调休放假 and makeup_workday is 调休上班."""

WORKING_DAY_KINDS: frozenset[str] = frozenset({"workday", "makeup_workday", "company_extra_workday"})
"""The kinds on which the SLA clocks count a working day; every other kind is a rest day."""

_KIND_LIST = ", ".join(f"'{kind}'" for kind in DAY_KINDS)
_WORKING_LIST = ", ".join(f"'{kind}'" for kind in sorted(WORKING_DAY_KINDS))


class CalendarDay(Base):
    """One admin override of a day: it beats the statutory data from `holidays` for that date."""

    __tablename__ = "calendar_day"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind"),
        sa.CheckConstraint(f"is_workday = (kind IN ({_WORKING_LIST}))", name="is_workday_matches_kind"),
    )

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(sa.Boolean)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    source: Mapped[str] = mapped_column(sa.String(32), default="admin")
    updated_by: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class CalendarSetting(Base):
    """The single settings row (id=1); every calendar edit bumps `version` and `revision` to stale caches."""

    __tablename__ = "calendar_setting"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    published_through_year: Mapped[int] = mapped_column(sa.Integer)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    close_of_business: Mapped[str] = mapped_column(sa.String(5))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    revision: Mapped[str] = mapped_column(sa.String(32))
    updated_by: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
