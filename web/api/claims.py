"""Supplier claims (§5.5): the supplier master kept by Sales, and a claim raised on a case by the service manager
when a part cannot be recovered (its claim process then starts for Sales)."""

from __future__ import annotations

from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.aftersales.claims import service as claims
from engine.aftersales.claims import suppliers
from engine.errors import InvalidInputError
from engine.platform.access import check_can_view_case
from engine.records.supplier import Supplier
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.context import app_context
from web.context import calendar_loader
from web.context import db


def _object() -> dict[str, object]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    return body


@bp.get("/suppliers")
def list_suppliers() -> Response:
    """The supplier master by code (`?active=1`: only the suppliers a new claim may name)."""
    active = request.args.get("active")
    if active not in (None, "0", "1", "true"):
        raise InvalidInputError("bad active", {"active": "must be 1, true or 0"})
    active_only = active in ("1", "true")
    return jsonify([suppliers.supplier_dict(s) for s in suppliers.list_suppliers(db(), active_only=active_only)])


@bp.post("/suppliers")
def create_supplier() -> tuple[Response, int]:
    """§5.5: Sales (or an admin) adds a supplier `{code, name, contact?, phone?, email?, active?}`."""
    supplier = suppliers.create_supplier(db(), caller(), _object())
    db().commit()
    return jsonify(suppliers.supplier_dict(supplier)), 201


@bp.patch("/suppliers/<code>")
def update_supplier(code: str) -> Response:
    """§5.5: Sales (or an admin) changes a supplier's name, contact, phone, e-mail or `active` (code is fixed)."""
    supplier = suppliers.update_supplier(db(), caller(), code, _object())
    db().commit()
    return jsonify(suppliers.supplier_dict(supplier))


@bp.get("/cases/<int:case_id>/supplier-claims")
def case_supplier_claims(case_id: int) -> Response:
    """The case's supplier claims, oldest first, with their status and amounts (§5.5)."""
    session = db()
    csi = cases.get_csi(session, case_id)
    check_can_view_case(caller(), csi)
    return jsonify([claims.claim_dict(c, s) for c, s in claims.case_claims(session, csi.id)])


@bp.post("/cases/<int:case_id>/supplier-claims")
def raise_supplier_claim(case_id: int) -> tuple[Response, int]:
    """§5.5: a part of the case cannot be recovered: the service manager raises a supplier claim `{part_no,
    quantity, reason, supplier_code?, claim_amount?}`; the CSI is copied to Sales and the claim process starts."""
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    body = json_body()
    claim = claims.raise_case_claim(
        session, app_context().runtime, caller(), case_id, body, calendar=calendar_loader(session)
    )
    session.commit()
    supplier = session.get(Supplier, claim.supplier_id) if claim.supplier_id is not None else None
    return jsonify(claims.claim_dict(claim, supplier)), 201
