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
from engine.records.process import HumanTask
from web.api import bp
from web.api.common import caller
from web.api.idempotency import idempotent
from web.api.idempotency import remember
from web.api.paging import DEFAULT_PER_PAGE
from web.api.paging import MAX_PER_PAGE
from web.api.paging import paged
from web.api.task_json import tasks_json
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.params import id_arg
from web.params import int_arg

SCOPES = ("mine", "available", "all")


def task_json(task: HumanTask) -> dict[str, Any]:
    """A task in the API shape, with its case number or its instance's business key."""
    return tasks_json(db(), [task])[0]


@bp.get("/tasks")
def list_tasks() -> Response:
    """Open tasks: `scope=mine` (claimed by me), `available` (unclaimed in my lanes), default both; with `page` or
    `per_page` one page of them, the total in X-Total-Count and the neighbours in Link (RFC 8288)."""
    scope = request.args.get("scope", "all")
    if scope not in SCOPES:
        raise InvalidInputError("bad scope", {"scope": "must be mine or available"})
    case_id = id_arg(request.args.get("case_id"), "case_id")
    if "page" not in request.args and "per_page" not in request.args:
        found = task_service.list_tasks(db(), caller(), scope=scope, csi_id=case_id)
        return jsonify(tasks_json(db(), found))
    page = int_arg(request.args.get("page"), "page", 1)
    per_page = int_arg(request.args.get("per_page"), "per_page", DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE)
    found, total = task_service.page_tasks(db(), caller(), scope=scope, csi_id=case_id, page=page, per_page=per_page)
    return paged(jsonify(tasks_json(db(), found)), total=total, page=page, per_page=per_page)


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Response:
    """One task with its form schema."""
    task = task_service.get_task(db(), task_id)
    task_service.check_can_view(caller(), task)
    return jsonify(task_json(task))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Response:
    """Claim the task for the caller."""
    task = task_service.claim_task(db(), caller(), task_id)
    db().commit()
    return jsonify(task_json(task))


@bp.post("/tasks/<task_id>/release")
def release(task_id: str) -> Response:
    """Give the task back to its lane."""
    check_can_release(caller(), task_service.get_task(db(), task_id))
    task = task_service.release_task(db(), caller(), task_id)
    db().commit()
    return jsonify(task_json(task))


@bp.post("/tasks/<task_id>/complete")
@idempotent
def complete(task_id: str) -> Response:
    """Complete the task with `{data: {...}}`; returns the task's status, the case's summary (id, number, status,
    SLA; the whole case view with `?include=case`) or the instance, and the open tasks; 202 with `held` when the model
    failed after the form was accepted (the instance is parked for the administrator).

    The body is not checked here: the engine checks the caller's lane and claim first (403) and only then the data
    (422 naming `data` or each bad field), so nobody learns a form's rules from a task that is not theirs.
    """
    body = request.get_json(silent=True)
    data = body.get("data") if isinstance(body, dict) else None
    session = db()
    done = task_service.complete_task(
        session, app_context().runtime, caller(), task_id, data, calendar=calendar_loader(session)
    )
    result: dict[str, Any] = {"task": {"id": done.task.id, "status": done.task.status}}
    timezone = app_context().settings.timezone
    if done.case is not None:
        full = "case" in request.args.get("include", "").split(",")
        top = done.instance.parent_instance_id or done.instance.id
        result["case"] = (
            cases.case_view(session, done.case, timezone=timezone)
            if full
            else cases.case_summary(done.case, top, timezone=timezone)
        )
        result["next_tasks"] = tasks_json(session, cases.open_tasks(session, done.case.id))
    else:
        result["instance"] = {"id": done.instance.id, "process_id": done.instance.process_id}
        result["next_tasks"] = tasks_json(session, task_service.instance_open_tasks(session, done.instance.id))
    if done.held is not None:
        result["held"] = {"message": str(done.held), "bpmn_id": done.held.bpmn_id}
    answer = jsonify(result)
    answer.status_code = 202 if done.held is not None else 200
    remember(answer)
    session.commit()
    return answer
