"""Case pages: register a request (§4.1–§4.2), the case list, the case with its §4.6 clock, document chain (§5–§6),
files and timeline, and the printable CSI for the review (§4.2 hard copy, §4.5 signed original)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.aftersales.cases.attachments import ATTACHMENT_KINDS
from engine.aftersales.cases.attachments import add_attachment
from engine.aftersales.cases.attachments import get_attachment
from engine.aftersales.cases.attachments import list_attachments
from engine.aftersales.cases.comments import ROUTINE_KINDS
from engine.aftersales.cases.comments import add_comment
from engine.aftersales.cases.lifecycle import LIFECYCLE_ROLES
from engine.aftersales.cases.lifecycle import withdraw_case
from engine.aftersales.claims.service import CLAIM_RAISERS
from engine.aftersales.claims.service import raise_case_claim
from engine.aftersales.claims.suppliers import list_suppliers
from engine.aftersales.dispatch.parts import spare_parts
from engine.aftersales.intake.correction import CORRECTABLE
from engine.aftersales.intake.correction import correct_registration
from engine.aftersales.intake.lookup import sales_orders_of
from engine.aftersales.intake.service import parse_register_request
from engine.aftersales.intake.service import register_request
from engine.aftersales.portal.customer import contact_of
from engine.aftersales.portal.links import case_links
from engine.aftersales.returns.service import case_returns
from engine.aftersales.returns.service import start_part_return
from engine.aftersales.review.pause import PAUSE_ROLES
from engine.aftersales.review.pause import pause_clock
from engine.aftersales.review.pause import resume_clock
from engine.aftersales.review.read import open_review_proposal
from engine.aftersales.review.signed_original import record_signed_original
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.platform.access import check_can_view_case
from engine.platform.access import may_read_cases
from engine.platform.users import display_names
from engine.platform.users import list_active_users
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.timeline import TimelineEvent
from engine.records.user import Role
from engine.reports.chain import document_chain
from web.auth import current_user
from web.auth import login_required
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import from_local_input
from web.forms import local_input_value
from web.forms import localize_error
from web.forms import now_local_input
from web.i18n import current_lang
from web.params import int_arg
from web.security import PREVIEW_TYPES
from web.security import as_preview
from web.views import CHANNEL_LABELS
from web.views import Vocabulary
from web.views import business_zone
from web.views import case_vocabulary
from web.views import case_vocabulary_all
from web.views import install
from web.views import task_titles
from web.views.records import chain_people
from web.views.records import chain_tree
from web.views.records import may_assign
from web.views.records import may_manage_wo

T = TypeVar("T")
TIMELINE_PAGE = 100  # entries of the case page's timeline at a time: the page's cost does not grow with the case's age
bp = Blueprint("cases", __name__, url_prefix="/cases")
install(bp)
TEXT_FIELDS = ("kind", "customer_code", "origin_so_no", "serial_no", "description", "channel")
LIST_LIMIT = 200


@bp.get("")
@login_required
def index() -> str:
    """Recent cases, newest first, filtered by status or by a CSI no. / SO# / serial / customer search; roles that do
    not read cases (HR, product design, process designers) see only the requests they registered (§4.1)."""
    status = request.args.get("status", "")
    query = request.args.get("q", "").strip()[:64]
    overdue = request.args.get("overdue") == "1"
    everything = may_read_cases(current_user())
    rows = cases.list_cases(
        db(),
        status=status if status in set(CSIStatus) else "",
        text=query,
        overdue=overdue,
        limit=LIST_LIMIT,
        registered_by=None if everything else current_user().username,
    )
    return render_template(
        "cases/index.html",
        rows=rows,
        status=status,
        q=query,
        overdue=overdue,
        statuses=list(CSIStatus),
        limit=LIST_LIMIT,
        own_only=not everything,
    )


@bp.get("/lookup/sales-orders")
@login_required
def lookup_sales_orders() -> Response:
    """The sales orders of a customer with their serials (JSON), for the registration form's SO# and serial pickers."""
    return jsonify(sales_orders_of(db(), request.args.get("customer", "")))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str | tuple[str, int]:
    """The registration form (?kind= preselects the kind); POST registers the request."""
    if request.method == "POST":
        return _create()
    values = MultiDict({"received_at": now_local_input(business_zone()), "kind": request.args.get("kind", "")})
    return _render_new(values, {})


def _create() -> Response | tuple[str, int]:
    """Register the request: the CSI exists at once (§4.2) and its process starts with the §4.6 clock."""
    session = db()
    try:
        parsed = parse_register_request(_register_body(request.form))
        duplicates = cases.possible_duplicates(
            session, customer_code=parsed.customer_code, serial_no=parsed.serial_no, origin_so_no=parsed.origin_so_no
        )
        if duplicates and not request.form.get("confirm_duplicate"):
            return _render_new(request.form, {}, duplicates), 200  # warn before saving
        csi, _instance = register_request(
            session,
            app_context().runtime,
            parsed,
            actor=current_user(),
            calendar=calendar_loader(session),
            timezone=app_context().settings.timezone,
        )
    except InvalidInputError as exc:
        session.rollback()
        return _render_new(request.form, exc.fields), 422
    session.commit()
    flash(_("%(csi_no)s registered. The §4.6 clock runs from the time received.", csi_no=csi.csi_no), "success")
    return redirect(url_for("cases.detail", csi_id=csi.id))


@bp.get("/<int:csi_id>")
@login_required
def detail(csi_id: int) -> str:
    """The case: facts, §4.6 clock, open tasks, attachments and timeline."""
    return _render_detail(csi_id, MultiDict(), {})


@bp.post("/<int:csi_id>/attachments")
@login_required
def upload(csi_id: int) -> Response | tuple[str, int]:
    """Attach a file (e.g. the customer's written feedback for the review, §4.3)."""
    session = db()
    csi = cases.get_csi(session, csi_id)
    check_can_view_case(current_user(), csi)
    upload_file = request.files.get("file")
    try:
        if upload_file is None or not upload_file.filename:
            raise InvalidInputError("no file", {"file": _("Choose a file to upload.")})
        attachment = add_attachment(
            session,
            app_context().settings.attachments_dir,
            csi,
            filename=upload_file.filename,
            data=upload_file.read(),
            kind=request.form.get("kind", ""),
            actor=current_user().username,
            note=request.form.get("note", "").strip(),
        )
    except InvalidInputError as exc:
        session.rollback()
        return _render_detail(csi_id, request.form, exc.fields), 422
    session.commit()
    flash(_("Attached “%(name)s”.", name=attachment.filename), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id, _anchor="attachments"))


@bp.post("/<int:csi_id>/comments")
@login_required
def comment(csi_id: int) -> Response | tuple[str, int]:
    """Add a comment to the case conversation; @mentioned colleagues who may see the case are told."""
    session = db()
    csi = cases.get_csi(session, csi_id)
    check_can_view_case(current_user(), csi)
    try:
        event, mentions = add_comment(session, current_user(), csi, request.form.get("comment", ""))
    except InvalidInputError as exc:
        session.rollback()
        return _render_detail(csi_id, MultiDict(), {}, comment_values=request.form, comment_errors=exc.fields), 422
    session.commit()
    if mentions:
        names = display_names(session, mentions)
        flash(_("Comment added; told %(names)s.", names="、".join(names.get(m, m) for m in mentions)), "success")
    else:
        flash(_("Comment added."), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id, _anchor=f"comment-{event.id}"))


@bp.get("/<int:csi_id>/attachments/<int:attachment_id>")
@login_required
def download(csi_id: int, attachment_id: int) -> Response:
    """Download an attachment under its original (sanitized) name with its checked content type."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    attachment = get_attachment(session, csi_id, attachment_id)
    path = app_context().settings.attachments_dir / attachment.storage_name
    return send_file(
        path, as_attachment=True, download_name=attachment.filename, mimetype=attachment.content_type, max_age=0
    )


@bp.post("/<int:csi_id>/withdraw")
@login_required
def withdraw(csi_id: int) -> Response | tuple[str, int]:
    """Withdraw the case (service manager or supervisor, with a reason): cancelled, its process ended."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    reason = request.form.get("reason", "")
    try:
        csi = withdraw_case(
            session, app_context().runtime, current_user(), csi_id, reason, calendar=calendar_loader(session)
        )
    except InvalidInputError as exc:
        session.rollback()
        errors = {f"withdraw.{k}": v for k, v in exc.fields.items()}
        return _render_detail(csi_id, MultiDict(), {}, errors, {"reason": reason}), 422
    except ConflictError:
        session.rollback()
        flash(_("This case is already closed or cancelled."), "error")
        return redirect(url_for("cases.detail", csi_id=csi_id))
    session.commit()
    flash(_("%(csi_no)s withdrawn: the case is cancelled and its open tasks are closed.", csi_no=csi.csi_no), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id))


@bp.post("/<int:csi_id>/supplier-claims")
@login_required
def raise_claim(csi_id: int) -> Response | tuple[str, int]:
    """§5.5: a part cannot be recovered: the service manager raises a supplier claim and copies the CSI to Sales."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    values = {name: request.form.get(name, "").strip() for name in CLAIM_FORM_FIELDS}
    body: dict[str, Any] = {
        "part_no": values["part_no"],
        "quantity": _number(values["quantity"], int),
        "reason": values["reason"],
        "supplier_code": values["supplier_code"] or None,
        "claim_amount": _number(values["claim_amount"], float) if values["claim_amount"] else None,
    }
    return _case_action(
        csi_id,
        "claim",
        {f"claim.{k}": v for k, v in values.items()},
        lambda: raise_case_claim(
            session, app_context().runtime, current_user(), csi_id, body, calendar=calendar_loader(session)
        ),
        done=lambda claim: _("Supplier claim %(sc_no)s raised; the CSI is copied to Sales (§5.5).", sc_no=claim.sc_no),
        refused=_("This case is already closed or cancelled."),
    )


def _case_action(
    csi_id: int,
    prefix: str,
    values: dict[str, str],
    action: Callable[[], T],
    *,
    done: Callable[[T], str],
    refused: str,
    anchor: str | None = None,
) -> Response | tuple[str, int]:
    """Run one of the case page's forms: bad input re-renders the page with the errors under `prefix` (422, nothing
    kept), a case that cannot take it flashes `refused`; otherwise commit, flash `done` and go back to the case."""
    session = db()
    try:
        result = action()
    except InvalidInputError as exc:
        session.rollback()
        errors = {f"{prefix}.{k}": v for k, v in exc.fields.items()}
        return _render_detail(csi_id, MultiDict(), {}, errors, values), 422
    except ConflictError:
        session.rollback()
        flash(refused, "error")
        return redirect(url_for("cases.detail", csi_id=csi_id))
    session.commit()
    flash(done(result), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id, _anchor=anchor))


CLAIM_FORM_FIELDS = ("part_no", "quantity", "reason", "supplier_code", "claim_amount")


def _number(text: str, kind: type[int] | type[float]) -> Any:
    """A typed number from a form field, or the text itself so the engine names the field."""
    try:
        return kind(text)
    except ValueError:
        return text


@bp.post("/<int:csi_id>/signed-original")
@login_required
def signed_original(csi_id: int) -> Response | tuple[str, int]:
    """§4.5: the signed review original arrived and is filed at the given location."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    location = request.form.get("location", "")
    return _case_action(
        csi_id,
        "original",
        {"location": location},
        lambda: record_signed_original(session, current_user(), csi_id, location),
        done=lambda _result: _("Signed original recorded as received (§4.5)."),
        refused=_("The signed original cannot be recorded now."),
    )


@bp.post("/<int:csi_id>/part-returns")
@login_required
def part_return(csi_id: int) -> Response | tuple[str, int]:
    """§3.1: register a returned spare part (service manager); its receipt, inspection and settlement follow as
    tasks of the part_return process."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    values = {name: request.form.get(name, "") for name in ("part_no", "quantity", "remedy", "reason")}
    quantity = values["quantity"].strip()
    body: dict[str, Any] = {**values, "quantity": int(quantity) if quantity.isdigit() else quantity}
    return _case_action(
        csi_id,
        "return",
        {f"return.{k}": v for k, v in values.items()},
        lambda: start_part_return(
            session, app_context().runtime, current_user(), csi_id, body, calendar=calendar_loader(session)
        ),
        done=lambda record: _(
            "%(rt_no)s registered: the part is expected back for inspection (§3.1).", rt_no=record.rt_no
        ),
        refused=_("This case is already closed or cancelled."),
        anchor="part-returns",
    )


@bp.post("/<int:csi_id>/sla/<any(pause, resume):action>")
@login_required
def sla_clock(csi_id: int, action: str) -> Response | tuple[str, int]:
    """Pause the §4.6 clock while the case waits on the customer (reason required), or resume it (supervisor)."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    reason = request.form.get("reason", "")
    act = pause_clock if action == "pause" else resume_clock
    try:
        act(session, app_context().runtime, current_user(), csi_id, reason, calendar=calendar_loader(session))
    except InvalidInputError as exc:
        session.rollback()
        errors = {f"{action}.{k}": v for k, v in exc.fields.items()}
        return _render_detail(csi_id, MultiDict(), {}, errors, {"reason": reason}), 422
    except ConflictError:
        session.rollback()
        flash(_("The §4.6 clock cannot be paused or resumed now."), "error")
        return redirect(url_for("cases.detail", csi_id=csi_id))
    session.commit()
    done = _("§4.6 clock paused.") if action == "pause" else _("§4.6 clock resumed; the deadline moved.")
    flash(done, "success")
    return redirect(url_for("cases.detail", csi_id=csi_id, _anchor="sla"))


@bp.route("/<int:csi_id>/correct", methods=["GET", "POST"])
@login_required
def correct(csi_id: int) -> Response | str | tuple[str, int]:
    """Correct the registration until the plan is decided (service manager or supervisor, with a reason)."""
    session = db()
    csi = cases.get_csi(session, csi_id)
    check_can_view_case(current_user(), csi)
    current = _registration_values(csi)
    if request.method == "GET":
        return _render_correct(csi, MultiDict(current), {})
    body: dict[str, Any] = {"reason": request.form.get("reason", "")}
    for name in CORRECTABLE:
        value = request.form.get(name, "").replace("\r\n", "\n").strip()
        if value != current.get(name, ""):
            body[name] = from_local_input(value, business_zone()) if name == "received_at" and value else value
    try:
        correct_registration(
            session,
            app_context().runtime,
            current_user(),
            csi_id,
            body,
            calendar=calendar_loader(session),
            timezone=app_context().settings.timezone,
        )
    except InvalidInputError as exc:
        session.rollback()
        return _render_correct(csi, request.form, exc.fields), 422
    except ConflictError:
        session.rollback()
        flash(_("The plan is decided or the case has ended: its registration can no longer be corrected."), "error")
        return redirect(url_for("cases.detail", csi_id=csi_id))
    session.commit()
    flash(_("Registration corrected; coverage and the §4.6 deadline were worked out again."), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id))


def _registration_values(csi: Any) -> dict[str, str]:
    return {
        "kind": csi.kind,
        "customer_code": csi.customer.code,
        "origin_so_no": csi.origin_so_no or "",
        "serial_no": csi.serial_no or "",
        "description": csi.description,
        "received_at": local_input_value(csi.received_at.isoformat(), business_zone()),
    }


def _render_correct(csi: Any, values: MultiDict[str, str], errors: dict[str, str]) -> str:
    return render_template(
        "cases/correct.html",
        csi=csi,
        values=values,
        errors={k: localize_error(v) for k, v in errors.items()},
        kinds=list(CaseKind),
        customers=cases.list_customers(db()),
    )


@bp.get("/<int:csi_id>/attachments/<int:attachment_id>/preview")
@login_required
def preview(csi_id: int, attachment_id: int) -> Response:
    """A PDF or image attachment inline, for the previews on the case and task pages (§4.3 evidence); other types
    are downloads only (404 here)."""
    session = db()
    check_can_view_case(current_user(), cases.get_csi(session, csi_id))
    attachment = get_attachment(session, csi_id, attachment_id)
    if attachment.content_type not in PREVIEW_TYPES:
        abort(404)
    path = app_context().settings.attachments_dir / attachment.storage_name
    response = send_file(
        path, as_attachment=False, download_name=attachment.filename, mimetype=attachment.content_type, max_age=0
    )
    return as_preview(response)


def _register_body(form: MultiDict[str, str]) -> dict[str, Any]:
    """The registration form as the body parse_register_request expects (empty optional fields left out)."""
    body: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = form.get(name, "").replace("\r\n", "\n").strip()
        if text:
            body[name] = text
    received = form.get("received_at", "").strip()
    if received:
        body["received_at"] = from_local_input(received, business_zone())
    if form.get("overseas"):
        body["overseas"] = True
    return body


def _render_new(values: MultiDict[str, str], errors: dict[str, str], duplicates: list[Any] | None = None) -> str:
    known = set(TEXT_FIELDS) | {"received_at", "overseas"}
    return render_template(
        "cases/new.html",
        values=values,
        errors={k: localize_error(v) for k, v in errors.items()},
        other_errors=[
            _("%(field)s: %(message)s", field=k, message=localize_error(v)) for k, v in errors.items() if k not in known
        ],
        kinds=list(CaseKind),
        channels=list(CHANNEL_LABELS),
        customers=cases.list_customers(db()),
        is_manager="service_manager" in current_user().role_keys,
        duplicates=duplicates or [],
    )


def _render_detail(
    csi_id: int,
    upload_values: MultiDict[str, str],
    upload_errors: dict[str, str],
    action_errors: dict[str, str] | None = None,
    action_values: dict[str, str] | None = None,
    *,
    comment_values: MultiDict[str, str] | None = None,
    comment_errors: dict[str, str] | None = None,
) -> str:
    session = db()
    csi = cases.get_csi(session, csi_id)
    check_can_view_case(current_user(), csi)
    tasks = cases.open_tasks(session, csi.id)
    show_all = request.args.get("timeline") == "all"
    timeline_page = int_arg(request.args.get("tpage"), "tpage", 1)
    events, shown_total = cases.timeline_page_of(
        session, csi.id, timeline_page, TIMELINE_PAGE, leave_out=frozenset() if show_all else ROUTINE_KINDS
    )
    attachments = list_attachments(session, csi.id)
    instance = cases.case_instance(session, csi.id)
    found = document_chain(session, csi)
    people = [e.actor for e in events] + [t.assignee for t in tasks] + [a.uploaded_by for a in attachments]
    people += [csi.registered_by, csi.forwarded_by, csi.analysed_by, csi.reviewed_by, csi.answered_by]
    people += sorted(chain_people(found))
    vocabulary = case_vocabulary_all(session, csi.id, instance)
    supervisor = may_assign(current_user().role_keys)
    returns = case_returns(session, csi.id)
    people += [name for r in returns for name in (r.registered_by, r.received_by, r.inspected_by, r.settled_by) if name]
    may_return = not csi.is_final and Role.SERVICE_MANAGER.value in current_user().role_keys
    return render_template(
        "cases/detail.html",
        csi=csi,
        chain=found,
        tree=chain_tree(found),
        proposal=open_review_proposal(session, app_context().runtime, csi.id) if not csi.plan_decided_at else None,
        may_assign=supervisor,
        may_manage_wo=may_manage_wo(current_user().role_keys),
        assignable=list_active_users(session) if supervisor else [],
        sla=cases.sla_view(csi),
        tasks=tasks,
        titles=task_titles(session, tasks),
        attachments=attachments,
        events=events,
        timeline_all=show_all,
        hidden_events=0 if show_all else cases.timeline_entries(session, csi.id) - shown_total,
        timeline_page=timeline_page,
        timeline_pages=max(1, -(-shown_total // TIMELINE_PAGE)),
        comment_text=comment_values.get("comment", "") if comment_values is not None else "",
        comment_error=localize_error(next(iter((comment_errors or {}).values()), "")) if comment_errors else "",
        instance=instance,
        names=display_names(session, people),
        task_names=_task_names(session, csi.id, events, vocabulary),
        choices=vocabulary.choices,
        field_labels=vocabulary.fields,
        form_words=vocabulary.forms,
        attachment_kinds=ATTACHMENT_KINDS,
        upload_values=upload_values,
        upload_errors={k: localize_error(v) for k, v in upload_errors.items()},
        customer_contact=contact_of(session, csi.id),
        customer_links=case_links(session, csi.id),
        may_send_links=bool(current_user().role_keys & {Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value}),
        may_withdraw=not csi.is_final and bool(current_user().role_keys.intersection(LIFECYCLE_ROLES)),
        may_raise_claim=not csi.is_final and bool(current_user().role_keys.intersection(CLAIM_RAISERS)),
        claim_suppliers=list_suppliers(session, active_only=True),
        claim_parts=spare_parts(session),
        may_record_original=bool(current_user().role_keys.intersection(LIFECYCLE_ROLES)),
        may_pause=bool(current_user().role_keys.intersection(PAUSE_ROLES)),
        may_correct=not csi.is_final
        and csi.plan_decided_at is None
        and bool(current_user().role_keys.intersection(LIFECYCLE_ROLES)),
        duplicate_of=cases.get_csi(session, csi.duplicate_of_id) if csi.duplicate_of_id else None,
        duplicates=cases.duplicates_of(session, csi.id),
        part_returns=returns,
        may_register_return=may_return,
        spare_parts=spare_parts(session) if may_return else [],
        action_errors={k: localize_error(v) for k, v in (action_errors or {}).items()},
        action_values=action_values or {},
    )


@bp.get("/<int:csi_id>/print")
@login_required
def print_csi(csi_id: int) -> str:
    """The CSI as a print-ready A4 page for the review (§4.2 hard copy) with signature lines and the filing
    location of the signed original (§4.5); the browser prints it or saves it as PDF."""
    session = db()
    csi = cases.get_csi(session, csi_id)
    check_can_view_case(current_user(), csi)
    instance = cases.case_instance(session, csi.id)
    vocabulary = case_vocabulary(session, instance)
    people = [csi.registered_by, csi.forwarded_by, csi.analysed_by, csi.reviewed_by, csi.answered_by]
    return render_template(
        "cases/print.html",
        csi=csi,
        sla=cases.sla_view(csi),
        proposal=open_review_proposal(session, app_context().runtime, csi.id),
        attachments=list_attachments(session, csi.id),
        chain=document_chain(session, csi),
        choices=vocabulary.choices,
        names=display_names(session, people),
        printed_by=current_user(),
    )


def _task_names(session: Session, csi_id: int, events: list[TimelineEvent], vocabulary: Vocabulary) -> dict[str, str]:
    """bpmn id → task name for the shown entries: the form title in English, else the name logged when the task was
    created."""
    names = cases.created_task_names(session, csi_id, {e.bpmn_id for e in events if e.bpmn_id})
    if current_lang() == "en":
        names.update({bpmn_id: title for bpmn_id, title in vocabulary.tasks.items() if title})
    return names
