"""Customer training plan (§6): from the product's syllabus (§6.1), at the company's site (§6.2) or as a WO (§6.3)."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime


class TrainingPlan(Base):
    """One training for one CSI; `wo_id` is set when it is delivered at the customer's site."""

    __tablename__ = "training_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    tp_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"))
    location: Mapped[str] = mapped_column(sa.String(16))
    planned_date: Mapped[date] = mapped_column(sa.Date)
    trainees: Mapped[int]
    modules: Mapped[list[str]] = mapped_column(sa.JSON)
    syllabus_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="planned")
    delivered_date: Mapped[date | None] = mapped_column(sa.Date)
    attendance: Mapped[int | None]
    evaluation: Mapped[str | None] = mapped_column(sa.Text)
    # §6.3: the training visit at the customer's site (modules, duration, trainees, assessment, sign-off, engineer)
    visit_record: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    planned_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
