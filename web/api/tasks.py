"""Human tasks: list, read, claim, release and complete (422 bad data, 409 closed, 403 wrong role or claim)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.errors import InvalidInputError
from engine.platform import tasks as task_service
from engine.platform.access import check_can_release
from engine.records.csi import CSI
from engine.records.process import HumanTask
from web.api import bp
from web.api.common import caller
from web.api.idempotency import idempotent
from web.api.idempotency import remember
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.params import id_arg

SCOPES = ("mine", "available", "all")


def _view(task: HumanTask) -> dict[str, Any]:
    csi = db().get(CSI, task.csi_id) if task.csi_id is not None else None
    return task_service.task_view(task, task_service.form_of(db(), task), csi.csi_no if csi else None)


@bp.get("/tasks")
def list_tasks() -> Response:
    """Open tasks: `scope=mine` (claimed by me), `available` (unclaimed in my lanes), default both."""
    scope = request.args.get("scope", "all")
    if scope not in SCOPES:
        raise InvalidInputError("bad scope", {"scope": "must be mine or available"})
    case_id = id_arg(request.args.get("case_id"), "case_id")
    found = task_service.list_tasks(db(), caller(), scope=scope, csi_id=case_id)
    return jsonify([_view(t) for t in found])


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Response:
    """One task with its form schema."""
    task = task_service.get_task(db(), task_id)
    task_service.check_can_view(caller(), task)
    return jsonify(_view(task))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Response:
    """Claim the task for the caller."""
    task = task_service.claim_task(db(), caller(), task_id)
    db().commit()
    return jsonify(_view(task))


@bp.post("/tasks/<task_id>/release")
def release(task_id: str) -> Response:
    """Give the task back to its lane."""
    check_can_release(caller(), task_service.get_task(db(), task_id))
    task = task_service.release_task(db(), caller(), task_id)
    db().commit()
    return jsonify(_view(task))


@bp.post("/tasks/<task_id>/complete")
@idempotent
def complete(task_id: str) -> Response:
    """Complete the task with `{data: {...}}`; returns the case and its open tasks.

    The body is not checked here: the engine checks the caller's lane and claim first (403) and only then the data
    (422 naming `data` or each bad field), so nobody learns a form's rules from a task that is not theirs.
    """
    body = request.get_json(silent=True)
    data = body.get("data") if isinstance(body, dict) else None
    session = db()
    locked = task_service.complete_task(
        session, app_context().runtime, caller(), task_id, data, calendar=calendar_loader(session)
    )
    result: dict[str, Any] = {"task": {"id": locked.task.id, "status": locked.task.status}}
    if locked.csi is not None:
        result["case"] = cases.case_view(session, locked.csi, timezone=app_context().settings.timezone)
        result["next_tasks"] = [_view(t) for t in cases.open_tasks(session, locked.csi.id)]
    response = remember(jsonify(result))
    session.commit()
    return response
