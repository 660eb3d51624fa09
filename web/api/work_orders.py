"""POST /api/v1/work-orders/{wo_no}/assign: the service supervisor assigns a WO to an engineer or temporary staff;
…/cancel and …/reschedule: a service manager or supervisor cancels a WO (its running visit round ends and the case
moves on when no WO is left open) or moves its planned date (issue 9)."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.visits.lifecycle import WO_ROLES
from engine.aftersales.visits.lifecycle import cancel_work_order
from engine.aftersales.visits.lifecycle import reschedule_work_order
from engine.aftersales.visits.service import assign_work_order
from engine.errors import InvalidInputError
from engine.platform.access import check_can_view_case
from engine.platform.access import check_role
from engine.records.user import Role
from engine.reports import chain
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.context import app_context
from web.context import calendar_loader
from web.context import db


@bp.post("/work-orders/<wo_no>/assign")
def assign(wo_no: str) -> Response:
    """§2.6: body `{"username": ...}`; any active user may be assigned (temporary staff when not an engineer).

    403 unless the caller is a service supervisor; 404 unknown WO; 422 unknown or inactive user.
    """
    check_role(caller(), Role.SERVICE_SUPERVISOR.value)
    body = json_body()
    username = body.get("username") if isinstance(body, dict) else None
    if not isinstance(username, str) or not username.strip():
        raise InvalidInputError('send {"username": ...}', {"username": "this field is required"})
    session = db()
    csi = chain.find_csi_of(session, "wo", wo_no)
    check_can_view_case(caller(), csi)
    assign_work_order(session, caller(), wo_no, username.strip())
    session.commit()
    return jsonify(chain.record_view(session, "wo", wo_no))


@bp.post("/work-orders/<wo_no>/cancel")
def cancel(wo_no: str) -> Response:
    """Cancel the WO `{reason}`: 403 wrong role, 404 unknown WO, 409 ended or no round running, 422 no reason."""
    check_role(caller(), *WO_ROLES)
    body = json_body()
    session = db()
    check_can_view_case(caller(), chain.find_csi_of(session, "wo", wo_no))
    reason = body.get("reason") if isinstance(body, dict) else None
    cancel_work_order(session, app_context().runtime, caller(), wo_no, reason, calendar=calendar_loader(session))
    session.commit()
    return jsonify(chain.record_view(session, "wo", wo_no))


@bp.post("/work-orders/<wo_no>/reschedule")
def reschedule(wo_no: str) -> Response:
    """Move the WO's planned date `{planned_date, reason}`: 422 naming a missing reason or a bad or past date."""
    check_role(caller(), *WO_ROLES)
    body = json_body()
    session = db()
    check_can_view_case(caller(), chain.find_csi_of(session, "wo", wo_no))
    reschedule_work_order(session, caller(), wo_no, body)
    session.commit()
    return jsonify(chain.record_view(session, "wo", wo_no))
