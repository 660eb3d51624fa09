"""Small helpers shared by the API routes: the caller, JSON bodies and error responses."""

from __future__ import annotations

from typing import Any

from flask import g
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.platform.forms import unstorable_text
from engine.records.user import User
from web.errors import error_body


def caller() -> User:
    """The authenticated API user."""
    user: User = g.user
    return user


def json_body() -> Any:
    """The request's JSON body.

    :raises InvalidInputError: the body is missing or not JSON, or holds text no database can store (NUL, unpaired
        surrogates), naming the field.
    """
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInputError("the body must be JSON (Content-Type: application/json)", {"body": "invalid JSON"})
    problems = unstorable_text(body)
    if problems:
        raise InvalidInputError("the body holds text that cannot be stored", problems)
    return body


def unauthorized(message: str) -> tuple[Response, int]:
    """A 401 in the API error shape."""
    response = jsonify(error_body("unauthorized", message))
    response.headers["WWW-Authenticate"] = 'Bearer realm="aftersales"'
    return response, 401
