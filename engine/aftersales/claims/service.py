"""The supplier claim lifecycle (§5.5): raised by the Service Department from a visit or from any case whose part
cannot be recovered, then handled by Sales in its own `supplier_claim` process: submitted to the supplier, the
supplier's answer (accepted, partly accepted, rejected), and the settlement.

A claim can take months: its process runs beside the case (a child of the case's instance, so it is listed with
the case) and never holds the visit round or the case. A claim is open until it is settled or rejected
(`closed_at`); the case's closure and the 20-working-day follow-up (§5.5) read the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.claims.suppliers import active_supplier
from engine.aftersales.dispatch import documents
from engine.aftersales.dispatch.parts import check_part_numbers
from engine.aftersales.event_dates import future_day_problem
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.definitions import require_startable_version
from engine.platform.registry import Termination
from engine.platform.runtime import Runtime
from engine.platform.step import start_instance
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.csi import FINAL_STATUSES
from engine.records.process import ProcessInstance
from engine.records.supplier import Supplier
from engine.records.supplier_claim import SupplierClaim
from engine.records.user import Role
from engine.records.user import User
from engine.records.work_order import MAX_MONEY

CLAIM_PROCESS_ID = "supplier_claim"
CLAIM_RAISERS = (Role.SERVICE_MANAGER.value,)  # §5.5: the Service Department raises the CSI and copies it to Sales
MAX_AMOUNT = MAX_MONEY
MAX_QUANTITY = 100000
MAX_REASON = 2000


def claim_is_open() -> sa.ColumnElement[bool]:
    """SQL: the claim is neither settled nor rejected (older one-shot claims closed on their outcome)."""
    return SupplierClaim.closed_at.is_(None)


def get_claim(session: Session, sc_no: str) -> SupplierClaim:
    """The claim with this number, locked for the step that changes it.

    :raises NotFoundError: no such claim.
    """
    query = sa.select(SupplierClaim).where(SupplierClaim.sc_no == str(sc_no)).with_for_update()
    claim = session.scalars(query).first()
    if claim is None:
        raise NotFoundError(Problem("record_missing", f"supplier claim {sc_no} does not exist", record=str(sc_no)))
    return claim


def start_claim_process(
    session: Session,
    runtime: Runtime,
    claim: SupplierClaim,
    *,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
    parent_id: int | None,
) -> ProcessInstance:
    """Start the claim's own `supplier_claim` instance for Sales, beside the case (never waited for)."""
    csi = session.get(CSI, claim.csi_id)
    data = {"csi_id": claim.csi_id, "csi_no": csi.csi_no if csi else "", "supplier_claim_no": claim.sc_no}
    return start_instance(
        session,
        runtime,
        require_startable_version(session, CLAIM_PROCESS_ID),
        data,
        actor=actor,
        calendar=calendar,
        csi_id=claim.csi_id,
        parent_instance_id=parent_id,
        business_key=claim.sc_no,
    )


def case_root_instance(session: Session, csi_id: int) -> int | None:
    """The case's own instance (its newest; rounds and claims are its children)."""
    query = (
        sa.select(ProcessInstance.id)
        .where(ProcessInstance.csi_id == csi_id, ProcessInstance.parent_instance_id.is_(None))
        .order_by(ProcessInstance.id.desc())
    )
    return session.scalars(query).first()


def raise_case_claim(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    body: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> SupplierClaim:
    """§5.5: a part of the case cannot be recovered: the service manager raises a claim `{part_no, quantity, reason,
    supplier_code?, claim_amount?}` with the CSI snapshot and the claim process starts for Sales.

    :raises PermissionDeniedError: not a service manager. :raises NotFoundError: no such case.
    :raises ConflictError: the case is closed or cancelled. :raises InvalidInputError: each bad field named.
    """
    check_role(user, *CLAIM_RAISERS)
    csi = session.get(CSI, int(csi_id))
    if csi is None:
        raise NotFoundError(Problem("case_missing", f"CSI {csi_id} does not exist", case=csi_id))
    if csi.status in FINAL_STATUSES:
        raise ConflictError(
            Problem("case_ended", f"{csi.csi_no} is {csi.status}: no claim can be raised on it", case=csi.csi_no)
        )
    fields = body if isinstance(body, Mapping) else {}
    problems: dict[str, str] = {}
    part_no = str(fields.get("part_no") or "").strip()
    if not part_no:
        problems["part_no"] = Problem("required", "this field is required")
    quantity = fields.get("quantity")
    if type(quantity) is float and quantity.is_integer():
        quantity = int(quantity)
    if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
        problems["quantity"] = Problem("positive", "a whole number above 0")
    reason = fields.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems["reason"] = Problem("required", "this field is required")
    elif len(reason) > MAX_REASON or "\x00" in reason:
        problems["reason"] = Problem("too_long", f"at most {MAX_REASON} characters", limit=MAX_REASON)
    amount = None
    if fields.get("claim_amount") is not None:
        amount = _amount(fields.get("claim_amount"), "claim_amount", problems)
    supplier = None
    if fields.get("supplier_code") not in (None, ""):
        try:
            supplier = active_supplier(session, fields.get("supplier_code"), "supplier_code")
        except InvalidInputError as exc:
            problems.update(exc.fields)
    if part_no:
        try:
            check_part_numbers(session, [{"part_no": part_no}], "part_no")
        except InvalidInputError as exc:
            problems.update(exc.fields)
    if problems:
        raise InvalidInputError("the supplier claim has errors", problems)
    claim = documents.raise_supplier_claim(
        session,
        csi,
        actor=user.username,
        parts=[{"part_no": part_no, "qty": quantity}],
        reason=str(reason).strip(),
    )
    if supplier is not None:
        _name_supplier(claim, supplier)
    claim.claim_amount = amount
    start_claim_process(
        session, runtime, claim, actor=user.username, calendar=calendar, parent_id=case_root_instance(session, csi.id)
    )
    return claim


def submit(session: Session, claim: SupplierClaim, form: Mapping[str, Any], *, actor: str) -> None:
    """§5.5: Sales sends the claim to a supplier of the master: parts, claimed amount and the reference sent (a claim
    marked submitted by the older one-shot task is confirmed with its supplier of the master the same way).

    :raises InvalidInputError: unknown or inactive supplier, unknown part, negative amount. :raises ConflictError:
        the supplier already answered.
    """
    _expect(claim, ("open", "submitted"))
    problems: dict[str, str] = {}
    supplier = None
    try:
        supplier = active_supplier(session, form.get("supplier_code"), "supplier_code")
    except InvalidInputError as exc:
        problems.update(exc.fields)
    parts = [dict(p) for p in form.get("parts") or []] or list(claim.parts or [])
    try:
        check_part_numbers(session, parts, "parts")
    except InvalidInputError as exc:
        problems.update(exc.fields)
    amount = _amount(form.get("claim_amount"), "claim_amount", problems)
    if problems or supplier is None or amount is None:
        raise InvalidInputError("the claim has errors", problems)
    _name_supplier(claim, supplier)
    claim.parts = parts or None
    claim.claim_amount = amount
    claim.reference_sent = str(form.get("reference_sent") or "").strip() or None
    claim.notes = form.get("notes") or claim.notes
    claim.status = "submitted"
    claim.submitted_at = utcnow()
    claim.handled_by = actor
    _log(session, claim, actor, "supplier_claim.submitted", supplier=supplier.code, claim_amount=str(amount))


def record_answer(session: Session, claim: SupplierClaim, form: Mapping[str, Any], *, actor: str) -> str:
    """§5.5: the supplier's answer: accepted (the claimed amount unless less is given), partly accepted (an amount
    up to the claimed one), or rejected (with the supplier's reason; the claim closes). Returns the new status.

    :raises InvalidInputError: accepted amount above the claimed one or missing, rejection without reason.
    :raises ConflictError: the claim is not waiting for an answer.
    """
    _expect(claim, ("submitted",))
    answer = str(form.get("supplier_answer") or "")
    problems: dict[str, str] = {}
    claimed = Decimal(claim.claim_amount or 0)
    accepted: Decimal | None = None
    if answer == "rejected":
        reason = str(form.get("rejection_reason") or "").strip()
        if not reason:
            problems["rejection_reason"] = Problem("required", "the supplier's reason for the rejection is required")
    else:
        given = form.get("accepted_amount")
        if given is None and answer == "accepted":
            accepted = claimed
        elif given is None:
            problems["accepted_amount"] = Problem("required", "the amount the supplier accepts is required")
        else:
            accepted = _amount(given, "accepted_amount", problems)
            if accepted is not None and accepted > claimed:
                problems["accepted_amount"] = Problem(
                    "above_claimed", f"more than the claimed {claimed}", claimed=str(claimed)
                )
            elif accepted is not None and answer == "partly_accepted" and not 0 < accepted < claimed:
                problems["accepted_amount"] = Problem(
                    "not_partial", f"a part of the claimed {claimed}: more than 0 and less", claimed=str(claimed)
                )
    if problems:
        raise InvalidInputError("the supplier's answer has errors", problems)
    now = utcnow()
    claim.status = answer
    claim.answered_at = now
    claim.handled_by = actor
    if answer == "rejected":
        claim.rejection_reason = str(form.get("rejection_reason")).strip()
        claim.closed_at = now
    else:
        claim.accepted_amount = accepted
    if form.get("notes"):
        claim.notes = form.get("notes")
    _log(
        session,
        claim,
        actor,
        "supplier_claim.answered",
        answer=answer,
        accepted_amount=str(accepted) if accepted is not None else None,
        rejection_reason=claim.rejection_reason,
    )
    return answer


def settle(session: Session, claim: SupplierClaim, form: Mapping[str, Any], *, actor: str) -> None:
    """§5.5: the supplier settled the accepted claim (credit note, replacement parts or payment): recovered amount,
    date and reference; the claim is settled and closed.

    :raises InvalidInputError: a negative amount, more than accepted, or a bad date. :raises ConflictError: the
        claim was not accepted.
    """
    _expect(claim, ("accepted", "partly_accepted"))
    problems: dict[str, str] = {}
    recovered = _amount(form.get("recovered_amount"), "recovered_amount", problems)
    accepted = Decimal(claim.accepted_amount or 0)
    if recovered is not None and recovered > accepted:
        problems["recovered_amount"] = Problem(
            "above_accepted", f"more than the accepted {accepted}", accepted=str(accepted)
        )
    settled_on = None
    try:
        settled_on = date.fromisoformat(str(form.get("settled_on") or ""))
    except ValueError:
        problems["settled_on"] = Problem("date", "must be a date such as 2026-12-24")
    else:
        if future := future_day_problem(settled_on):
            problems["settled_on"] = future
    if problems or recovered is None or settled_on is None:
        raise InvalidInputError("the settlement has errors", problems)
    claim.recovered_amount = recovered
    claim.settled_on = settled_on
    claim.settlement_kind = str(form.get("settlement_kind") or "") or None
    claim.settlement_reference = str(form.get("settlement_reference") or "").strip() or None
    claim.status = "settled"
    claim.closed_at = utcnow()
    claim.handled_by = actor
    if form.get("notes"):
        claim.notes = form.get("notes")
    _log(
        session,
        claim,
        actor,
        "supplier_claim.settled",
        recovered_amount=str(recovered),
        settlement_kind=claim.settlement_kind,
        settlement_reference=claim.settlement_reference,
    )


def case_claims(session: Session, csi_id: int) -> list[tuple[SupplierClaim, Supplier | None]]:
    """The case's claims, oldest first, each with its supplier of the master (None on older free-text claims)."""
    query = (
        sa.select(SupplierClaim, Supplier)
        .outerjoin(Supplier, Supplier.id == SupplierClaim.supplier_id)
        .where(SupplierClaim.csi_id == csi_id)
        .order_by(SupplierClaim.id)
    )
    return [(claim, supplier) for claim, supplier in session.execute(query)]


def resume_open_claims(
    session: Session, runtime: Runtime, *, actor: str, calendar: Callable[[], BusinessCalendar]
) -> list[str]:
    """After the upgrade to the claim process: start it for every open claim that has none (claims the older
    one-shot task left open), so Sales can record the supplier's answer and the settlement; returns their numbers."""
    running = sa.select(ProcessInstance.business_key).where(ProcessInstance.process_id == CLAIM_PROCESS_ID)
    query = (
        sa.select(SupplierClaim)
        .where(claim_is_open(), SupplierClaim.status.in_(("open", "submitted")), SupplierClaim.sc_no.not_in(running))
        .order_by(SupplierClaim.id)
    )
    resumed: list[str] = []
    for claim in session.scalars(query):
        parent = case_root_instance(session, claim.csi_id)
        start_claim_process(session, runtime, claim, actor=actor, calendar=calendar, parent_id=parent)
        resumed.append(claim.sc_no)
    return resumed


def close_terminated_claim(termination: Termination) -> None:
    """Termination hook: a claim whose process was ended by a person (monitoring, or its case withdrawn) is closed
    as it stood, with the reason on the timeline, so no one is reminded of a claim nobody can carry on."""
    instance, session = termination.instance, termination.session
    if instance.process_id != CLAIM_PROCESS_ID or not instance.business_key:
        return
    query = sa.select(SupplierClaim).where(
        SupplierClaim.sc_no == instance.business_key, SupplierClaim.csi_id == instance.csi_id
    )
    claim = session.scalars(query).first()
    if claim is None or claim.closed_at is not None:
        return
    claim.closed_at = utcnow()
    claim.status = "cancelled"  # an integrator reading the status sees the claim ended, not a live "open" one
    _log(session, claim, termination.actor, "supplier_claim.ended", reason=termination.reason)


def claim_dict(claim: SupplierClaim, supplier: Supplier | None = None) -> dict[str, Any]:
    """The API shape of a claim (amounts as strings, as money is elsewhere)."""

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return {
        "sc_no": claim.sc_no,
        "status": claim.status,
        "supplier": claim.supplier,
        "supplier_code": supplier.code if supplier is not None else None,
        "parts": claim.parts or [],
        "reason": claim.reason,
        "claim_amount": text(claim.claim_amount),
        "accepted_amount": text(claim.accepted_amount),
        "recovered_amount": text(claim.recovered_amount),
        "created_at": claim.created_at.isoformat(),
        "closed_at": claim.closed_at.isoformat() if claim.closed_at else None,
    }


def _name_supplier(claim: SupplierClaim, supplier: Supplier) -> None:
    claim.supplier_id = supplier.id
    claim.supplier = supplier.name  # the name as claimed, readable as before the master


def _expect(claim: SupplierClaim, statuses: tuple[str, ...]) -> None:
    if claim.status not in statuses:
        raise ConflictError(
            Problem("claim_state", f"{claim.sc_no} is {claim.status}", record=claim.sc_no, status=claim.status)
        )


def _amount(value: Any, field: str, problems: dict[str, str]) -> Decimal | None:
    """A money amount of at least 0 with two decimals, or a problem naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems[field] = Problem("number", "enter a number")
        return None
    try:
        given = Decimal(str(value))
        amount = given.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        problems[field] = Problem("number", "enter a number")
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        problems[field] = Problem("range", f"must be from 0 to {MAX_AMOUNT}")
        return None
    if amount != given:
        problems[field] = Problem("cents", "at most two decimals (fen)")
        return None
    return amount + 0  # -0.00 is 0.00


def _log(session: Session, claim: SupplierClaim, actor: str, kind: str, **data: Any) -> None:
    log_event(
        session,
        kind,
        actor=actor,
        csi_id=claim.csi_id,
        message=claim.sc_no,
        data={"number": claim.sc_no, "status": claim.status, **{k: v for k, v in data.items() if v is not None}},
    )
