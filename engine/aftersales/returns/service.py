"""§3.1 spare parts: "service is return, exchange or compensation". A service manager registers a returned part on
its case (RT number, the sale's SO), which starts the `part_return` process; its steps are the model's
operators (engine/aftersales/returns/operators.py)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.cases.lifecycle import lock_case
from engine.aftersales.dispatch.parts import check_part_numbers
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.access import check_role
from engine.platform.definitions import require_startable_version
from engine.platform.runtime import Runtime
from engine.platform.step import start_instance
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.numbering import next_number
from engine.records.part_return import PartReturn
from engine.records.part_return import Remedy
from engine.records.part_return import ReturnStatus
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User

RETURN_PROCESS_ID = "part_return"
RETURN_PREFIX = "RT"
MAX_QUANTITY = 100_000
_FIELDS = ("part_no", "quantity", "remedy", "reason")
_LIMITS = {"part_no": 64, "reason": 2000}


@dataclass(frozen=True)
class ReturnRequest:
    """A checked request to take back a spare part (the API body and the case page's form both become one)."""

    part_no: str
    quantity: int
    remedy: Remedy
    reason: str


def parse_return_request(session: Session, body: Any) -> ReturnRequest:
    """Check `{part_no, quantity, remedy, reason}`: the part is in the parts master, quantity > 0, a known remedy.

    :raises InvalidInputError: naming every bad field.
    """
    if not isinstance(body, Mapping):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    problems: dict[str, str] = {name: Problem("unknown", "unknown field") for name in body if name not in _FIELDS}
    for name, limit in _LIMITS.items():
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems[name] = Problem("required", "this field is required")
        elif not isinstance(value, str) or len(value) > limit or "\x00" in value:
            problems[name] = Problem("too_long", f"must be text of at most {limit} characters", limit=limit)
    quantity = body.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
        problems["quantity"] = Problem("range", f"must be a whole number from 1 to {MAX_QUANTITY}")
    remedy = body.get("remedy")
    if not isinstance(remedy, str) or remedy not in {r.value for r in Remedy}:
        problems["remedy"] = Problem("choice", "must be one of: " + ", ".join(r.value for r in Remedy))
    part_no = str(body.get("part_no") or "").strip()
    if "part_no" not in problems:
        try:
            check_part_numbers(session, [{"part_no": part_no}], "part_no")  # §3.1: a spare part of the master
        except InvalidInputError as exc:
            problems.update(exc.fields)
    if problems or not isinstance(quantity, int):
        raise InvalidInputError("the return has errors", problems)
    return ReturnRequest(part_no=part_no, quantity=quantity, remedy=Remedy(str(remedy)), reason=body["reason"].strip())


def start_part_return(
    session: Session,
    runtime: Runtime,
    user: User,
    csi_id: int,
    body: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> PartReturn:
    """Register a returned spare part on an open case (§3.1) and start its process; nothing is written on refusal.

    :raises PermissionDeniedError: not a service manager. :raises InvalidInputError: a bad field (named).
    :raises ConflictError: the case is closed or cancelled.
    """
    check_role(user, Role.SERVICE_MANAGER.value)
    csi = lock_case(session, csi_id)
    if csi.is_final:
        raise ConflictError(
            Problem("case_final", f"{csi.csi_no} is {csi.status}; a return needs an open case", case=csi.csi_no)
        )
    request = parse_return_request(session, body)
    now = utcnow()
    record = PartReturn(
        rt_no=_number(session),
        csi_id=csi.id,
        origin_so_no=csi.origin_so_no,
        part_no=request.part_no,
        quantity=request.quantity,
        remedy=request.remedy.value,
        reason=request.reason,
        status=ReturnStatus.REGISTERED.value,
        registered_by=user.username,
        registered_at=now,
    )
    session.add(record)
    session.flush()
    log_event(
        session,
        "part_return.registered",
        actor=user.username,
        csi_id=csi.id,
        message=record.rt_no,
        data={"part_no": record.part_no, "quantity": record.quantity, "remedy": record.remedy},
    )
    instance = start_instance(
        session,
        runtime,
        require_startable_version(session, RETURN_PROCESS_ID),
        return_start_data(csi, record),
        actor=user.username,
        calendar=calendar,
        csi_id=csi.id,
        parent_instance_id=_case_instance_id(session, csi),
        business_key=record.rt_no,
    )
    record.instance_id = instance.id
    return record


def return_start_data(csi: CSI, record: PartReturn) -> dict[str, Any]:
    """The return process's start data: the case and the return (the steps find the record by rt_no)."""
    return {
        "csi_id": csi.id,
        "csi_no": csi.csi_no,
        "rt_no": record.rt_no,
        "part_no": record.part_no,
        "quantity": record.quantity,
        "remedy": record.remedy,
        "origin_so_no": record.origin_so_no,
    }


def _case_instance_id(session: Session, csi: CSI) -> int | None:
    """The case's own instance: the return runs under it, so withdrawing the case ends the return too."""
    query = (
        sa.select(ProcessInstance.id)
        .where(ProcessInstance.csi_id == csi.id, ProcessInstance.parent_instance_id.is_(None))
        .order_by(ProcessInstance.id.desc())
    )
    return session.scalars(query).first()


def _number(session: Session) -> str:
    return next_number(session, RETURN_PREFIX, utcnow().astimezone(ZoneInfo(BUSINESS_TIMEZONE)).year)


def get_part_return(session: Session, rt_no: str) -> PartReturn:
    """One return by its RT number.

    :raises NotFoundError: unknown number.
    """
    record = session.scalars(sa.select(PartReturn).where(PartReturn.rt_no == rt_no)).first()
    if record is None:
        raise NotFoundError(Problem("record_missing", f"no part return numbered {rt_no!r}", record=rt_no))
    return record


def case_returns(session: Session, csi_id: int) -> list[PartReturn]:
    """A case's part returns, oldest first."""
    return list(session.scalars(sa.select(PartReturn).where(PartReturn.csi_id == csi_id).order_by(PartReturn.id)))
