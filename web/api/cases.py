"""Cases: register a request (§4.1–§4.2), read a case with its SLA clock and timeline, attach files (§4.3),
withdraw a case (issue 9)."""

from __future__ import annotations

from collections.abc import Callable

from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.aftersales.cases.attachments import add_attachment
from engine.aftersales.cases.attachments import list_attachments
from engine.aftersales.cases.lifecycle import withdraw_case
from engine.aftersales.cases.search import parse_case_query
from engine.aftersales.cases.search import search_cases
from engine.aftersales.intake.correction import correct_registration
from engine.aftersales.intake.service import parse_register_request
from engine.aftersales.intake.service import register_request
from engine.aftersales.review.pause import pause_clock
from engine.aftersales.review.pause import resume_clock
from engine.aftersales.review.signed_original import record_signed_original
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.platform.access import check_can_view_case
from engine.platform.access import may_read_cases
from engine.records.csi import CSI
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.api.idempotency import idempotent
from web.api.idempotency import remember
from web.api.paging import MAX_PER_PAGE
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.params import int_arg


@bp.post("/cases")
@idempotent
def create_case() -> tuple[Response, int]:
    """Register a complaint or request: the CSI exists at once and its process starts (Idempotency-Key honoured)."""
    request_data = parse_register_request(json_body())
    session = db()
    csi, instance = register_request(
        session,
        app_context().runtime,
        request_data,
        actor=caller(),
        calendar=calendar_loader(session),
        timezone=app_context().settings.timezone,
    )
    body = {
        "id": csi.id,
        "csi_no": csi.csi_no,
        "kind": csi.kind,
        "status": csi.status,
        "process_instance_id": instance.id,
        "sla": cases.sla_view(csi, timezone=app_context().settings.timezone),
        "possible_duplicates": [
            cases.duplicate_view(other)
            for other in cases.possible_duplicates(
                session,
                customer_code=csi.customer.code,
                serial_no=csi.serial_no,
                origin_so_no=csi.origin_so_no,
                exclude_id=csi.id,
            )
        ],
    }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/cases/{csi.id}"
    remember(response)
    session.commit()
    return response, 201


@bp.get("/cases")
def list_cases() -> Response:
    """Search cases `?kind=&status=&from=&to=&overdue=&customer=&serial=&q=&page=&per_page=` (case readers only):
    `{items, total, page, per_page}`, newest first; 422 naming a bad parameter."""
    if not may_read_cases(caller()):
        raise PermissionDeniedError("listing cases needs a role that reads cases")
    query = parse_case_query(request.args.to_dict())
    return jsonify(search_cases(db(), query, timezone=app_context().settings.timezone))


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int) -> Response:
    """The case: status, CSI fields, records, open tasks, attachments, SLA clock and one page of its timeline
    (`timeline_page`, 1 = the newest `timeline_per_page` entries; `timeline_total` counts them all)."""
    page = int_arg(request.args.get("timeline_page"), "timeline_page", 1)
    per_page = int_arg(
        request.args.get("timeline_per_page"), "timeline_per_page", cases.TIMELINE_PER_PAGE, maximum=MAX_PER_PAGE
    )
    csi = cases.get_csi(db(), case_id)
    check_can_view_case(caller(), csi)
    view = cases.case_view(
        db(), csi, timezone=app_context().settings.timezone, timeline_page=page, timeline_per_page=per_page
    )
    return jsonify(view)


@bp.patch("/cases/<int:case_id>")
def correct_case(case_id: int) -> Response:
    """Correct the registration (any of origin_so_no, serial_no, customer_code, kind, description, received_at, with
    a required reason) until the plan is decided (409 after): every check runs again, coverage and §4.6 recomputed."""
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    csi = correct_registration(
        session,
        app_context().runtime,
        caller(),
        case_id,
        json_body(),
        calendar=calendar_loader(session),
        timezone=app_context().settings.timezone,
    )
    session.commit()
    return jsonify(cases.case_view(session, csi, timezone=app_context().settings.timezone))


@bp.post("/cases/<int:case_id>/withdraw")
def withdraw(case_id: int) -> Response:
    """Withdraw the case `{reason}` (service manager or supervisor): cancelled, its instances ended; 409 once
    closed or cancelled."""
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    body = json_body()
    reason = body.get("reason") if isinstance(body, dict) else None
    csi = withdraw_case(session, app_context().runtime, caller(), case_id, reason, calendar=calendar_loader(session))
    session.commit()
    return jsonify(cases.case_view(session, csi, timezone=app_context().settings.timezone))


@bp.post("/cases/<int:case_id>/signed-original")
def signed_original(case_id: int) -> Response:
    """§4.5: the signed review original arrived `{location}` (service manager or supervisor); 409 before the plan is
    decided or once recorded."""
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    body = json_body()
    location = body.get("location") if isinstance(body, dict) else None
    csi = record_signed_original(session, caller(), case_id, location)
    session.commit()
    return jsonify(cases.case_view(session, csi, timezone=app_context().settings.timezone))


@bp.post("/cases/<int:case_id>/sla/pause")
def pause_sla_clock(case_id: int) -> Response:
    """Pause the §4.6 clock while the case waits on the customer (`{reason}` required; service supervisors); 409
    when the clock does not run."""
    return _sla_clock(case_id, pause_clock)


@bp.post("/cases/<int:case_id>/sla/resume")
def resume_sla_clock(case_id: int) -> Response:
    """Resume the §4.6 clock (service supervisors): the deadline moves by the working days paused; 409 when it is not
    paused."""
    return _sla_clock(case_id, resume_clock)


def _sla_clock(case_id: int, act: Callable[..., CSI]) -> Response:
    session = db()
    check_can_view_case(caller(), cases.get_csi(session, case_id))
    body = json_body()
    reason = body.get("reason") if isinstance(body, dict) else None
    csi = act(session, app_context().runtime, caller(), case_id, reason, calendar=calendar_loader(session))
    session.commit()
    return jsonify(cases.case_view(session, csi, timezone=app_context().settings.timezone))


@bp.post("/cases/<int:case_id>/attachments")
def upload_attachment(case_id: int) -> tuple[Response, int]:
    """Attach one file (multipart field `file`, optional `kind` and `note`) to the case."""
    session = db()
    csi = cases.get_csi(session, case_id)
    check_can_view_case(caller(), csi)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInputError("no file uploaded", {"file": "send the file as multipart field 'file'"})
    attachment = add_attachment(
        session,
        app_context().settings.attachments_dir,
        csi,
        filename=upload.filename,
        data=upload.read(),
        kind=request.form.get("kind", "customer_feedback"),
        actor=caller().username,
        note=request.form.get("note", ""),
    )
    session.commit()
    return jsonify(cases.attachment_view(attachment)), 201


@bp.get("/cases/<int:case_id>/attachments")
def get_attachments(case_id: int) -> Response:
    """The case's attachments."""
    csi = cases.get_csi(db(), case_id)
    check_can_view_case(caller(), csi)
    return jsonify([cases.attachment_view(a) for a in list_attachments(db(), csi.id)])
