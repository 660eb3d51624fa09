"""Correct a registration (issue 9, §4.2, §4.6): a wrong but valid SO#, serial, customer, kind, text or time received.

Allowed until the plan is decided. Every registration check runs again on the corrected request; coverage, warranty
(§3.2), the service_billing DMN inputs and the §4.6 deadline are recomputed, and the waiting §4.6 timer re-armed.
The case process keeps its place; a corrected *kind* changes the path the process takes from its start (root-cause
analysis for quality complaints, §4.2; none for the others), so the case process restarts from registration with the
corrected data (the old instance is terminated with the reason). Before and after go on the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.aftersales.cases.lifecycle import LIFECYCLE_ROLES
from engine.aftersales.cases.lifecycle import lock_case
from engine.aftersales.intake.service import PLAN_WORKING_DAYS
from engine.aftersales.intake.service import apply_coverage
from engine.aftersales.intake.service import check_received_after_sale
from engine.aftersales.intake.service import parse_register_request
from engine.aftersales.intake.service import resolve_master_data
from engine.aftersales.intake.service import start_case_process
from engine.aftersales.review.sla import PLAN_DUE_VARIABLE
from engine.aftersales.review.sla import running_case_instance
from engine.calendar import BusinessCalendar
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.admin_actions import check_reason
from engine.platform.admin_actions import terminate_for
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import CaseKind
from engine.records.user import User

CORRECTABLE = ("origin_so_no", "serial_no", "customer_code", "kind", "description", "received_at")
_TRACKED = (
    "kind",
    "customer_id",
    "origin_so_no",
    "serial_no",
    "product_code",
    "sale_date",
    "description",
    "received_at",
    "overseas",
    "coverage",
    "warranty_until",
    "policy_version",
    "contract_no",
    "archive_required",
    "plan_due_at",
    "plan_due_provisional",
)


def correct_registration(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    body: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
    timezone: str = "Asia/Shanghai",
) -> CSI:
    """Apply a corrected registration `{fields…, reason}` to a case whose plan is not decided yet.

    :raises PermissionDeniedError: not a service manager or supervisor. :raises InvalidInputError: no reason, no or
        unknown field, or a registration check fails (nothing changes). :raises ConflictError: the plan is decided,
        the case is closed or cancelled, or its process is not running.
    """
    check_role(user, *LIFECYCLE_ROLES)
    changes = _parse_changes(body)
    csi = lock_case(session, csi_id)
    _check_open(csi)
    instance = running_case_instance(session, csi, "before correcting")
    request = parse_register_request(_merged(csi, changes))
    if request.kind != csi.kind and CaseKind.TRAINING_REQUEST in (request.kind, csi.kind):
        raise InvalidInputError(
            "a training request has no review",
            {"kind": Problem("kind_training", "§6: a training request runs another path; withdraw and register again")},
        )
    customer, order, line = resolve_master_data(session, request)
    before = _values(csi)
    customer_changed = customer.id != csi.customer_id
    csi.kind, csi.customer_id, csi.description = request.kind.value, customer.id, request.description
    previous_order = csi.sales_order_id
    csi.origin_so_no, csi.sales_order_id = (order.so_no, order.id) if order else (None, None)
    csi.serial_no = line.serial_no if line else request.serial_no
    csi.product_code = line.product.code if line else None
    csi.sale_date = order.sale_date if order else None
    if customer_changed:
        csi.overseas = customer.country != "CN"
    received_at = request.received_at or csi.received_at
    moved = received_at != csi.received_at or csi.sales_order_id != previous_order
    received_on = check_received_after_sale(order if moved else None, received_at, timezone)  # a kept pair stands
    csi.received_at = received_at
    apply_coverage(session, csi, customer, order, line, received_on)
    deadline = calendar().deadline(received_at, PLAN_WORKING_DAYS + (csi.sla_paused_days or 0))
    csi.plan_due_at, csi.plan_due_provisional = deadline.due_at, deadline.provisional
    diff = _diff(before, _values(csi))
    if not diff:
        raise InvalidInputError("nothing changed", {"body": Problem("nothing", "the corrected values are the same")})
    session.flush()
    log_event(
        session,
        "csi.corrected",
        actor=user.username,
        csi_id=csi.id,
        instance_id=instance.id,
        message=changes["reason"],
        data={"reason": changes["reason"], "changes": diff, "restarted": "kind" in diff},
    )
    if "kind" in diff:
        start_case_process(session, runtime, csi, line, actor=user.username, calendar=calendar)
        terminate_for(session, runtime, user, instance, changes["reason"], calendar=calendar)
    else:
        data = {
            "overseas": csi.overseas,
            "product_category": line.product.category if line else None,
            "coverage": csi.coverage,
        }
        due = None if csi.sla_paused_at is not None else deadline.due_at.isoformat()  # a paused timer stays parked
        run_step(
            session,
            runtime,
            instance,
            lambda handle: _update(runtime, handle, data, due),
            actor=user.username,
            calendar=calendar,
        )
    return csi


def _update(runtime: Runtime, handle: Any, data: Mapping[str, Any], due: str | None) -> None:
    runtime.update_data(handle, data)
    if due is not None:
        runtime.rearm_timers(handle, PLAN_DUE_VARIABLE, due)


def _parse_changes(body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    unknown = {name: Problem("unknown", "unknown field") for name in body if name not in (*CORRECTABLE, "reason")}
    if unknown:
        raise InvalidInputError("the correction has errors", unknown)
    reason = check_reason(body.get("reason"))
    fields = {name: body[name] for name in CORRECTABLE if name in body}
    if not fields:
        raise InvalidInputError(
            "nothing to correct", {"body": Problem("nothing", "name at least one field: " + ", ".join(CORRECTABLE))}
        )
    return {**fields, "reason": reason}


def _check_open(csi: CSI) -> None:
    if csi.is_final:
        raise ConflictError(f"{csi.csi_no} is {csi.status}; its registration can no longer be corrected")
    if csi.plan_decided_at is not None:
        raise ConflictError(f"the plan of {csi.csi_no} is decided; its registration can no longer be corrected")


def _merged(csi: CSI, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The registration as it stands, with the corrections (null or "" clears an optional field)."""
    current: dict[str, Any] = {
        "kind": csi.kind,
        "customer_code": csi.customer.code,
        "origin_so_no": csi.origin_so_no,
        "serial_no": csi.serial_no,
        "description": csi.description,
        "received_at": csi.received_at.isoformat(),
    }
    current.update({k: v for k, v in changes.items() if k != "reason"})
    return {k: v for k, v in current.items() if v is not None and v != ""}


def _values(csi: CSI) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _TRACKED:
        value = getattr(csi, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        out[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
