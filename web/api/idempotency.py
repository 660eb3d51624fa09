"""`Idempotency-Key` on POST /api/v1/cases and POST /api/v1/tasks/{id}/complete: a retry with the same key and body
gets the first answer (same status and body) and creates nothing twice; the same key with another body is a 422."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast

from flask import current_app
from flask import g
from flask import request
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from engine.platform.idempotency import HEADER
from engine.platform.idempotency import StoredAnswer
from engine.platform.idempotency import check_key
from engine.platform.idempotency import find_answer
from engine.platform.idempotency import fingerprint
from engine.platform.idempotency import remember_answer
from web.api.common import caller
from web.context import db

F = TypeVar("F", bound=Callable[..., Any])


def idempotent(view: F) -> F:
    """Answer a repeated key from the store; otherwise run the view, which calls `remember` before it commits."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        check_key(key)
        request_print = fingerprint(request.method, request.path, request.get_data())
        stored = find_answer(db(), caller().id, key, request_print)
        if stored is not None:
            return replay(stored)
        g.idempotency = (key, request_print)
        try:
            return view(*args, **kwargs)
        except IntegrityError:  # the same key committed meanwhile by a concurrent request: this one changed nothing
            db().rollback()
            stored = find_answer(db(), caller().id, key, request_print)
            if stored is None:
                raise
            return replay(stored)

    return cast(F, wrapped)


def remember(response: Response) -> Response:
    """Keep the answer byte for byte with the request's key (if it sent one), in the request's transaction: call it
    just before the commit."""
    pending = g.get("idempotency")
    if pending is not None:
        key, request_print = pending
        location = response.headers.get("Location")
        answer = StoredAnswer(status=response.status_code, body=response.get_data(as_text=True), location=location)
        remember_answer(db(), caller().id, key, request_print, answer)
    return response


def replay(stored: StoredAnswer) -> Response:
    """The first answer again, marked as a replay."""
    response = current_app.response_class(stored.body, status=stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
