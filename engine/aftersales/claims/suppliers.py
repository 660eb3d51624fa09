"""The supplier master (§5.5): Sales keeps the suppliers a quality claim can be made against.

Suppliers are never deleted: one that is no longer used is made inactive, so older claims keep showing it while new
claims can only name an active supplier (422 naming the field otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.timeline import log_event
from engine.records.supplier import Supplier
from engine.records.user import Role
from engine.records.user import User

SUPPLIER_KEEPERS = (Role.SALES.value, Role.ADMIN.value)  # §5.5: Sales handles supplier claims
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LIMITS = {"name": 200, "contact": 100, "phone": 40, "email": 200}


def list_suppliers(session: Session, *, active_only: bool = False) -> list[Supplier]:
    """Every supplier by code (the active ones only, for a new claim's picker)."""
    query = sa.select(Supplier).order_by(Supplier.code)
    if active_only:
        query = query.where(Supplier.active.is_(True))
    return list(session.scalars(query))


def get_supplier(session: Session, code: str) -> Supplier:
    """The supplier with this code.

    :raises NotFoundError: no such supplier.
    """
    supplier = session.scalars(sa.select(Supplier).where(Supplier.code == str(code))).first()
    if supplier is None:
        raise NotFoundError(Problem("supplier_missing", f"supplier {code} does not exist", supplier=str(code)))
    return supplier


def active_supplier(session: Session, code: Any, field: str) -> Supplier:
    """The active supplier a claim names.

    :raises InvalidInputError: naming `field` when the code is unknown or the supplier inactive.
    """
    text = str(code or "").strip()
    supplier = session.scalars(sa.select(Supplier).where(Supplier.code == text)).first() if text else None
    if supplier is None:
        problem = Problem("unknown_supplier", f"not a supplier of the master: {text}", supplier=text)
        raise InvalidInputError("unknown supplier", {field: problem})
    if not supplier.active:
        problem = Problem("supplier_inactive", f"supplier {text} is inactive", supplier=text)
        raise InvalidInputError("inactive supplier", {field: problem})
    return supplier


def create_supplier(session: Session, actor: User, body: Mapping[str, Any]) -> Supplier:
    """Add a supplier `{code, name, contact?, phone?, email?, active?}`.

    :raises PermissionDeniedError: not Sales or an admin. :raises InvalidInputError: each bad field named, or the
        code already used.
    """
    check_role(actor, *SUPPLIER_KEEPERS)
    problems = _unknown(body, ("code", *LIMITS, "active"))
    raw_code = body.get("code")
    code = raw_code.strip() if isinstance(raw_code, str) else ""
    if not CODE.match(code):
        problems["code"] = Problem("pattern", "1–32 letters, digits, '-', '_' or '.'")
    elif session.scalars(sa.select(Supplier.id).where(Supplier.code == code)).first() is not None:
        problems["code"] = Problem("supplier_exists", f"supplier {code} already exists", supplier=code)
    fields = _fields(body, problems, creating=True)
    if problems:
        raise InvalidInputError("the supplier has errors", problems)
    now = utcnow()
    supplier = Supplier(code=code, created_at=now, updated_at=now, **fields)
    supplier.active = bool(fields.get("active", True))
    session.add(supplier)
    session.flush()
    log_event(session, "supplier.created", actor=actor.username, message=code, data={"name": supplier.name})
    return supplier


def update_supplier(session: Session, actor: User, code: str, body: Mapping[str, Any]) -> Supplier:
    """Change a supplier's name, contact, phone, e-mail or active flag (the code never changes).

    :raises PermissionDeniedError: not Sales or an admin. :raises NotFoundError: no such supplier.
    :raises InvalidInputError: each bad field named.
    """
    check_role(actor, *SUPPLIER_KEEPERS)
    supplier = get_supplier(session, code)
    problems = _unknown(body, (*LIMITS, "active"))  # the code names the supplier: it is never changed
    fields = _fields(body, problems, creating=False)
    if problems:
        raise InvalidInputError("the supplier has errors", problems)
    for name, value in fields.items():
        setattr(supplier, name, value)
    supplier.updated_at = utcnow()
    log_event(
        session,
        "supplier.updated",
        actor=actor.username,
        message=supplier.code,
        data={k: v for k, v in fields.items() if k in ("name", "active")},
    )
    return supplier


def _unknown(body: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """A problem for every field of `body` a supplier does not have (or may not change), so nothing is ignored."""
    return {str(name): Problem("unknown", "unknown field") for name in body if name not in allowed}


def _fields(body: Mapping[str, Any], problems: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """The checked fields present in `body` (the name is required when creating)."""
    fields: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        if name not in body and not (creating and name == "name"):
            continue
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name == "name":
                problems[name] = Problem("required", "this field is required")
            else:
                fields[name] = None
            continue
        if not isinstance(value, str) or "\x00" in value:
            problems[name] = Problem("type", "must be text")
        elif len(value.strip()) > limit:
            problems[name] = Problem("too_long", f"at most {limit} characters", limit=limit)
        elif name == "email" and not EMAIL.match(value.strip()):
            problems[name] = Problem("email", "not an e-mail address")
        else:
            fields[name] = value.strip()
    if "active" in body:
        if type(body["active"]) is not bool:
            problems["active"] = Problem("type", "must be true or false")
        else:
            fields["active"] = body["active"]
    return fields


def supplier_dict(supplier: Supplier) -> dict[str, Any]:
    """The API shape of a supplier."""
    return {
        "code": supplier.code,
        "name": supplier.name,
        "contact": supplier.contact,
        "phone": supplier.phone,
        "email": supplier.email,
        "active": supplier.active,
    }
