"""Map engine errors to HTTP: JSON for the API, pages for the browser; never a stack trace to the client.

Database outages (unreachable, disk full, read-only, busy) are 503 with Retry-After; a value the database cannot
store is a 422; anything else unexpected is a 500 with an error id and the trace in the server log only.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask
from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engine.errors import ConflictError
from engine.errors import DefinitionError
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.errors import WorkflowRuntimeError
from engine.errors import code_of
from engine.outages import Outage
from engine.outages import OutageKind
from engine.outages import classify_outage
from engine.platform.forms import clipped
from web.forms import localize_error

log = logging.getLogger("aftersales.web")

STATUS = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    ConflictError: 409,
    InvalidInputError: 422,
    DefinitionError: 422,
    WorkflowRuntimeError: 422,
}
OUTAGE_TEXT: dict[OutageKind, Any] = {
    OutageKind.UNREACHABLE: _l("The database cannot be reached. Nothing was saved; please try again in a few minutes."),
    OutageKind.DISK_FULL: _l(
        "The database disk is full. Nothing was saved; please tell the administrator and try again later."
    ),
    OutageKind.READ_ONLY: _l("The database is read-only for maintenance. Nothing was saved; please try again later."),
    OutageKind.BUSY: _l("The database is busy. Please try again in a moment."),
}
PASSED_ON_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
OUT_OF_RANGE = _l("A value is out of range or not valid for the database.")
CSRF_TEXT = _l("The form has expired or was sent from another page. Reload the page and send it again.")


def error_body(code: str, message: str, fields: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """The API error shape of DESIGN.md: {"error", "message", "fields"}."""
    return {"error": code, "message": message, "fields": fields or {}, **extra}


def engine_error_response(exc: EngineError) -> tuple[Response, int]:
    """JSON response for an engine error (used by the API and by htmx/JSON callers)."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    extra: dict[str, Any] = {}
    if isinstance(exc, DefinitionError):
        extra["errors"] = [
            {"file": p.file, "line": p.line, "message": p.message, "element_id": p.element_id} for p in exc.problems
        ]
    if isinstance(exc, WorkflowRuntimeError):
        extra.update(bpmn_id=exc.bpmn_id, line=exc.line)
    fields = exc.fields if isinstance(exc, InvalidInputError) else None
    codes = {name: code for name, message in (fields or {}).items() if (code := code_of(message)) is not None}
    if codes:
        extra["field_codes"] = codes  # what each field's problem is, for clients that speak other languages
    problem = exc.args[0] if exc.args and isinstance(exc.args[0], Problem) else None
    if problem is not None:
        params = {key: clipped(value) if isinstance(value, str) else value for key, value in problem.params.items()}
        extra["problem"] = {"code": problem.code, "params": params}
    message = clipped(str(exc))  # an id or name from the request, echoed, never sends 5,000 characters back
    if not wants_json():  # the designer's and the pages' own fetch calls show the text: the user's language
        message = localize_error(exc.args[0]) if exc.args else message
        fields = {name: localize_error(text) for name, text in (fields or {}).items()}
        for item in extra.get("errors", []):
            item["message"] = localize_error(item["message"])
    return jsonify(error_body(exc.code, message, fields, **extra)), status


def wants_json() -> bool:
    """True for API calls (JSON errors); browser pages get an HTML error page."""
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(EngineError)
    def _engine(exc: EngineError) -> Any:
        if wants_json():
            return engine_error_response(exc)
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return _page(status, exc.args[0] if exc.args else ""), status

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Any:
        return _generic(409, "conflict", "the record was changed by someone else; reload and try again", shown="")

    @app.errorhandler(SQLAlchemyError)
    def _database(exc: SQLAlchemyError) -> Any:
        outage = classify_outage(exc)
        if outage is not None:
            return unavailable(outage)
        if isinstance(exc, DataError) or (isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)):
            log.warning("value refused by the database: %s", exc.orig)
            return _generic(422, "invalid", "a value is out of range or not valid for the database", shown=OUT_OF_RANGE)
        return _internal(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return _generic(400, "csrf", exc.description or "CSRF token missing or invalid", shown=CSRF_TEXT)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        default = exc.description == type(exc).description  # Werkzeug's English text: the page explains instead
        shown = "" if default else None
        response = _generic(
            exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "", shown=shown
        )
        for name, value in exc.get_headers():
            if name in PASSED_ON_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        outage = classify_outage(exc)  # a driver error raised outside SQLAlchemy (e.g. while connecting)
        return unavailable(outage) if outage is not None else _internal(exc)


def unavailable(outage: Outage) -> Response:
    """503 with Retry-After: JSON for the API, the error page (in the user's language) for the browser."""
    log.warning("database outage (%s): %s", outage.kind, outage.message)
    response = _generic(503, outage.kind.value, outage.message, shown=OUTAGE_TEXT[outage.kind])
    response.headers["Retry-After"] = str(outage.retry_after)
    return response


def _internal(exc: Exception) -> Response:
    error_id = secrets.token_hex(6)
    log.exception("unhandled error %s", error_id, exc_info=exc)
    return _generic(500, "internal", f"internal error (id {error_id})", shown=_l("Error id %(id)s", id=error_id))


def _generic(status: int, code: str, message: str, *, shown: Any = None) -> Response:
    """The API gets `message` (English); a page gets `shown` in the user's language ("" for none, None: `message`)."""
    if wants_json():
        return make_response(jsonify(error_body(code, message)), status)
    if shown is None:
        return make_response(_page(status, message), status)
    return make_response(render_template("error.html", status=status, message=str(shown)), status)


def _page(status: int, message: str) -> str:
    """The error page: a coded message in the user's language; English text without a code only as a detail."""
    if not message or code_of(message) is not None:
        return render_template("error.html", status=status, message=localize_error(message) if message else "")
    return render_template("error.html", status=status, message="", detail=message)
