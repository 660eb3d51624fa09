"""Warranty policies, service contracts and training syllabi (§2.4, §3.2, §6.1), and the coverage of a case.

Product design sets each product's 三包期, scope and archive need (§2.4) and writes its training syllabus (§6.1);
both are versioned, never edited. Service managers and admins record service contracts (§3.2 "cost per the
contract"). `coverage_for` decides a new case's §3.2 period of use from these and the original sale (§4.2 SO#).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.platform.access import check_role
from engine.platform.timeline import log_event
from engine.records.csi import Coverage
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import ProductCategory
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine
from engine.records.policy import ServiceContract
from engine.records.policy import TrainingSyllabus
from engine.records.policy import WarrantyPolicy
from engine.records.user import Role
from engine.records.user import User

MAX_WARRANTY_MONTHS = 240
MAX_TEXT = 4000
MAX_MODULES = 200
MAX_MODULE_HOURS = 1000
POLICY_SETTERS = (Role.PRODUCT_DESIGN.value,)  # §2.4 / §6.1: the product design department
CONTRACT_KEEPERS = (Role.SERVICE_MANAGER.value, Role.ADMIN.value)  # §2.2: service managers keep the records


@dataclass(frozen=True)
class PolicyTerms:
    """The 三包 terms that apply to one product on one day; `policy_version` is None for the product defaults."""

    warranty_months: int
    archive_required: bool
    scope: str
    policy_version: int | None


@dataclass(frozen=True)
class CoverageResult:
    """§3.2 period of use of a case, with the policy version and contract it rests on (snapshotted on the CSI)."""

    coverage: str
    warranty_until: date | None
    policy_version: int | None
    contract_no: str | None
    archive_required: bool = False


# ---- warranty policies (§2.4) ---------------------------------------------------------------------------------


def set_warranty_policy(
    session: Session,
    actor: User,
    product_code: str,
    *,
    effective_from: date | str,
    warranty_months: int,
    scope: str,
    archive_required: bool,
) -> WarrantyPolicy:
    """Add the next version of a product's 三包期, scope and archive need (§2.4), effective from a given day.

    :raises PermissionDeniedError: the actor is not in product design.
    :raises InvalidInputError: unknown product or bad values, each named by field.
    """
    check_role(actor, *POLICY_SETTERS)
    problems: dict[str, str] = {}
    product = _product(session, product_code, problems)
    start = _date(effective_from, "effective_from", problems)
    if type(warranty_months) is float and warranty_months.is_integer():
        warranty_months = int(warranty_months)  # JSON's 12.0 is the integer 12 (JSON Schema says so too)
    if type(warranty_months) is not int or not 0 <= warranty_months <= MAX_WARRANTY_MONTHS:
        problems["warranty_months"] = f"must be a whole number of months from 0 to {MAX_WARRANTY_MONTHS}"
    clean_scope = _text(scope, "scope", problems, required=True)
    if type(archive_required) is not bool:
        problems["archive_required"] = "must be true or false"
    if problems or product is None or start is None:
        raise InvalidInputError("the warranty policy has errors", problems)
    policy = WarrantyPolicy(
        product_id=product.id,
        version=_next_version(session, WarrantyPolicy, product.id),
        effective_from=start,
        warranty_months=warranty_months,
        scope=clean_scope,
        archive_required=archive_required,
        set_by=actor.username,
        created_at=utcnow(),
    )
    data = {"product_code": product.code, "effective_from": start.isoformat()}
    _store(session, policy, "policy.warranty_set", actor, product.code, data)
    return policy


def policy_in_force(session: Session, product: Product, on: date) -> PolicyTerms:
    """The policy version in force on `on` (latest `effective_from` not after it), else the product's defaults.

    The defaults are the product's own `warranty_months` and §3.1's archive rule: complete equipment only.
    """
    query = (
        sa.select(WarrantyPolicy)
        .where(WarrantyPolicy.product_id == product.id, WarrantyPolicy.effective_from <= on)
        .order_by(WarrantyPolicy.effective_from.desc(), WarrantyPolicy.version.desc())
        .limit(1)
    )
    policy = session.scalars(query).first()
    if policy is None:
        archive = product.category == ProductCategory.COMPLETE_EQUIPMENT.value
        return PolicyTerms(product.warranty_months, archive, "", None)
    return PolicyTerms(policy.warranty_months, policy.archive_required, policy.scope, policy.version)


def list_policies(session: Session, product_code: str | None = None) -> list[WarrantyPolicy]:
    """Every policy version, by product code then version (only one product's when `product_code` is given)."""
    query = sa.select(WarrantyPolicy).join(Product, WarrantyPolicy.product_id == Product.id)
    if product_code is not None:
        query = query.where(Product.code == product_code)
    return list(session.scalars(query.order_by(Product.code, WarrantyPolicy.version)))


# ---- service contracts (§3.2) ---------------------------------------------------------------------------------


def add_service_contract(
    session: Session,
    actor: User,
    *,
    contract_no: str,
    customer_code: str,
    valid_from: date | str,
    valid_to: date | str,
    terms: str = "",
    origin_so_no: str | None = None,
) -> ServiceContract:
    """Record a service contract (§3.2: its service cost is in the contract), optionally for one original sale.

    :raises PermissionDeniedError: the actor is neither service manager nor admin.
    :raises InvalidInputError: duplicate number, unknown customer or SO#, bad period or text, each named by field.
    """
    check_role(actor, *CONTRACT_KEEPERS)
    problems: dict[str, str] = {}
    number = _contract_number(session, contract_no, problems)
    code = _text(customer_code, "customer_code", problems, required=True, limit=32)
    customer = session.scalars(sa.select(Customer).where(Customer.code == code)).first() if code else None
    if customer is None:
        problems.setdefault("customer_code", f"no customer with code {customer_code!r}")
    start, end = _date(valid_from, "valid_from", problems), _date(valid_to, "valid_to", problems)
    if start is not None and end is not None and end < start:
        problems["valid_to"] = "must not be before valid_from"
    clean_terms = _text(terms, "terms", problems)
    so_no = _contract_sale(session, origin_so_no, customer, problems)
    if problems or customer is None or start is None or end is None:
        raise InvalidInputError("the service contract has errors", problems)
    contract = ServiceContract(
        contract_no=number,
        customer_id=customer.id,
        origin_so_no=so_no,
        valid_from=start,
        valid_to=end,
        terms=clean_terms,
        created_at=utcnow(),
    )
    _store(session, contract, "contract.added", actor, number, {"customer_code": customer.code, "origin_so_no": so_no})
    return contract


def _contract_number(session: Session, contract_no: Any, problems: dict[str, str]) -> str:
    number = _text(contract_no, "contract_no", problems, required=True, limit=32)
    if number and session.scalars(sa.select(ServiceContract.id).where(ServiceContract.contract_no == number)).first():
        problems["contract_no"] = f"contract {number} already exists"
    return number


def _contract_sale(session: Session, so_no: Any, customer: Customer | None, problems: dict[str, str]) -> str | None:
    """The SO# a contract is limited to: it must exist and be the same customer's sale."""
    if so_no is None or so_no == "":
        return None
    text = _text(so_no, "origin_so_no", problems, limit=32)
    order = session.scalars(sa.select(SalesOrder).where(SalesOrder.so_no == text)).first()
    if order is None:
        problems.setdefault("origin_so_no", f"no sales order {text!r}")
    elif customer is not None and order.customer_id != customer.id:
        problems["origin_so_no"] = f"sales order {text} was sold to another customer"
    return text


def find_contract(session: Session, customer: Customer, on: date, so_no: str | None) -> ServiceContract | None:
    """The contract covering this customer on `on`: one naming this SO# first, then the latest started."""
    named: sa.ColumnElement[bool] = ServiceContract.origin_so_no.is_(None)
    if so_no is not None:
        named = sa.or_(named, ServiceContract.origin_so_no == so_no)
    query = (
        sa.select(ServiceContract)
        .where(ServiceContract.customer_id == customer.id, ServiceContract.valid_from <= on)
        .where(ServiceContract.valid_to >= on, named)
        .order_by(ServiceContract.origin_so_no.is_(None), ServiceContract.valid_from.desc(), ServiceContract.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


# ---- coverage of a case (§3.2) --------------------------------------------------------------------------------


def coverage_for(
    session: Session,
    *,
    customer: Customer,
    order: SalesOrder | None,
    line: SalesOrderLine | None,
    received_on: date,
) -> CoverageResult:
    """§3.2: `contract` when a service contract covers the receipt day, else in/out of warranty from the SO sale
    date and the policy in force on it (§2.4, §4.2); `unknown` when the sold product cannot be identified.
    """
    warranty_until: date | None = None
    terms: PolicyTerms | None = None
    if order is not None and line is not None:
        terms = policy_in_force(session, line.product, order.sale_date)
        warranty_until = order.sale_date + relativedelta(months=terms.warranty_months)
    contract = find_contract(session, customer, received_on, order.so_no if order is not None else None)
    if contract is not None:
        coverage = Coverage.CONTRACT
    elif warranty_until is None:
        coverage = Coverage.UNKNOWN
    else:
        coverage = Coverage.IN_WARRANTY if received_on <= warranty_until else Coverage.OUT_OF_WARRANTY
    return CoverageResult(
        coverage=coverage.value,
        warranty_until=warranty_until,
        policy_version=terms.policy_version if terms else None,
        contract_no=contract.contract_no if contract else None,
        archive_required=terms.archive_required if terms else False,
    )


# ---- training syllabi (§6.1) ----------------------------------------------------------------------------------


def set_training_syllabus(session: Session, actor: User, product_code: str, *, modules: Any) -> TrainingSyllabus:
    """Add the next version of a product's training syllabus (§6.1: written by the product design group).

    :raises PermissionDeniedError: the actor is not in product design.
    :raises InvalidInputError: unknown product or bad modules, each named by field (e.g. `modules[1].hours`).
    """
    check_role(actor, *POLICY_SETTERS)
    problems: dict[str, str] = {}
    product = _product(session, product_code, problems)
    cleaned = _modules(modules, problems)
    if problems or product is None:
        raise InvalidInputError("the training syllabus has errors", problems)
    syllabus = TrainingSyllabus(
        product_id=product.id,
        version=_next_version(session, TrainingSyllabus, product.id),
        modules=cleaned,
        maintained_by=actor.username,
        created_at=utcnow(),
    )
    _store(session, syllabus, "policy.syllabus_set", actor, product.code, {"modules": len(cleaned)})
    return syllabus


def current_syllabus(session: Session, product: Product) -> TrainingSyllabus | None:
    """The product's newest syllabus version, or None when design has not written one."""
    query = (
        sa.select(TrainingSyllabus)
        .where(TrainingSyllabus.product_id == product.id)
        .order_by(TrainingSyllabus.version.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _modules(value: Any, problems: dict[str, str]) -> list[dict[str, Any]]:
    """Check the modules list: 1..MAX_MODULES objects of exactly {code, title, hours}, codes unique."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MODULES:
        problems["modules"] = f"must be a list of 1 to {MAX_MODULES} modules"
        return []
    cleaned: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        module = _module(item, f"modules[{index}]", problems)
        if module is not None and any(m["code"] == module["code"] for m in cleaned):
            problems[f"modules[{index}].code"] = f"code {module['code']!r} is used twice"
        elif module is not None:
            cleaned.append(module)
    return cleaned


def _module(item: Any, where: str, problems: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        problems[where] = "must be an object with code, title and hours"
        return None
    extra = sorted(str(key) for key in item if key not in ("code", "title", "hours"))
    if extra:
        problems[where] = "unknown field(s): " + ", ".join(extra)
    code = _text(item.get("code"), f"{where}.code", problems, required=True, limit=32)
    title = _text(item.get("title"), f"{where}.title", problems, required=True, limit=200)
    hours = _hours(item.get("hours"))
    if hours is None:
        problems[f"{where}.hours"] = f"must be a number of hours above 0 and at most {MAX_MODULE_HOURS}"
    return {"code": code, "title": title, "hours": hours} if not extra and code and title and hours else None


def _hours(value: Any) -> int | float | None:
    """Hours of a module: a finite number in (0, MAX_MODULE_HOURS], never a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value if 0 < value <= MAX_MODULE_HOURS else None


# ---- shared input checks --------------------------------------------------------------------------------------


def _product(session: Session, product_code: Any, problems: dict[str, str]) -> Product | None:
    product = None
    if isinstance(product_code, str) and product_code.strip():
        product = session.scalars(sa.select(Product).where(Product.code == product_code.strip())).first()
    if product is None:
        problems["product_code"] = f"no product with code {product_code!r}"
    return product


def _date(value: Any, field: str, problems: dict[str, str]) -> date | None:
    """A calendar date, given as a date or as ISO 'YYYY-MM-DD' text (a datetime is refused: it hides a zone)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems[field] = "must be a date (YYYY-MM-DD)"
    return None


def _text(value: Any, field: str, problems: dict[str, str], *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Stripped text of at most `limit` characters without NUL; '' (and a problem if required) otherwise."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        problems[field] = f"must be text of at most {limit} characters"
        return ""
    if required and not value.strip():
        problems[field] = "this field is required"
    return value.strip()


def _store(
    session: Session,
    record: WarrantyPolicy | ServiceContract | TrainingSyllabus,
    kind: str,
    actor: User,
    message: str,
    data: dict[str, Any],
) -> None:
    """Add and flush a new record, with its timeline entry (who set the master data, and when)."""
    session.add(record)
    session.flush()
    version = getattr(record, "version", None)
    log_event(session, kind, actor=actor.username, message=message, data={**data, "version": version, "id": record.id})


def _next_version(session: Session, model: type[WarrantyPolicy] | type[TrainingSyllabus], product_id: int) -> int:
    latest = session.scalar(sa.select(sa.func.max(model.version)).where(model.product_id == product_id))
    return int(latest or 0) + 1
