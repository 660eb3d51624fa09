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
from engine.records.process import ProcessInstance
from web.api import bp
from web.api.common import caller
from web.api.idempotency import idempotent
from web.api.idempotency import remember
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.params import id_arg

SCOPES = ("mine", "available", "all")


def task_json(task: HumanTask) -> dict[str, Any]:
    """A task in the API shape, with its case number or its instance's business key."""
    csi = db().get(CSI, task.csi_id) if task.csi_id is not None else None
    instance = db().get(ProcessInstance, task.instance_id)
    return task_service.task_view(task, task_service.form_of(db(), task), csi.csi_no if csi else None, instance)


@bp.get("/tasks")
def list_tasks() -> Response:
    """Open tasks: `scope=mine` (claimed by me), `available` (unclaimed in my lanes), default both."""
    scope = request.args.get("scope", "all")
    if scope not in SCOPES:
        raise InvalidInputError("bad scope", {"scope": "must be mine or available"})
    case_id = id_arg(request.args.get("case_id"), "case_id")
    found = task_service.list_tasks(db(), caller(), scope=scope, csi_id=case_id)
    return jsonify([task_json(t) for t in found])


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
    """Complete the task with `{data: {...}}`; returns the case (or instance) and its open tasks; 202 with `held`
    when the model failed after the form was accepted (the instance is parked for the administrator).

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
    csi = session.get(CSI, done.instance.csi_id) if done.instance.csi_id is not None else None
    if csi is not None:
        result["case"] = cases.case_view(session, csi, timezone=app_context().settings.timezone)
        result["next_tasks"] = [task_json(t) for t in cases.open_tasks(session, csi.id)]
    else:
        result["instance"] = {"id": done.instance.id, "process_id": done.instance.process_id}
        result["next_tasks"] = [task_json(t) for t in task_service.instance_open_tasks(session, done.instance.id)]
    if done.held is not None:
        result["held"] = {"message": str(done.held), "bpmn_id": done.held.bpmn_id}
    answer = jsonify(result)
    answer.status_code = 202 if done.held is not None else 200
    remember(answer)
    session.commit()
    return answer
