"""Master data of §2.4, §3 and §6.1: warranty policies and training syllabi (product design), service contracts."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.policies import service as policies
from engine.errors import InvalidInputError
from engine.records.policy import TrainingSyllabus
from engine.records.policy import WarrantyPolicy
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.context import db


def _policy(policy: WarrantyPolicy, product_code: str) -> dict[str, Any]:
    return {
        "product_code": product_code,
        "version": policy.version,
        "effective_from": policy.effective_from.isoformat(),
        "warranty_months": policy.warranty_months,
        "scope": policy.scope,
        "archive_required": policy.archive_required,
        "set_by": policy.set_by,
        "created_at": policy.created_at.isoformat(),
    }


def _syllabus(syllabus: TrainingSyllabus, product_code: str) -> dict[str, Any]:
    return {
        "product_code": product_code,
        "version": syllabus.version,
        "modules": syllabus.modules,
        "maintained_by": syllabus.maintained_by,
        "created_at": syllabus.created_at.isoformat(),
    }


def _value(body: dict[str, Any], name: str) -> Any:
    """A body field as given (the service validates and names every bad field)."""
    return body.get(name)


def _object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    return body


@bp.get("/products/<code>/warranty-policies")
def warranty_policies(code: str) -> Response:
    """Every version of a product's warranty policy (三包期, scope, archive requirement), newest last."""
    return jsonify([_policy(p, code) for p in policies.list_policies(db(), code)])


@bp.post("/products/<code>/warranty-policies")
def set_warranty_policy(code: str) -> tuple[Response, int]:
    """§2.4: product design sets a new policy version `{effective_from, warranty_months, scope, archive_required}`."""
    body = _object()
    policy = policies.set_warranty_policy(
        db(),
        caller(),
        code,
        effective_from=_value(body, "effective_from"),
        warranty_months=_value(body, "warranty_months"),
        scope=_value(body, "scope"),
        archive_required=_value(body, "archive_required"),
    )
    db().commit()
    return jsonify(_policy(policy, code)), 201


@bp.post("/products/<code>/syllabus")
def set_syllabus(code: str) -> tuple[Response, int]:
    """§6.1: product design writes a new syllabus version `{modules: [{code, title, hours}]}`."""
    syllabus = policies.set_training_syllabus(db(), caller(), code, modules=_object().get("modules"))
    db().commit()
    return jsonify(_syllabus(syllabus, code)), 201


@bp.post("/service-contracts")
def add_service_contract() -> tuple[Response, int]:
    """§3.2: record a service contract `{contract_no, customer_code, valid_from, valid_to, terms, origin_so_no}`."""
    body = _object()
    contract = policies.add_service_contract(
        db(),
        caller(),
        contract_no=_value(body, "contract_no"),
        customer_code=_value(body, "customer_code"),
        valid_from=_value(body, "valid_from"),
        valid_to=_value(body, "valid_to"),
        terms=_value(body, "terms") or "",
        origin_so_no=_value(body, "origin_so_no"),
    )
    db().commit()
    return jsonify(
        {
            "contract_no": contract.contract_no,
            "valid_from": contract.valid_from.isoformat(),
            "valid_to": contract.valid_to.isoformat(),
            "origin_so_no": contract.origin_so_no,
        }
    ), 201
