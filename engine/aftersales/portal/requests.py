"""Requests from the public page (§4.1: the service department receives every request): validated and stored with
their files, rate-limited per client address, announced to the service managers, who register the CSI from them
(or decline them with a reason)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.cases.attachments import add_attachment
from engine.aftersales.cases.attachments import check_file
from engine.aftersales.intake.service import parse_register_request
from engine.aftersales.intake.service import register_request
from engine.aftersales.portal.customer import welcome_contact
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.config import BUSINESS_TIMEZONE
from engine.errors import ConflictError
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.platform.runtime import Runtime
from engine.platform.timeline import log_event
from engine.platform.user_admin import EMAIL
from engine.records.csi import CSI
from engine.records.numbering import next_number
from engine.records.portal import CustomerRequest
from engine.records.portal import RequestStatus
from engine.records.user import Role
from engine.records.user import User

LIMITS = {
    "contact_name": 100,
    "contact_email": 320,
    "contact_phone": 40,
    "company": 200,
    "customer_code": 32,
    "product": 100,
    "serial_no": 64,
    "description": 4000,
}
REQUIRED = ("contact_name", "contact_email", "description")
MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
PER_ADDRESS = 5  # requests one client address may send per window
WINDOW = timedelta(hours=1)


class TooManyRequestsError(EngineError):
    """The client address sent too many requests in the window; `retry_after` in seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests from this address; try again later")
        self.retry_after = retry_after


def seconds_to_wait(session: Session, address: str) -> int:
    """0 when the address may send another request, else the seconds until its oldest one in the window expires."""
    now = utcnow()
    times = list(
        session.scalars(
            sa.select(CustomerRequest.created_at)
            .where(CustomerRequest.client_address == address[:64], CustomerRequest.created_at > now - WINDOW)
            .order_by(CustomerRequest.created_at)
        )
    )
    if len(times) < PER_ADDRESS:
        return 0
    return max(1, int((times[0] + WINDOW - now).total_seconds()) + 1)


def submit_request(
    session: Session,
    folder: Path,
    form: Mapping[str, Any],
    files: Sequence[tuple[str, bytes]],
    *,
    client_address: str,
) -> CustomerRequest:
    """Check and store a public request and tell the service managers.

    :raises TooManyRequestsError: the address is over its limit (nothing stored).
    :raises InvalidInputError: a message per bad field (nothing stored).
    """
    wait = seconds_to_wait(session, client_address)
    if wait:
        raise TooManyRequestsError(wait)
    values, problems = _checked(form)
    stored = _checked_files(files, problems)
    if problems:
        raise InvalidInputError("the request has errors", problems)
    saved = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, content_type, data in stored:
        storage = secrets.token_hex(16)
        (folder / storage).write_bytes(data)
        saved.append({"name": name, "type": content_type, "size": len(data), "storage": storage})
    now = utcnow()
    request = CustomerRequest(
        request_no=next_number(session, "REQ", now.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).year),
        status=RequestStatus.NEW.value,
        files=saved,
        client_address=client_address[:64],
        created_at=now,
        **values,
    )
    session.add(request)
    session.flush()
    managers = users_with_role(session, Role.SERVICE_MANAGER.value)
    params = {"key": request.request_no, "contact": request.contact_name, "company": request.company or "—"}
    notify(session, managers, "request.received", params, link=f"/requests/{request.id}", dedupe=f"req:{request.id}")
    return request


def _checked(form: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, limit in LIMITS.items():
        raw = form.get(name, "")
        text = raw.strip() if isinstance(raw, str) else ""
        if not isinstance(raw, str):
            problems[name] = Problem("text", "must be text")
        elif len(text) > limit:
            problems[name] = Problem("too_long", f"must be text of at most {limit} characters", limit=limit)
        elif name in REQUIRED and not text:
            problems[name] = Problem("required", "this field is required")
        values[name] = text
    email = values.get("contact_email", "")
    if email and "contact_email" not in problems and not EMAIL.match(email):
        problems["contact_email"] = Problem("email", "not an e-mail address")
    return values, problems


def _checked_files(files: Sequence[tuple[str, bytes]], problems: dict[str, str]) -> list[tuple[str, str, bytes]]:
    present = [(name, data) for name, data in files if name or data]
    if len(present) > MAX_FILES:
        problems["files"] = Problem("too_many_files", f"at most {MAX_FILES} files", limit=MAX_FILES)
        return []
    checked = []
    for name, data in present:
        if len(data) > MAX_FILE_BYTES:
            problems["files"] = Problem("file_too_large", f"{name}: at most 5 MB", name=name, limit="5 MB")
            continue
        try:
            shown, content_type = check_file(name, data, "customer_feedback")
        except InvalidInputError as exc:
            problems["files"] = exc.fields.get("file") or str(exc)
            continue
        checked.append((shown, content_type, data))
    return checked


def get_request(session: Session, request_id: int) -> CustomerRequest:
    """One request.

    :raises NotFoundError: no such request.
    """
    found = session.get(CustomerRequest, request_id)
    if found is None:
        raise NotFoundError(Problem("request_missing", f"request {request_id} does not exist", id=request_id))
    return found


def list_requests(session: Session, status: str | None = RequestStatus.NEW.value, limit: int = 200) -> list[Any]:
    """Requests, newest first (by default those still waiting for a manager)."""
    query = sa.select(CustomerRequest).order_by(CustomerRequest.id.desc()).limit(limit)
    if status:
        query = query.where(CustomerRequest.status == status)
    return list(session.scalars(query))


def register_from_request(
    session: Session,
    runtime: Runtime,
    request: CustomerRequest,
    body: Mapping[str, Any],
    *,
    actor: User,
    calendar: Callable[[], BusinessCalendar],
    request_folder: Path,
    attachments_folder: Path,
) -> CSI:
    """§4.1/§4.2: register the CSI of a request (the manager supplies kind, customer code, SO# …; the customer's text
    and time of receipt carry over), attach its files, and mail the customer the status link.

    :raises ConflictError: the request was already handled.
    :raises InvalidInputError: the registration fails a check (nothing changes).
    """
    if request.status != RequestStatus.NEW.value:
        raise ConflictError(Problem("request_handled", "this request was already handled"))
    fields = {"description": request.description, "channel": "portal", "received_at": request.created_at.isoformat()}
    csi, _ = register_request(
        session, runtime, parse_register_request({**fields, **body}), actor=actor, calendar=calendar
    )
    for entry in request.files:
        data = (request_folder / str(entry["storage"])).read_bytes()
        add_attachment(
            session,
            attachments_folder,
            csi,
            filename=str(entry["name"]),
            data=data,
            kind="customer_feedback",
            actor=actor.username,
            note=request.request_no,
        )
    request.status, request.csi_id = RequestStatus.REGISTERED.value, csi.id
    request.handled_by, request.handled_at = actor.username, utcnow()
    log_event(session, "request.registered", actor=actor.username, csi_id=csi.id, message=request.request_no)
    welcome_contact(session, csi, name=request.contact_name, email=request.contact_email, actor=actor.username)
    return csi


def decline_request(session: Session, request: CustomerRequest, reason: str, *, actor: str) -> None:
    """A manager declines a request that is no service case (spam, another company's product), with a reason.

    :raises ConflictError: the request was already handled.
    :raises InvalidInputError: no reason (field `reason`).
    """
    if request.status != RequestStatus.NEW.value:
        raise ConflictError(Problem("request_handled", "this request was already handled"))
    text = reason.strip()
    if not text or len(text) > 1000:
        raise InvalidInputError("a reason is required", {"reason": Problem("required", "this field is required")})
    request.status, request.decline_reason = RequestStatus.DECLINED.value, text
    request.handled_by, request.handled_at = actor, utcnow()
