"""service SO parts value: Σ qty × unit price of its lines kept beside them, for the dashboard (issue 12)

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def lines_value(lines: Any) -> Decimal:
    """Σ qty × unit price of SO lines, two decimals (the rule of engine/records/service_sales_order.py, frozen here)."""
    total = Decimal("0")
    for line in lines or []:
        try:
            total += Decimal(str(line.get("unit_price") or 0)) * int(line.get("qty") or 0)
        except (AttributeError, ArithmeticError, TypeError, ValueError):
            continue
    return total.quantize(Decimal("0.01"))


def upgrade() -> None:
    with op.batch_alter_table("service_sales_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts_value", sa.Numeric(12, 2), server_default="0", nullable=False))
    orders = sa.table(
        "service_sales_order",
        sa.column("id", sa.Integer),
        sa.column("lines", sa.JSON),
        sa.column("parts_value", sa.Numeric(12, 2)),
    )
    bind = op.get_bind()
    values = [
        {"row_id": row_id, "value": lines_value(lines)}
        for row_id, lines in bind.execute(sa.select(orders.c.id, orders.c.lines))
        if lines
    ]
    if values:
        bind.execute(
            orders.update().where(orders.c.id == sa.bindparam("row_id")).values(parts_value=sa.bindparam("value")),
            values,
        )


def downgrade() -> None:
    with op.batch_alter_table("service_sales_order", schema=None) as batch_op:
        batch_op.drop_column("parts_value")
