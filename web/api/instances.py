"""Monitoring and administration: GET /api/v1/instances (filtered, sorted, paged), GET /api/v1/instances/{id}, and
POST …/suspend | resume | terminate | retry and POST /api/v1/tasks/{id}/reassign, each with a required reason."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.platform import admin_actions
from engine.platform.access import check_role
from engine.platform.access import may_read_cases
from engine.platform.tasks import task_view
from engine.records.csi import CSI
from engine.reports.monitoring import DEFAULT_SORT
from engine.reports.monitoring import MAX_PAGE_SIZE
from engine.reports.monitoring import MONITOR_ROLES
from engine.reports.monitoring import PAGE_SIZE
from engine.reports.monitoring import SORTS
from engine.reports.monitoring import check_customer_filters
from engine.reports.monitoring import detail_without_customer_data
from engine.reports.monitoring import instance_detail
from engine.reports.monitoring import instance_row
from engine.reports.monitoring import list_instances
from engine.reports.monitoring import parse_filters
from engine.reports.monitoring import sort_for
from engine.reports.monitoring import without_customer_data
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.errors import engine_error_response
from web.params import int_arg


@bp.get("/instances")
def instances() -> Response:
    """Instances filtered like the monitor page; the body is one page (a JSON array), the total is in X-Total-Count."""
    check_role(caller(), *MONITOR_ROLES)
    args = request.args.to_dict()
    filters = parse_filters(args)
    check_customer_filters(caller(), filters)
    page = int_arg(args.get("page"), "page", 1)
    size_name = "per_page" if "per_page" in args else "page_size"  # per_page as on /cases and /tasks; page_size too
    size = int_arg(args.get(size_name), size_name, PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    sort = sort_for(caller(), _sort(args.get("sort")))
    result = list_instances(db(), filters, sort, page, page_size=size, timezone=app_context().settings.timezone)
    rows = result.rows if may_read_cases(caller()) else [without_customer_data(row) for row in result.rows]
    response = jsonify([row.as_dict() for row in rows])
    response.headers["X-Total-Count"] = str(result.total)
    response.headers["X-Page"] = str(result.page)
    response.headers["X-Page-Size"] = str(result.page_size)
    links = []
    query: dict[str, Any] = {**filters.as_query(), "sort": sort, size_name: size}
    if result.page < result.pages:
        links.append(f'<{url_for("api.instances", **query, page=result.page + 1)}>; rel="next"')
    if result.page > 1:
        links.append(f'<{url_for("api.instances", **query, page=result.page - 1)}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _sort(raw: str | None) -> str:
    """The sort key of the API: absent means newest first; an unknown key is a 422 (the page falls back quietly)."""
    if raw is None or raw == "":
        return DEFAULT_SORT
    if raw.removeprefix("-") not in SORTS:
        raise InvalidInputError("bad sort", {"sort": "one of: " + ", ".join(SORTS) + " (a leading - sorts descending)"})
    return raw


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> Response:
    """One instance: element states per diagram, SLA badges, open tasks, sub-instances and timeline."""
    check_role(caller(), *MONITOR_ROLES)
    detail = instance_detail(db(), app_context().runtime, instance_id)
    return jsonify(detail if may_read_cases(caller()) else detail_without_customer_data(detail))


def _reason() -> tuple[dict[str, Any], Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object", {"body": "expected an object"})
    return body, body.get("reason")


@bp.post("/instances/<int:instance_id>/suspend")
def suspend(instance_id: int) -> Response:
    """Suspend a running instance (`{reason}`)."""
    _body, reason = _reason()
    admin_actions.suspend_instance(db(), caller(), instance_id, reason)
    db().commit()
    return jsonify(instance_row(db(), instance_id).as_dict())


@bp.post("/instances/<int:instance_id>/resume")
def resume(instance_id: int) -> Response:
    """Resume a suspended instance (`{reason}`)."""
    _body, reason = _reason()
    session = db()
    admin_actions.resume_instance(
        session, app_context().runtime, caller(), instance_id, reason, calendar=calendar_loader(session)
    )
    session.commit()
    return jsonify(instance_row(session, instance_id).as_dict())


@bp.post("/instances/<int:instance_id>/terminate")
def terminate(instance_id: int) -> Response:
    """Terminate an unfinished instance and its sub-instances (`{reason}`)."""
    _body, reason = _reason()
    admin_actions.terminate_instance(
        db(), app_context().runtime, caller(), instance_id, reason, calendar=calendar_loader(db())
    )
    db().commit()
    return jsonify(instance_row(db(), instance_id).as_dict())


@bp.post("/instances/<int:instance_id>/retry")
def retry(instance_id: int) -> Response | tuple[Response, int]:
    """Retry the failed step of an instance in error (`{reason}`); 422 with the new error if it fails again."""
    _body, reason = _reason()
    session = db()
    outcome = admin_actions.retry_instance(
        session, app_context().runtime, caller(), instance_id, reason, calendar=calendar_loader(session)
    )
    session.commit()  # a failed retry is recorded too (new error, timeline entry)
    if outcome.error is not None:
        return engine_error_response(outcome.error)
    return jsonify(instance_row(session, instance_id).as_dict())


@bp.post("/tasks/<task_id>/reassign")
def reassign(task_id: str) -> Response:
    """Give an open task to another user (`{username, reason}`)."""
    body, reason = _reason()
    task = admin_actions.reassign_task(db(), caller(), task_id, body.get("username"), reason)
    db().commit()
    csi = db().get(CSI, task.csi_id) if task.csi_id is not None else None
    return jsonify(task_view(task, None, csi.csi_no if csi else None))
