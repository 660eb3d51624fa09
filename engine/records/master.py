"""Master data the regulation relies on: customers, products by §3.1 category, and original sales orders (SO#, §4.2)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engine.db import Base


class ProductCategory(StrEnum):
    """§3.1 product classes: they decide archive and field-service behaviour."""

    COMPLETE_EQUIPMENT = "complete_equipment"
    TOOL_SET = "tool_set"
    SPARE_PART = "spare_part"


class Customer(Base):
    """A customer; `country` other than CN marks it overseas (§2.3, §2.5)."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2), default="CN")


class Product(Base):
    """A product with its §3.1 category and the 三包期 in months set by product design (§2.4)."""

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(24))
    warranty_months: Mapped[int] = mapped_column(default=12)


class SalesOrder(Base):
    """The original sale (SO#): its date starts the warranty and §4.2 requires it on every quality CSI."""

    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    so_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    sale_date: Mapped[date] = mapped_column(sa.Date)
    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list[SalesOrderLine]] = relationship(
        back_populates="sales_order", cascade="all, delete-orphan", lazy="selectin"
    )


class SalesOrderLine(Base):
    """One product (and serial number, when tracked) sold on an SO."""

    __tablename__ = "sales_order_line"
    __table_args__ = (sa.UniqueConstraint("sales_order_id", "serial_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_order.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    serial_no: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    qty: Mapped[int] = mapped_column(default=1)
    sales_order: Mapped[SalesOrder] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")
