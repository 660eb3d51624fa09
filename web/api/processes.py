"""Start any deployed process: GET /api/v1/process-definitions/startable, POST
/api/v1/process-definitions/{process_id}/instances, and POST …/{process_id}/retire for process designers."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.platform import starting
from engine.platform.access import check_role
from engine.platform.admin_actions import check_reason
from engine.platform.deployment import retire_process
from engine.records.user import Role
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.api.task_json import tasks_json
from web.context import app_context
from web.context import calendar_loader
from web.context import db


@bp.get("/process-definitions/startable")
def startable() -> Response:
    """The processes the caller may start, each with its latest version and start form."""
    found = starting.startable(db(), app_context().runtime, caller())
    return jsonify([item.as_dict() for item in found])


@bp.post("/process-definitions/<process_id>/instances")
def start(process_id: str) -> tuple[Response, int]:
    """Start the latest version with `{"data": {...}}` (checked against the start form); 201 with the first tasks."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    session = db()
    started = starting.start_process(
        session, app_context().runtime, caller(), process_id, body.get("data", {}), calendar=calendar_loader(session)
    )
    session.commit()
    instance = started.instance
    return jsonify(
        {
            "instance": {
                "id": instance.id,
                "process_id": instance.process_id,
                "version": started.version.version,
                "status": instance.status,
                "business_key": instance.business_key,
            },
            "next_tasks": tasks_json(db(), started.next_tasks),
        }
    ), 201


@bp.post("/process-definitions/<process_id>/retire")
def retire(process_id: str) -> Response:
    """Retire a process (process designers): nothing new starts on it; running instances finish."""
    check_role(caller(), Role.PROCESS_DESIGNER.value)
    body = json_body()
    reason = check_reason(body.get("reason") if isinstance(body, dict) else None)
    definition = retire_process(db(), caller().username, process_id, reason)
    db().commit()
    retired_at = definition.retired_at.isoformat() if definition.retired_at else None
    return jsonify({"process_id": definition.process_id, "retired_at": retired_at, "reason": reason})
