"""Search at registration (issue 11 item 2): the sales orders of a customer with their serial numbers, so the
service manager picks the SO# (§4.2) and serial instead of typing them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine


def sales_orders_of(session: Session, customer_code: str, limit: int = 50) -> list[dict[str, Any]]:
    """The customer's newest sales orders: SO#, sale date and the product and serial of each line (no prices)."""
    query = (
        sa.select(SalesOrder)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(Customer.code == customer_code.strip()[:32])
        .options(selectinload(SalesOrder.lines))
        .order_by(SalesOrder.sale_date.desc(), SalesOrder.so_no)
        .limit(limit)
    )
    orders = list(session.scalars(query))
    product_ids = {line.product_id for order in orders for line in order.lines}
    codes = dict(session.execute(sa.select(Product.id, Product.code).where(Product.id.in_(product_ids))).all())
    return [
        {
            "so_no": order.so_no,
            "sale_date": order.sale_date.isoformat(),
            "lines": [
                {"product_code": codes.get(line.product_id), "serial_no": line.serial_no}
                for line in sorted(order.lines, key=_line_key)
            ],
        }
        for order in orders
    ]


def _line_key(line: SalesOrderLine) -> str:
    return line.serial_no or ""
