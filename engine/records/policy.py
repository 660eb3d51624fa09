"""Master data set outside the service department: 三包 warranty policies (§2.4), service contracts (§3.2) and
training syllabi (§6.1).

Lifecycle: a WarrantyPolicy or TrainingSyllabus is never edited; product design adds a new version, and a case uses
the policy version in force on its SO's sale date. A ServiceContract covers its customer (and, when it names one,
only that original sale) from `valid_from` to `valid_to`, both days included.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engine.db import Base
from engine.db import UTCDateTime
from engine.records.master import Customer
from engine.records.master import Product


class WarrantyPolicy(Base):
    """One version of a product's 三包期 (months from the sale date) and scope, set by product design (§2.4)."""

    __tablename__ = "warranty_policy"
    __table_args__ = (sa.UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    version: Mapped[int] = mapped_column()
    effective_from: Mapped[date] = mapped_column(sa.Date)
    warranty_months: Mapped[int] = mapped_column()
    scope: Mapped[str] = mapped_column(sa.Text)
    archive_required: Mapped[bool] = mapped_column()
    set_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    product: Mapped[Product] = relationship(lazy="joined")


class ServiceContract(Base):
    """Contract service terms (§3.2): the service cost is already in the contract, so such cases bill `contract`."""

    __tablename__ = "service_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    origin_so_no: Mapped[str | None] = mapped_column(sa.String(32))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_to: Mapped[date] = mapped_column(sa.Date)
    terms: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    customer: Mapped[Customer] = relationship(lazy="joined")

    def covers(self, on: date, so_no: str | None) -> bool:
        """Valid on that day, and for that original sale when the contract names one."""
        in_period = self.valid_from <= on <= self.valid_to
        return in_period and (self.origin_so_no is None or self.origin_so_no == so_no)


class TrainingSyllabus(Base):
    """One version of a product's training syllabus (§6.1): modules of {code, title, hours}."""

    __tablename__ = "training_syllabus"
    __table_args__ = (sa.UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    version: Mapped[int] = mapped_column()
    modules: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    maintained_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    product: Mapped[Product] = relationship(lazy="joined")
