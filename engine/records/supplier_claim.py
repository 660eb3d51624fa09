"""Supplier quality claim (§5.5): an unrecoverable part with supplier responsibility; Sales handles it from a CSI copy.

Lifecycle (process supplier_claim, Sales): open → submitted → accepted | partly_accepted | rejected → settled; a claim
whose process a person ends (monitoring, or its case withdrawn) is cancelled.
A claim is open until `closed_at` is set: settled, or rejected (older one-shot claims closed on their outcome).
`supplier` keeps the supplier's name as written on the claim (free text on claims before the supplier master).
"""

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
from engine.records.work_order import MONEY

CLAIM_STATUSES = ("open", "submitted", "accepted", "partly_accepted", "rejected", "settled", "cancelled")
CLAIM_ANSWERS = ("accepted", "partly_accepted", "rejected")
SETTLEMENT_KINDS = ("credit_note", "replacement", "payment")


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
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supplier.id"), index=True)
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    raised_by: Mapped[str | None] = mapped_column(sa.String(64))
    claim_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    reference_sent: Mapped[str | None] = mapped_column(sa.String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovered_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    settled_on: Mapped[date | None] = mapped_column(sa.Date)
    settlement_kind: Mapped[str | None] = mapped_column(sa.String(20))
    settlement_reference: Mapped[str | None] = mapped_column(sa.String(100))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    handled_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
