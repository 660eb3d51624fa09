"""PSR (产品服务报告, product service report): the engineer's report of one site visit of a WO (§2.2, §5.3)."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime
from engine.records.work_order import HOURS


class PSR(Base):
    """One visit: what was done, parts used, the outcome, customer opinions and who signed for the customer."""

    __tablename__ = "psr"

    id: Mapped[int] = mapped_column(primary_key=True)
    psr_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    wo_id: Mapped[int] = mapped_column(sa.ForeignKey("work_order.id"), index=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    round_no: Mapped[int]
    engineer: Mapped[str] = mapped_column(sa.String(64))
    visit_date: Mapped[date] = mapped_column(sa.Date)
    labour_hours: Mapped[Decimal] = mapped_column(HOURS)
    work_performed: Mapped[str] = mapped_column(sa.Text)
    parts_used: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    old_parts: Mapped[str] = mapped_column(sa.String(16))
    quality_problem_found: Mapped[bool] = mapped_column(default=False)
    customer_opinions: Mapped[str] = mapped_column(sa.Text, default="")
    satisfaction: Mapped[str] = mapped_column(sa.String(24))
    customer_signed_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
