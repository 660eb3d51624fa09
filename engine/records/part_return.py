"""Spare-part return (§3.1): a returned part's return, exchange or compensation, with its steps.

Lifecycle: registered → received → inspected → exchanged (a parts SO for the replacement, §5.2) | credited (a credit
note) | refused (with the reason); `cancelled` when its process is ended with the case (withdrawal, monitoring).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.db import Base
from engine.db import UTCDateTime
from engine.records.work_order import MONEY


class ReturnStatus(StrEnum):
    """Where a part return stands (changed only by its process's operators, each change with a timeline entry)."""

    REGISTERED = "registered"
    RECEIVED = "received"
    INSPECTED = "inspected"
    EXCHANGED = "exchanged"
    CREDITED = "credited"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Remedy(StrEnum):
    """What the customer asks for (§3.1: return, exchange or compensation)."""

    RETURN = "return"
    EXCHANGE = "exchange"
    COMPENSATION = "compensation"


OPEN_RETURN_STATUSES = (ReturnStatus.REGISTERED.value, ReturnStatus.RECEIVED.value, ReturnStatus.INSPECTED.value)


class PartReturn(Base):
    """One returned spare part of a CSI (RT number), linked to the sale's SO and, once exchanged, the parts SO."""

    __tablename__ = "part_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    rt_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("process_instance.id"), index=True)
    origin_so_no: Mapped[str | None] = mapped_column(sa.String(32))
    part_no: Mapped[str] = mapped_column(sa.String(64))
    quantity: Mapped[int]
    remedy: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=ReturnStatus.REGISTERED.value)
    registered_by: Mapped[str] = mapped_column(sa.String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_on: Mapped[date | None] = mapped_column(sa.Date)
    received_by: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    condition: Mapped[str | None] = mapped_column(sa.String(32))
    condition_notes: Mapped[str | None] = mapped_column(sa.Text)
    inspected_by: Mapped[str | None] = mapped_column(sa.String(64))
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finding: Mapped[str | None] = mapped_column(sa.Text)
    responsibility: Mapped[str | None] = mapped_column(sa.String(32))
    decision: Mapped[str | None] = mapped_column(sa.String(16))
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text)
    exchange_so_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_sales_order.id"))
    exchange_so_no: Mapped[str | None] = mapped_column(sa.String(32))
    credit_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    credit_note_ref: Mapped[str | None] = mapped_column(sa.String(64))
    settlement_notes: Mapped[str | None] = mapped_column(sa.Text)
    settled_by: Mapped[str | None] = mapped_column(sa.String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_open(self) -> bool:
        """Still waiting for receipt, inspection or settlement."""
        return self.status in OPEN_RETURN_STATUSES
