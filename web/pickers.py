"""Pickers (issue 11 item 2): `ui:widget` values any designer can put on a form field, filled from the records when
the form is shown, so staff choose instead of typing login names or syllabus codes.

- `"users"` with `"ui:options": {"role": "<role key>"}`: the active users holding that role (a string field: one of
  them; an array of strings: several), engineers with their open WO count (§2.6, §5.3).
- `"ui:options": {"default": "customer_site"}`: the field starts with the case's customer (name, and country when
  abroad) so the WO site is never empty when the customer is known.
- `"suppliers"`: the active suppliers of the supplier master, by code (§5.5 claims).
- `"ui:options": {"default": "claim"}`: the field starts with the same field of the supplier claim the task's
  instance handles (its business key is the SC number, §5.5): what the service manager named when raising it.
- `"syllabus_modules"`: the modules of the case product's current training syllabus as check boxes (§6.1); free
  text when design has not written one.

The choices become an `enum` on a copy of the form schema, so the task page's own renderer and parser handle them;
the engine still validates what is submitted (the WO's engineers, the syllabus) whatever the page offered.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.claims.suppliers import list_suppliers
from engine.aftersales.policies.service import current_syllabus
from engine.records.csi import CSI
from engine.records.master import Product
from engine.records.supplier import Supplier
from engine.records.supplier_claim import SupplierClaim
from engine.records.user import User
from engine.records.user import UserRole
from engine.records.work_order import WorkOrder
from engine.records.work_order import WorkOrderStatus

PICKERS = ("users", "syllabus_modules", "suppliers")


def with_pickers(
    session: Session, schema: Mapping[str, Any], ui: Mapping[str, Any], csi: CSI | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copies of the form schema and UI schema with every picker field turned into a choice of current records."""
    wanted = [
        name
        for name, hints in ui.items()
        if isinstance(hints, Mapping) and hints.get("ui:widget") in PICKERS and name in schema.get("properties", {})
    ]
    if not wanted:
        return dict(schema), dict(ui)
    schema_copy, ui_copy = copy.deepcopy(dict(schema)), copy.deepcopy(dict(ui))
    for name in wanted:
        node, hints = schema_copy["properties"][name], ui_copy[name]
        options = _options(session, hints, csi)
        if options is None:  # nothing to pick from (no syllabus yet): the field stays as it is
            del hints["ui:widget"]
            continue
        _as_choice(node, hints, options)
    return schema_copy, ui_copy


def _options(session: Session, hints: Mapping[str, Any], csi: CSI | None) -> list[tuple[str, str, str]] | None:
    widget = hints["ui:widget"]
    if widget == "users":
        return _user_options(session, hints)
    if widget == "suppliers":
        found = list_suppliers(session, active_only=True)
        return [(s.code, f"{s.code} · {s.name}", f"{s.code} · {s.name}") for s in found] or None
    return _module_options(session, csi)


def _as_choice(node: dict[str, Any], hints: dict[str, Any], options: list[tuple[str, str, str]]) -> None:
    target = node.setdefault("items", {"type": "string"}) if node.get("type") == "array" else node
    target["enum"] = [value for value, _, _ in options]
    target["x-enumNames"] = [zh for _, zh, _ in options]
    target.setdefault("x-i18n", {}).setdefault("en", {})["enumNames"] = [en for _, _, en in options]
    if node.get("type") == "array":
        node.setdefault("x-i18n", {}).setdefault("en", {})["enumNames"] = [en for _, _, en in options]
    hints["ui:widget"] = "checkboxes" if node.get("type") == "array" else "select"


def _user_options(session: Session, hints: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    role = str((hints.get("ui:options") or {}).get("role", ""))
    people = list(
        session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.active)
            .order_by(User.username)
        )
    )
    load = _open_work_orders(session) if role == "service_engineer" else {}
    options = []
    for user in people:
        name = user.display_name or user.username
        if role == "service_engineer":
            count = load.get(user.username, 0)
            options.append((user.username, f"{name} · {count} 个未完成工单", f"{name} · {count} open WO(s)"))
        else:
            options.append((user.username, name, name))
    return options


def _open_work_orders(session: Session) -> dict[str, int]:
    """Open WOs per engineer (a WO lists its engineers in a JSON column, counted here rather than in SQL)."""
    counts: dict[str, int] = {}
    rows = session.scalars(
        sa.select(WorkOrder.engineers).where(
            WorkOrder.status.in_((WorkOrderStatus.OPEN.value, WorkOrderStatus.IN_PROGRESS.value))
        )
    )
    for engineers in rows:
        for username in engineers or []:
            counts[str(username)] = counts.get(str(username), 0) + 1
    return counts


def _module_options(session: Session, csi: CSI | None) -> list[tuple[str, str, str]] | None:
    product = (
        session.scalar(sa.select(Product).where(Product.code == csi.product_code)) if csi and csi.product_code else None
    )
    syllabus = current_syllabus(session, product) if product is not None else None
    if syllabus is None or not syllabus.modules:
        return None
    options = []
    for module in syllabus.modules:
        title = str(module.get("title", module.get("code", "")))
        hours = module.get("hours")
        label = f"{module.get('code')} · {title}" + (f"（{hours} 小时）" if hours else "")
        label_en = f"{module.get('code')} · {title}" + (f" ({hours} h)" if hours else "")
        options.append((title, label, label_en))
    return options


def form_defaults(
    ui: Mapping[str, Any], csi: CSI | None, session: Session | None = None, record_key: str | None = None
) -> dict[str, Any]:
    """Initial values the UI schema asks for from the case (`ui:options.default`), e.g. the WO site, or from the
    supplier claim whose number is the instance's business key (`record_key`)."""
    if csi is None:
        return {}
    defaults: dict[str, Any] = {}
    claim_values: dict[str, Any] | None = None
    for name, hints in ui.items():
        wanted = (hints.get("ui:options") or {}).get("default") if isinstance(hints, Mapping) else None
        if wanted == "customer_site":
            customer = csi.customer
            defaults[name] = customer.name if customer.country == "CN" else f"{customer.name} ({customer.country})"
        elif wanted == "claim" and session is not None and record_key:
            if claim_values is None:
                claim_values = _claim_values(session, csi.id, record_key)
            if claim_values.get(name) is not None:
                defaults[name] = claim_values[name]
    return defaults


def _claim_values(session: Session, csi_id: int, sc_no: str) -> dict[str, Any]:
    """A claim's supplier (code, when it is active), claimed amount and parts, as a form's initial values."""
    query = sa.select(SupplierClaim).where(SupplierClaim.sc_no == sc_no, SupplierClaim.csi_id == csi_id)
    claim = session.scalars(query).first()
    if claim is None:
        return {}
    supplier = session.get(Supplier, claim.supplier_id) if claim.supplier_id is not None else None
    return {
        "supplier_code": supplier.code if supplier is not None and supplier.active else None,
        "claim_amount": float(claim.claim_amount) if claim.claim_amount is not None else None,
        "parts": list(claim.parts) if claim.parts else None,
    }
