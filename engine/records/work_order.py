"""WO (工单, work order): a field-service (§5.3) or on-site training (§6.3) job; it records the labour cost.

Lifecycle: open → in_progress (a visit round runs) → completed (the customer is satisfied, §5.8); open or
in_progress → cancelled (with a reason: the case was withdrawn, or its round terminated or the WO cancelled).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime

MONEY = sa.Numeric(12, 2)
MAX_MONEY = Decimal("9999999999.99")  # the largest amount MONEY holds (PostgreSQL refuses more; SQLite would not)
HOURS = sa.Numeric(8, 2)


class WorkOrderStatus(StrEnum):
    """Where a WO stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ENDED_WO_STATUSES = frozenset({WorkOrderStatus.COMPLETED.value, WorkOrderStatus.CANCELLED.value})


class WorkOrder(Base):
    """One WO for one CSI: engineers, site, labour (hours × rate) and the fee when the customer pays (§5.4)."""

    __tablename__ = "work_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    wo_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="field_service")
    status: Mapped[str] = mapped_column(sa.String(16), default=WorkOrderStatus.OPEN.value)
    site: Mapped[str] = mapped_column(sa.String(300))
    overseas_site: Mapped[bool] = mapped_column(default=False)
    planned_date: Mapped[date] = mapped_column(sa.Date)
    engineers: Mapped[list[str]] = mapped_column(sa.JSON)
    temporary_staff: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    labour_rate: Mapped[Decimal] = mapped_column(MONEY)
    labour_hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0"))
    billing: Mapped[str] = mapped_column(sa.String(16))
    fee_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    formalities: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    rounds: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(sa.String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def labour_cost(self) -> Decimal:
        """§5.3: the WO releases and records the labour cost (hours × rate)."""
        return (Decimal(self.labour_hours or 0) * Decimal(self.labour_rate)).quantize(Decimal("0.01"))

    @property
    def is_paid(self) -> bool:
        """§5.4: paid or partly paid service needs a fee SO linked to this WO."""
        return self.billing in ("paid", "partly_paid")
