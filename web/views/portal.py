"""The customer's pages, without sign-in (issue 10 item 3): the public request form (§4.1, rate-limited per client
address), a case's status page and a visit's QAHRC0807C survey (§5.7) behind unguessable links that expire and can
be revoked. They never show internal notes, costs, staff names or another case."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from werkzeug.datastructures import MultiDict

from engine.aftersales.portal import customer
from engine.aftersales.portal import links
from engine.aftersales.portal import requests as public_requests
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.records.portal import LinkPurpose
from web.context import app_context
from web.context import db
from web.forms import localize_error
from web.views import install

bp = Blueprint("portal", __name__)
install(bp)
PageResult = str | tuple[str, int] | tuple[str, int, dict[str, str]]


@bp.get("/request")
def request_form() -> str:
    """The public request form."""
    return render_template("portal/request.html", values=MultiDict(), errors={})


@bp.post("/request")
def request_submit() -> PageResult:
    """Store a request for the service managers; 422 with the fields to correct, 429 when the address sent too many."""
    session = db()
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        sent = public_requests.submit_request(
            session,
            app_context().settings.requests_dir,
            request.form,
            files,
            client_address=request.remote_addr or "-",
        )
    except public_requests.TooManyRequestsError as exc:
        session.rollback()
        page = render_template("portal/request.html", values=request.form, errors={}, wait=exc.retry_after)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except InvalidInputError as exc:
        session.rollback()
        errors = {name: localize_error(message) for name, message in exc.fields.items()}
        return render_template("portal/request.html", values=request.form, errors=errors), 422
    session.commit()
    return render_template("portal/sent.html", sent=sent)


@bp.get("/status/<token>")
def status(token: str) -> PageResult:
    """A case as its customer sees it."""
    session = db()
    try:
        link = links.resolve(session, token, LinkPurpose.STATUS)
    except NotFoundError:
        return render_template("portal/gone.html"), 404
    return render_template("portal/status.html", case=customer.status_view(session, link))


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str) -> PageResult:
    """The QAHRC0807C survey of one visit, once."""
    session = db()
    try:
        link = links.resolve(session, token, LinkPurpose.SURVEY)
    except NotFoundError:
        return render_template("portal/gone.html"), 404
    view = customer.status_view(session, link)
    if request.method == "GET":
        return render_template("portal/survey.html", case=view, values=MultiDict(), errors={})
    try:
        customer.submit_survey(session, link, request.form)
    except InvalidInputError as exc:
        session.rollback()
        errors = {name: localize_error(message) for name, message in exc.fields.items()}
        return render_template("portal/survey.html", case=view, values=request.form, errors=errors), 422
    session.commit()
    return render_template("portal/thanks.html", case=view)
