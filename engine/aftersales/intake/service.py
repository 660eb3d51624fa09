"""Register an incoming complaint or request (§4.1–§4.2): the CSI exists at once with its SO#, then its process."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.policies.service import coverage_for
from engine.calendar import BusinessCalendar
from engine.clock import in_the_future
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.definitions import require_startable_version
from engine.platform.forms import date_problem
from engine.platform.runtime import Runtime
from engine.platform.step import start_instance
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CaseKind
from engine.records.master import Customer
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine
from engine.records.numbering import next_number
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User

CASE_PROCESS_ID = "after_sales_case"
PLAN_WORKING_DAYS = 3  # §4.6: complaint received → service plan decided within 3 working days
_TEXT_LIMITS = {"description": 4000, "channel": 32, "customer_code": 32, "origin_so_no": 32, "serial_no": 64}
_FIELDS = {"kind", "customer_code", "origin_so_no", "serial_no", "description", "received_at", "channel", "overseas"}


@dataclass(frozen=True)
class RegisterRequest:
    """A validated registration (the API body and the web form both become one of these)."""

    kind: CaseKind
    customer_code: str
    description: str
    origin_so_no: str | None = None
    serial_no: str | None = None
    received_at: datetime | None = None
    channel: str = ""
    overseas: bool | None = None


def parse_register_request(body: Any) -> RegisterRequest:
    """Turn a JSON body into a RegisterRequest, naming every bad field.

    :raises InvalidInputError: with a message per field.
    """
    if not isinstance(body, Mapping):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    problems: dict[str, str] = {name: Problem("unknown", "unknown field") for name in body if name not in _FIELDS}
    for name, limit in _TEXT_LIMITS.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit or "\x00" in value):
            problems[name] = Problem("too_long", f"must be text of at most {limit} characters", limit=limit)
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in {k.value for k in CaseKind}:
        problems["kind"] = Problem("choice", "must be one of: " + ", ".join(k.value for k in CaseKind))
    if not _text(body, "customer_code"):
        problems.setdefault("customer_code", Problem("required", "this field is required"))
    if not _text(body, "description"):
        problems.setdefault("description", Problem("required", "this field is required"))
    if kind == CaseKind.QUALITY_COMPLAINT and not _text(body, "origin_so_no"):
        problems.setdefault(
            "origin_so_no", Problem("so_required", "§4.2: a quality complaint must carry the original SO#")
        )
    overseas = body.get("overseas")
    if overseas is not None and not isinstance(overseas, bool):
        problems["overseas"] = Problem("type", "must be true or false", type="boolean")
    received_at = _parse_received_at(body.get("received_at"), problems)
    if problems:
        raise InvalidInputError("the request has errors", problems)
    return RegisterRequest(
        kind=CaseKind(str(kind)),
        customer_code=_text(body, "customer_code"),
        description=_text(body, "description"),
        origin_so_no=_text(body, "origin_so_no") or None,
        serial_no=_text(body, "serial_no") or None,
        received_at=received_at,
        channel=_text(body, "channel"),
        overseas=overseas,
    )


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


def _parse_received_at(value: Any, problems: dict[str, str]) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems["received_at"] = Problem("datetime", "must be an ISO 8601 date-time with a UTC offset")
        return None
    if parsed.tzinfo is None:
        problems["received_at"] = Problem("datetime", "must include a UTC offset, e.g. 2026-11-27T09:30:00+08:00")
        return None
    out_of_range = date_problem(str(value), with_time=True)  # e.g. year 1 at +14:00 is before year 1 in UTC
    if out_of_range is not None:
        problems["received_at"] = Problem("datetime", out_of_range)
        return None
    if in_the_future(parsed):
        problems["received_at"] = Problem("future", "cannot be in the future")
        return None
    return parsed


def check_received_after_sale(order: SalesOrder | None, received_at: datetime, timezone: str) -> date:
    """The local date of receipt, checked not to be before the sale of the SO the request names (§4.2: a complaint
    about equipment already sold).

    :raises InvalidInputError: received before the sale date (`before_sale`, naming received_at).
    """
    received_on = received_at.astimezone(ZoneInfo(timezone)).date()
    if order is not None and received_on < order.sale_date:
        sold = order.sale_date.isoformat()
        problem = Problem("before_sale", f"is before the sale of {order.so_no} on {sold}", so_no=order.so_no, sold=sold)
        raise InvalidInputError("the request is dated before the sale", {"received_at": problem})
    return received_on


def register_request(
    session: Session,
    runtime: Runtime,
    request: RegisterRequest,
    *,
    actor: User,
    calendar: Callable[[], BusinessCalendar],
    timezone: str = "Asia/Shanghai",
) -> tuple[CSI, ProcessInstance]:
    """Create the CSI (§4.2 at once, with SO# checked against the sale), start its process and log §4.1 forwarding.

    :raises InvalidInputError: unknown customer, SO# or serial, or a serial not on that SO (nothing is written).
    """
    customer, order, line = resolve_master_data(session, request)
    received_at = request.received_at or utcnow()
    received_on = check_received_after_sale(order, received_at, timezone)
    deadline = calendar().deadline(received_at, PLAN_WORKING_DAYS)
    now = utcnow()
    forwarded = Role.SERVICE_MANAGER.value not in actor.role_keys
    csi = CSI(
        csi_no=next_number(session, "CSI", now.astimezone(ZoneInfo(timezone)).year),
        kind=request.kind.value,
        customer=customer,  # the object, not only its id: the answer reads csi.customer without another SELECT
        origin_so_no=order.so_no if order else None,
        sales_order_id=order.id if order else None,
        serial_no=line.serial_no if line else request.serial_no,
        product_code=line.product.code if line else None,
        description=request.description,
        channel=request.channel,
        overseas=request.overseas if request.overseas is not None else customer.country != "CN",
        received_at=received_at,
        registered_at=now,
        registered_by=actor.username,
        forwarded_by=actor.username if forwarded else None,
        plan_due_at=deadline.due_at,
        plan_due_provisional=deadline.provisional,
    )
    apply_coverage(session, csi, customer, order, line, received_on)
    session.add(csi)
    session.flush()
    log_event(
        session,
        "csi.registered",
        actor=actor.username,
        csi_id=csi.id,
        message=csi.csi_no,
        data={"kind": csi.kind, "origin_so_no": csi.origin_so_no, "received_at": received_at.isoformat()},
    )
    if forwarded:
        log_event(
            session,
            "csi.forwarded",
            actor=actor.username,
            csi_id=csi.id,
            message="§4.1 registered outside the service department and forwarded to service managers",
        )
    instance = start_case_process(session, runtime, csi, line, actor=actor.username, calendar=calendar)
    return csi, instance


def case_start_data(csi: CSI, line: SalesOrderLine | None) -> dict[str, Any]:
    """The case process's start data: ids, kind, the §4.6 due time and the service_billing DMN inputs."""
    data: dict[str, Any] = {
        "csi_id": csi.id,
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "overseas": csi.overseas,
        "plan_due_at": csi.plan_due_at.isoformat(),
        # inputs of the service_billing DMN (§3.1 × §3.2 × responsibility); responsibility comes with the root cause
        "product_category": line.product.category if line else None,
        "coverage": csi.coverage,
        "responsibility": None,
    }
    if csi.kind == CaseKind.TRAINING_REQUEST:
        csi.service_plan = ["training"]  # §6: a training request goes straight to the training branch
        data["service_plan"] = ["training"]
    return data


def start_case_process(
    session: Session,
    runtime: Runtime,
    csi: CSI,
    line: SalesOrderLine | None,
    *,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
) -> ProcessInstance:
    """Start the case's process (the deployed after_sales_case) for a registered CSI."""
    return start_instance(
        session,
        runtime,
        require_startable_version(session, CASE_PROCESS_ID),
        case_start_data(csi, line),
        actor=actor,
        calendar=calendar,
        csi_id=csi.id,
        business_key=csi.csi_no,
    )


def resolve_master_data(
    session: Session, request: RegisterRequest
) -> tuple[Customer, SalesOrder | None, SalesOrderLine | None]:
    problems: dict[str, str] = {}
    customer = session.scalars(sa.select(Customer).where(Customer.code == request.customer_code)).first()
    if customer is None:
        problems["customer_code"] = Problem(
            "no_customer", f"no customer with code {request.customer_code!r}", customer_code=request.customer_code
        )
    order = None
    if request.origin_so_no:
        order = session.scalars(sa.select(SalesOrder).where(SalesOrder.so_no == request.origin_so_no)).first()
        if order is None:
            problems["origin_so_no"] = Problem(
                "no_so",
                f"no sales order {request.origin_so_no!r} (§4.2 the SO# must exist)",
                so_no=request.origin_so_no,
            )
        elif customer is not None and order.customer_id != customer.id:
            problems["origin_so_no"] = Problem(
                "so_other_customer",
                f"sales order {order.so_no} was sold to {order.customer.code}, not this customer",
                so_no=order.so_no,
            )
    line = _find_line(order, request.serial_no, problems) if "origin_so_no" not in problems else None
    if problems or customer is None:
        raise InvalidInputError("the request refers to unknown master data", problems)
    return customer, order, line


def _find_line(order: SalesOrder | None, serial_no: str | None, problems: dict[str, str]) -> SalesOrderLine | None:
    if order is None:
        if serial_no:
            problems["serial_no"] = Problem(
                "serial_needs_so", "a serial number needs the SO# it was sold on (origin_so_no)"
            )
        return None
    if serial_no:
        line = next((ln for ln in order.lines if ln.serial_no == serial_no), None)
        if line is None:
            problems["serial_no"] = Problem(
                "serial_not_on_so", f"serial {serial_no!r} is not on sales order {order.so_no}", serial=serial_no
            )
        return line
    return order.lines[0] if len(order.lines) == 1 else None


def apply_coverage(
    session: Session,
    csi: CSI,
    customer: Customer,
    order: SalesOrder | None,
    line: SalesOrderLine | None,
    on: date,
) -> None:
    """§3.2: contract, in or out of warranty from the SO sale date and the 三包 policy then in force (§2.4)."""
    if order is not None:
        csi.sale_date = order.sale_date
    result = coverage_for(session, customer=customer, order=order, line=line, received_on=on)
    csi.coverage = result.coverage
    csi.warranty_until = result.warranty_until
    csi.policy_version = result.policy_version
    csi.contract_no = result.contract_no
    csi.archive_required = result.archive_required
