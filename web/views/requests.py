"""Customer requests for the service managers (§4.1: the service department receives every request): the list of
requests from the public page, one request with its files, registering its CSI or declining it, and a case's
customer contact with its status links (send, revoke)."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engine.aftersales.cases.read import get_csi
from engine.aftersales.cases.read import list_customers
from engine.aftersales.portal import customer
from engine.aftersales.portal import links
from engine.aftersales.portal import requests as customer_requests
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.records.csi import CaseKind
from engine.records.portal import RequestStatus
from engine.records.user import Role
from web.auth import current_user
from web.auth import roles_required
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import localize_error
from web.i18n import current_lang
from web.views import install

bp = Blueprint("requests", __name__)
install(bp)
READERS = (Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value, Role.SERVICE_DIRECTOR.value)
HANDLERS = (Role.SERVICE_MANAGER.value,)
LINK_SENDERS = (Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value)
REGISTER_FIELDS = ("kind", "customer_code", "origin_so_no", "serial_no")


@bp.get("/requests")
@roles_required(*READERS)
def index() -> str:
    """Requests from the public page: the new ones by default, or all."""
    shown = request.args.get("status", RequestStatus.NEW.value)
    status = shown if shown in {s.value for s in RequestStatus} else None
    rows = customer_requests.list_requests(db(), status)
    return render_template("requests/index.html", rows=rows, status=status or "", statuses=list(RequestStatus))


@bp.get("/requests/<int:request_id>")
@roles_required(*READERS)
def detail(request_id: int) -> str:
    """One request, with the register and decline forms while it is new."""
    return _render(request_id, MultiDict(), {})


def _render(request_id: int, values: MultiDict[str, str], errors: dict[str, str]) -> str:
    found = customer_requests.get_request(db(), request_id)
    initial = MultiDict({"customer_code": found.customer_code, "serial_no": found.serial_no, **values})
    return render_template(
        "requests/detail.html",
        item=found,
        values=initial,
        errors=errors,
        kinds=list(CaseKind),
        customers=list_customers(db()),
        may_handle=bool(current_user().role_keys.intersection(HANDLERS)),
    )


def _refused(request_id: int, exc: ConflictError | InvalidInputError) -> Response | tuple[str, int]:
    """Nothing changes: a handled request goes back to its page with a message, bad fields are shown (422)."""
    db().rollback()
    if isinstance(exc, ConflictError):
        flash(localize_error(exc.args[0]), "error")
        return redirect(url_for("requests.detail", request_id=request_id))
    errors = {name: localize_error(message) for name, message in exc.fields.items()}
    return _render(request_id, request.form, errors), 422


@bp.get("/requests/<int:request_id>/files/<int:index>")
@roles_required(*READERS)
def file(request_id: int, index: int) -> Response:
    """A file the customer sent (as a download; its type was checked on upload)."""
    found = customer_requests.get_request(db(), request_id)
    if not 0 <= index < len(found.files):
        abort(404)
    entry = found.files[index]
    path = app_context().settings.requests_dir / str(entry["storage"])
    return send_file(path, mimetype=str(entry["type"]), as_attachment=True, download_name=str(entry["name"]))


@bp.post("/requests/<int:request_id>/register")
@roles_required(*HANDLERS)
def register(request_id: int) -> Response | tuple[str, int]:
    """Register the request's CSI (§4.1/§4.2) and mail the customer the status link."""
    session = db()
    found = customer_requests.get_request(session, request_id)
    body: dict[str, object] = {name: request.form.get(name, "").strip() for name in REGISTER_FIELDS}
    body = {name: value for name, value in body.items() if value}
    body["overseas"] = request.form.get("overseas") == "on"
    try:
        csi = customer_requests.register_from_request(
            session,
            app_context().runtime,
            found,
            body,
            actor=current_user(),
            calendar=calendar_loader(session),
            request_folder=app_context().settings.requests_dir,
            attachments_folder=app_context().settings.attachments_dir,
        )
    except (ConflictError, InvalidInputError) as exc:
        return _refused(request_id, exc)
    session.commit()
    flash(_("%(csi_no)s registered; the customer was mailed a link to follow it.", csi_no=csi.csi_no), "success")
    return redirect(url_for("cases.detail", csi_id=csi.id))


@bp.post("/requests/<int:request_id>/decline")
@roles_required(*HANDLERS)
def decline(request_id: int) -> Response | tuple[str, int]:
    """Decline a request that is no service case, with a reason."""
    session = db()
    found = customer_requests.get_request(session, request_id)
    try:
        customer_requests.decline_request(session, found, request.form.get("reason", ""), actor=current_user().username)
    except (ConflictError, InvalidInputError) as exc:
        return _refused(request_id, exc)
    session.commit()
    flash(_("Request %(no)s declined.", no=found.request_no), "success")
    return redirect(url_for("requests.index"))


@bp.post("/cases/<int:csi_id>/customer-link")
@roles_required(*LINK_SENDERS)
def send_link(csi_id: int) -> Response:
    """Record the case's customer contact and mail them a status link."""
    session = db()
    csi = get_csi(session, csi_id)
    lang = request.form.get("lang", current_lang())
    try:
        customer.welcome_contact(
            session,
            csi,
            name=request.form.get("name", "").strip(),
            email=request.form.get("email", ""),
            actor=current_user().username,
            lang="en" if lang == "en" else "zh_Hans_CN",
        )
    except InvalidInputError as exc:
        session.rollback()
        flash(_("Customer e-mail: %(message)s", message=localize_error(exc.fields.get("email", str(exc)))), "error")
        return redirect(url_for("cases.detail", csi_id=csi_id) + "#customer")
    session.commit()
    flash(_("A status link was mailed to the customer."), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id) + "#customer")


@bp.post("/cases/<int:csi_id>/customer-links/revoke")
@roles_required(*LINK_SENDERS)
def revoke(csi_id: int) -> Response:
    """Revoke every live customer link of the case."""
    session = db()
    count = links.revoke_links(session, get_csi(session, csi_id), actor=current_user().username)
    session.commit()
    flash(_("%(count)s customer link(s) revoked.", count=count), "success")
    return redirect(url_for("cases.detail", csi_id=csi_id) + "#customer")
