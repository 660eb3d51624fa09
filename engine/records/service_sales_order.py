"""Service SO (销售单): a parts-only sale naming its CSI (§5.2), or the fee of paid service linked to its WO (§5.4).

The original sale of the product is not this record: that is the CSI's `origin_so_no` (SO#, §4.2).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from engine.db import Base
from engine.db import UTCDateTime
from engine.records.work_order import MONEY


class ServiceSOType(StrEnum):
    """Why the service SO exists."""

    PARTS_ONLY = "parts_only"
    SERVICE_FEE = "service_fee"


class ServiceSalesOrder(Base):
    """A service SO; `csi_id` is always set, `wo_id` is required for a service fee."""

    __tablename__ = "service_sales_order"
    __table_args__ = (sa.CheckConstraint("so_type <> 'service_fee' OR wo_id IS NOT NULL", name="fee_needs_wo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    so_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    so_type: Mapped[str] = mapped_column(sa.String(16))
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"), index=True)
    billing: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    parts_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), server_default="0")
    remarks: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))

    @validates("lines")
    def _keep_parts_value(self, _key: str, lines: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """Every write of the lines keeps `parts_value` (Σ qty × unit price) with them, so the dashboard's parts value
        (§2.1, warranty cost) is one SQL sum instead of parsing every SO's lines (issue 12)."""
        self.parts_value = lines_value(lines)
        return lines


def lines_value(lines: Any) -> Decimal:
    """Σ qty × unit price of SO lines, two decimals; a line without a usable price or quantity counts 0."""
    total = Decimal("0")
    for line in lines or []:
        try:
            total += Decimal(str(line.get("unit_price") or 0)) * int(line.get("qty") or 0)
        except (AttributeError, ArithmeticError, TypeError, ValueError):
            continue
    return total.quantize(Decimal("0.01"))
