"""Health checks for load balancers and orchestrators, without sign-in: `/healthz` (the process answers, no database)
and `/readyz` (the database answers and its schema is at the newest migration; 503 otherwise)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint
from flask import jsonify
from werkzeug.wrappers import Response

from engine.migrate import applied_revisions
from engine.migrate import head_revisions
from engine.migrate import schema_state
from engine.outages import classify_outage
from web.context import app_context

bp = Blueprint("health", __name__)
NOT_READY_RETRY_SECONDS = 10


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process serves requests (the database is not touched)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 when the database answers and every migration of this release is applied, else 503 saying
    which (a database migrated by a newer release is ready: migrations only add)."""
    head = sorted(head_revisions())
    try:
        found = applied_revisions(app_context().sessions.kw["bind"])
    except Exception as exc:  # the driver's own error when the connection cannot even be opened
        outage = classify_outage(exc)
        if outage is None:
            raise
        return _not_ready({"status": "unavailable", "database": outage.kind.value}, outage.retry_after)
    state, applied = schema_state(found), sorted(found)
    migrations = {"state": state, "applied": applied, "head": head}
    if state == "behind":
        return _not_ready(
            {"status": "unavailable", "database": "ok", "migrations": migrations}, NOT_READY_RETRY_SECONDS
        )
    return jsonify({"status": "ready", "database": "ok", "migrations": migrations})


def _not_ready(body: Mapping[str, object], retry_after: int) -> Response:
    response = jsonify(body)
    response.status_code = 503
    response.headers["Retry-After"] = str(retry_after)
    return response
