"""CSV import of master data (customers, products, sales orders): line-numbered errors, all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInputError
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import ProductCategory
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine

HEADERS = {
    "customers": ["code", "name", "country"],
    "products": ["code", "name", "category", "warranty_months"],
    "sales-orders": ["so_no", "customer_code", "sale_date", "product_code", "serial_no", "qty"],
}
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportResult:
    """How many rows were read and how many records were created or updated."""

    rows: int
    created: int
    updated: int


def read_rows(kind: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Decode a UTF-8 CSV (BOM allowed) and check its header; returns (line number, row) pairs.

    :raises InvalidInputError: unknown kind, not UTF-8, or the header does not match.
    """
    if kind not in HEADERS:
        raise InvalidInputError(f"unknown import kind {kind!r}", {"kind": "customers, products or sales-orders"})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the file is not UTF-8", {"file": f"byte {exc.start}: not UTF-8"}) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    expected = HEADERS[kind]
    if [h.strip() for h in reader.fieldnames or []] != expected:
        raise InvalidInputError("wrong header", {"line 1": "expected header: " + ",".join(expected)})
    return [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for row in reader]


def import_rows(
    session: Session, kind: str, rows: list[tuple[int, dict[str, str]]], progress: Progress | None = None
) -> ImportResult:
    """Validate every row first, then upsert them; any bad row rejects the whole file.

    :raises InvalidInputError: `fields` maps "line N" to what is wrong with that row.
    """
    handler = {"customers": _customer, "products": _product, "sales-orders": _sales_order_line}[kind]
    problems: dict[str, str] = {}
    created = updated = 0
    for count, (line, row) in enumerate(rows, start=1):
        try:
            was_new = handler(session, row)
        except ValueError as exc:
            problems[f"line {line}"] = str(exc)
            continue
        created, updated = (created + 1, updated) if was_new else (created, updated + 1)
        if progress is not None:
            progress(count)
    if problems:
        raise InvalidInputError(f"{len(problems)} bad row(s); nothing was imported", problems)
    session.flush()
    return ImportResult(rows=len(rows), created=created, updated=updated)


def _require(row: dict[str, str], *names: str) -> Iterator[str]:
    for name in names:
        value = row.get(name, "")
        if not value:
            raise ValueError(f"{name} is empty")
        yield value


def _customer(session: Session, row: dict[str, str]) -> bool:
    code, name = _require(row, "code", "name")
    country = (row.get("country") or "CN").upper()
    if len(country) != 2 or not country.isalpha():
        raise ValueError(f"country {country!r} must be a two-letter ISO code")
    customer = session.scalars(sa.select(Customer).where(Customer.code == code)).first()
    if customer is None:
        session.add(Customer(code=code, name=name, country=country))
        session.flush()
        return True
    customer.name, customer.country = name, country
    return False


def _product(session: Session, row: dict[str, str]) -> bool:
    code, name, category, months = _require(row, "code", "name", "category", "warranty_months")
    if category not in {c.value for c in ProductCategory}:
        raise ValueError(f"category {category!r} must be one of: " + ", ".join(c.value for c in ProductCategory))
    if not months.isdigit() or not 0 <= int(months) <= 240:
        raise ValueError(f"warranty_months {months!r} must be a whole number of months (0–240)")
    product = session.scalars(sa.select(Product).where(Product.code == code)).first()
    if product is None:
        session.add(Product(code=code, name=name, category=category, warranty_months=int(months)))
        session.flush()
        return True
    product.name, product.category, product.warranty_months = name, category, int(months)
    return False


def _sales_order_line(session: Session, row: dict[str, str]) -> bool:
    so_no, customer_code, sale_day, product_code = _require(row, "so_no", "customer_code", "sale_date", "product_code")
    try:
        sale_date = date.fromisoformat(sale_day)
    except ValueError as exc:
        raise ValueError(f"sale_date {sale_day!r} must be YYYY-MM-DD") from exc
    qty = row.get("qty") or "1"
    if not qty.isdigit() or int(qty) < 1:
        raise ValueError(f"qty {qty!r} must be a positive whole number")
    customer = session.scalars(sa.select(Customer).where(Customer.code == customer_code)).first()
    product = session.scalars(sa.select(Product).where(Product.code == product_code)).first()
    if customer is None:
        raise ValueError(f"customer {customer_code!r} does not exist")
    if product is None:
        raise ValueError(f"product {product_code!r} does not exist")
    order = session.scalars(sa.select(SalesOrder).where(SalesOrder.so_no == so_no)).first()
    new = order is None
    if order is None:
        order = SalesOrder(so_no=so_no, customer_id=customer.id, sale_date=sale_date)
        session.add(order)
        session.flush()
    elif order.customer_id != customer.id or order.sale_date != sale_date:
        raise ValueError(f"sales order {so_no} already exists with another customer or sale date")
    serial_no = row.get("serial_no") or None
    if serial_no and any(line.serial_no == serial_no for line in order.lines):
        raise ValueError(f"serial {serial_no} is already on sales order {so_no}")
    order.lines.append(SalesOrderLine(product_id=product.id, serial_no=serial_no, qty=int(qty)))
    session.flush()
    return new
