"""Monitoring: GET /api/v1/instances and /api/v1/instances/{id} (managers, supervisors, designers, admins)."""

from __future__ import annotations

from flask import jsonify
from flask import request
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.records.process import InstanceStatus
from engine.services.access import check_role
from engine.services.monitoring import MONITOR_ROLES
from engine.services.monitoring import instance_detail
from engine.services.monitoring import list_instances
from web.api import bp
from web.api.common import caller
from web.context import app_context
from web.context import db


@bp.get("/instances")
def instances() -> Response:
    """Instances filtered by status, process id and overdue (§4.6 plan not decided in time)."""
    check_role(caller(), *MONITOR_ROLES)
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in InstanceStatus}:
        raise InvalidInputError("bad status", {"status": "one of " + ", ".join(s.value for s in InstanceStatus)})
    overdue = request.args.get("overdue", "").lower() in ("1", "true", "yes")
    return jsonify(
        list_instances(db(), status=status, process_id=request.args.get("process_id") or None, overdue=overdue)
    )


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> Response:
    """One instance with element states for diagram highlighting and its timeline."""
    check_role(caller(), *MONITOR_ROLES)
    return jsonify(instance_detail(db(), app_context().runtime, instance_id))
