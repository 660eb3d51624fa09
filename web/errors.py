"""Map engine errors to HTTP: JSON for the API, pages for the browser; never a stack trace to the client."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engine.errors import ConflictError
from engine.errors import DefinitionError
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.errors import WorkflowRuntimeError
from engine.errors import code_of

log = logging.getLogger("aftersales.web")

STATUS = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    ConflictError: 409,
    InvalidInputError: 422,
    DefinitionError: 422,
    WorkflowRuntimeError: 422,
}


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
    return jsonify(error_body(exc.code, str(exc), fields, **extra)), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(EngineError)
    def _engine(exc: EngineError) -> Any:
        if _wants_json():
            return engine_error_response(exc)
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return render_template("error.html", status=status, message=str(exc)), status

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Any:
        return _generic(409, "conflict", "the record was changed by someone else; reload and try again")

    @app.errorhandler(OperationalError)
    def _busy(exc: OperationalError) -> Any:
        if "locked" in str(exc).lower() or "lock timeout" in str(exc).lower():
            return _generic(503, "busy", "the database is busy; try again")
        return _internal(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return _generic(400, "csrf", exc.description or "CSRF token missing or invalid")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        return _generic(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        return _internal(exc)


def _internal(exc: Exception) -> Any:
    error_id = secrets.token_hex(6)
    log.exception("unhandled error %s", error_id, exc_info=exc)
    return _generic(500, "internal", f"internal error (id {error_id})")


def _generic(status: int, code: str, message: str) -> Any:
    if _wants_json():
        return jsonify(error_body(code, message)), status
    return render_template("error.html", status=status, message=message), status
