"""Service PO (订单): a zero-price purchase for parts bought or old parts recovered during service (§5.5).

PRJ# is the WO number and the remarks carry the CSI, so finance can trace every part to its job.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime
from engine.records.work_order import MONEY


class ServicePurchase(Base):
    """One zero-price PO: `prj_no` == its WO's number; `csi_id` == that WO's CSI."""

    __tablename__ = "service_purchase"
    __table_args__ = (sa.CheckConstraint("total_price = 0", name="zero_price"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    po_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    prj_no: Mapped[str] = mapped_column(sa.String(32), index=True)
    wo_id: Mapped[int] = mapped_column(sa.ForeignKey("work_order.id"), index=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    psr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("psr.id"))
    purpose: Mapped[str] = mapped_column(sa.String(24))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    total_price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    remarks: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(sa.String(64))
