"""Case search for integrators and managers (issue 9): `GET /api/v1/cases?kind=&status=&from=&to=&overdue=&customer=
&serial=&q=&page=&per_page=` → one page of cases with the total, newest first.

`from`/`to` are business-local dates of receipt (both included); `overdue` keeps cases whose §4.6 limit is exceeded
(recorded breach, or undecided past the deadline with the clock running); `customer` is a customer code, `serial` a
serial number (exact), `q` free text over CSI no., SO#, serial and customer code or name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.cases.read import sla_scope
from engine.aftersales.cases.read import sla_view
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.records.csi import CSI
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.master import Customer

PER_PAGE = 50
MAX_PER_PAGE = 200
TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("", "0", "false", "no")
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
KNOWN = {"kind", "status", "from", "to", "overdue", "customer", "serial", "q", "page", "per_page"}


@dataclass(frozen=True)
class CaseQuery:
    """Validated search parameters."""

    kind: str = ""
    status: str = ""
    first: date | None = None
    last: date | None = None
    overdue: bool = False
    customer: str = ""
    serial: str = ""
    text: str = ""
    page: int = 1
    per_page: int = PER_PAGE


def parse_case_query(args: Mapping[str, str]) -> CaseQuery:
    """The query parameters as a CaseQuery, naming every bad one.

    :raises InvalidInputError: unknown parameter, kind, status, date, overdue word, page or page size.
    """
    problems: dict[str, str] = {n: Problem("unknown", "unknown parameter") for n in args if n not in KNOWN}
    kind, status = args.get("kind", ""), args.get("status", "")
    if kind and kind not in {k.value for k in CaseKind}:
        problems["kind"] = Problem("choice", "must be one of: " + ", ".join(k.value for k in CaseKind))
    if status and status not in {s.value for s in CSIStatus}:
        problems["status"] = Problem("choice", "must be one of: " + ", ".join(s.value for s in CSIStatus))
    first, last = _date(args, "from", problems), _date(args, "to", problems)
    overdue = args.get("overdue", "").strip().lower()
    if overdue not in TRUE_WORDS + FALSE_WORDS:
        problems["overdue"] = Problem("choice", "true, false, 1 or 0")
    for name, limit in (("customer", 32), ("serial", 64), ("q", 64)):
        if len(args.get(name, "")) > limit:
            problems[name] = Problem("too_long", f"must be text of at most {limit} characters", limit=limit)
    page = _whole(args, "page", 1, 1_000_000, problems)
    per_page = _whole(args, "per_page", PER_PAGE, MAX_PER_PAGE, problems)
    if problems:
        raise InvalidInputError("bad query", problems)
    return CaseQuery(
        kind=kind,
        status=status,
        first=first,
        last=last,
        overdue=overdue in TRUE_WORDS,
        customer=args.get("customer", "").strip(),
        serial=args.get("serial", "").strip(),
        text=args.get("q", "").strip(),
        page=page,
        per_page=per_page,
    )


def _date(args: Mapping[str, str], name: str, problems: dict[str, str]) -> date | None:
    raw = args.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[name] = Problem("date", "must be a date such as 2026-12-01")
        return None


def _whole(args: Mapping[str, str], name: str, default: int, maximum: int, problems: dict[str, str]) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        problems[name] = Problem("range", f"must be a whole number from 1 to {maximum}")
        return default
    return int(raw)


def search_cases(
    session: Session, query: CaseQuery, *, timezone: str = BUSINESS_TIMEZONE, now: datetime | None = None
) -> dict[str, Any]:
    """One page of matching cases, newest first: `{items, total, page, per_page}`."""
    now = now or utcnow()
    where = _conditions(query, ZoneInfo(timezone), now)
    base = sa.select(CSI).join(Customer, Customer.id == CSI.customer_id).where(*where)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(CSI.id.desc()).offset((query.page - 1) * query.per_page).limit(query.per_page)
    ).all()
    return {
        "items": [case_item(csi, timezone, now) for csi in rows],
        "total": int(total),
        "page": query.page,
        "per_page": query.per_page,
    }


def _conditions(query: CaseQuery, zone: ZoneInfo, now: datetime) -> list[Any]:
    where: list[Any] = []
    if query.kind:
        where.append(CSI.kind == query.kind)
    if query.status:
        where.append(CSI.status == query.status)
    if query.first and query.first.year >= EARLIEST_YEAR:  # earlier bounds exclude nothing (and stay computable)
        where.append(CSI.received_at >= datetime.combine(query.first, time(), zone))
    if query.last and query.last.year <= LATEST_YEAR:
        where.append(CSI.received_at < datetime.combine(query.last + timedelta(days=1), time(), zone))
    elif query.last and query.last.year < EARLIEST_YEAR:
        where.append(sa.false())
    if query.overdue:
        late = sa.and_(CSI.plan_decided_at.is_(None), CSI.sla_paused_at.is_(None), CSI.plan_due_at < now)
        where += [sla_scope(), sa.or_(CSI.sla_breached_at.is_not(None), CSI.plan_decided_at > CSI.plan_due_at, late)]
    if query.customer:
        where.append(Customer.code == query.customer)
    if query.serial:
        where.append(CSI.serial_no == query.serial)
    if query.text:
        like = f"%{query.text.replace('%', '').replace('_', '')}%"
        where.append(
            sa.or_(
                CSI.csi_no.ilike(like),
                CSI.origin_so_no.ilike(like),
                CSI.serial_no.ilike(like),
                Customer.code.ilike(like),
                Customer.name.ilike(like),
            )
        )
    return where


def case_item(csi: CSI, timezone: str, now: datetime) -> dict[str, Any]:
    """The list shape of a case."""
    return {
        "id": csi.id,
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "status": csi.status,
        "customer": {"code": csi.customer.code, "name": csi.customer.name},
        "origin_so_no": csi.origin_so_no,
        "serial_no": csi.serial_no,
        "received_at": csi.received_at.isoformat(),
        "closed_at": csi.closed_at.isoformat() if csi.closed_at else None,
        "sla": sla_view(csi, now, timezone),
    }
