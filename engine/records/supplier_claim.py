"""Supplier quality claim (§5.5): an unrecoverable part with supplier responsibility; Sales handles it from a CSI copy.

Lifecycle: open → submitted / accepted / partly_accepted / rejected (Sales records the outcome).
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


class SupplierClaim(Base):
    """A claim with an immutable snapshot of the CSI as copied to Sales, linked back to the live CSI."""

    __tablename__ = "supplier_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    sc_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    csi_id: Mapped[int] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    wo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"))
    psr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("psr.id"))
    csi_snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    supplier: Mapped[str | None] = mapped_column(sa.String(200))
    claim_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    handled_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
