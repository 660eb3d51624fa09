"""The parts master (issue 11 item 2): spare parts are the products of category `spare_part` (§3.1), imported with
`aftersales import products`; a parts SO (§5.2) and a visit's parts (§5.3, §5.5) name only part numbers it knows,
so "已按规定处理" can no longer be a part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.records.master import Product

SPARE_PART = "spare_part"


def spare_parts(session: Session, limit: int = 2000) -> list[Product]:
    """The parts master, by part number (for the forms' part picker)."""
    query = sa.select(Product).where(Product.category == SPARE_PART).order_by(Product.code).limit(limit)
    return list(session.scalars(query))


def check_part_numbers(session: Session, rows: Sequence[Any], field: str) -> None:
    """Refuse rows whose `part_no` is not a spare part of the master.

    :raises InvalidInputError: naming `field` and the unknown part numbers.
    """
    wanted = [str(row.get("part_no", "")).strip() for row in rows if isinstance(row, dict)]
    if not wanted:
        return
    known = set(
        session.scalars(sa.select(Product.code).where(Product.code.in_(set(wanted)), Product.category == SPARE_PART))
    )
    unknown = sorted({code for code in wanted if code not in known})
    if unknown:
        listed = ", ".join(unknown)
        raise InvalidInputError(
            "unknown part numbers",
            {field: Problem("unknown_part", f"not in the parts master: {listed}", parts=listed)},
        )
