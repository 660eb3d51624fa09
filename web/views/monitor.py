"""Monitoring pages for service directors, managers and supervisors (process designers and admins may look): the
instance list with filters, sorting, paging and CSV/XLSX export; one instance with its diagram, timeline, records
and admin actions; incidents; and the per-version heatmap."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.platform import admin_actions
from engine.platform import incidents
from engine.platform.access import may_read_cases
from engine.platform.definitions import list_versions
from engine.platform.definitions import parsed_bundle
from engine.platform.tasks import get_task
from engine.platform.users import display_names
from engine.platform.users import list_active_users
from engine.records.csi import CSI
from engine.records.process import INSTANCE_STATUS_LABELS as ENGINE_INSTANCE_LABELS
from engine.records.process import InstanceStatus
from engine.records.process import ProcessVersion
from engine.records.user import ROLE_KEYS
from engine.reports import chain
from engine.reports import heatmap as heat
from engine.reports import monitoring
from web.auth import current_user
from web.auth import roles_required
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import localize_error
from web.forms import localized
from web.i18n import current_lang
from web.model_i18n import diagram_for_reader
from web.model_i18n import english_model_names
from web.model_i18n import model_name
from web.params import int_arg
from web.params import version_arg
from web.security import as_download
from web.views import ROLE_LABELS
from web.views import business_zone
from web.views import case_vocabulary
from web.views import due_state
from web.views import install
from web.views import label
from web.views import local_time

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
install(bp)
VIEW = monitoring.MONITOR_ROLES
ACTIONS = ("suspend", "resume", "terminate", "retry")

INSTANCE_STATUS_LABELS: dict[str, Any] = {status.value: _l(text) for status, text in ENGINE_INSTANCE_LABELS.items()}
EVENT_LABELS: dict[str, Any] = {
    "instance.suspended": _l("Instance suspended"),
    "instance.resumed": _l("Instance resumed"),
    "instance.terminated": _l("Instance terminated"),
    "instance.retried": _l("Failed step retried"),
    "instance.retry_failed": _l("Retry failed"),
    "task.reassigned": _l("Task reassigned"),
    "message.delivered": _l("Message received"),
    "wo.round_started": _l("Visit round started"),
    "wo.completed": _l("Work order completed"),
    "wo.assigned": _l("Work order assigned"),
    "sla.recomputed": _l("§4.6 deadline recomputed"),
}
SORT_COLUMNS = ("id", "csi", "customer", "product", "status", "sla", "updated")


@bp.app_template_global("instance_status")
def instance_status(status: str) -> str:
    """The label of an instance status."""
    found = INSTANCE_STATUS_LABELS.get(status)
    return str(found) if found is not None else status


@bp.app_template_global("monitor_event")
def monitor_event(kind: str) -> str:
    """The label of a timeline entry kind (monitor kinds first, then the shared ones)."""
    found = EVENT_LABELS.get(kind)
    return str(found) if found is not None else label("event", kind)


@bp.app_template_global("step_title")
def step_title(version_id: int, bpmn_id: str, name: str) -> str:
    """A step's title in the current language: the BPMN name (Chinese), else its English name or form title."""
    if current_lang() != "en":
        return name
    english = english_model_names(version_id).get(bpmn_id)
    if english:
        return english
    cache: dict[int, dict[str, str]] = g.setdefault("monitor_titles", {})
    if version_id not in cache:
        version = db().get(ProcessVersion, version_id)
        cache[version_id] = _english_titles(db(), version) if version is not None else {}
    return cache[version_id].get(bpmn_id) or name


def _english_titles(session: Session, version: ProcessVersion) -> dict[str, str]:
    bundle = parsed_bundle(session, version)
    titles: dict[str, str] = {}
    for name in bundle.files:
        if name.endswith(".schema.json"):
            stem = name.rsplit("/", 1)[-1].removesuffix(".schema.json")
            titles[stem] = localized(bundle.form(name), "title", "en")
    return titles


# --- the instance list ----------------------------------------------------------------------------------------------


@bp.get("/instances")
@roles_required(*VIEW)
def instances() -> BaseResponse | str | tuple[str, int]:
    """Filtered, sorted, paged instances; `?format=csv|xlsx` exports every filtered instance."""
    session = db()
    errors: dict[str, str] = {}
    try:
        filters = monitoring.parse_filters(request.args.to_dict())
    except InvalidInputError as exc:
        filters, errors = monitoring.InstanceFilters(), exc.fields
    monitoring.check_customer_filters(current_user(), filters)
    sort = monitoring.sort_for(current_user(), monitoring.parse_sort(request.args.get("sort")))
    export = request.args.get("format", "")
    if export in ("csv", "xlsx") and not errors:
        return _export(session, filters, sort, export)
    page = int_arg(request.args.get("page"), "page", 1)
    result = monitoring.list_instances(session, filters, sort, page, timezone=app_context().settings.timezone)
    if not may_read_cases(current_user()):
        result = replace(result, rows=[monitoring.without_customer_data(row) for row in result.rows])
    html = render_template(
        "monitor/instances.html",
        result=result,
        filters=filters,
        query=filters.as_query(),
        sort=sort,
        errors=errors,
        options=_filter_options(session, filters),
        sort_columns=SORT_COLUMNS,
        incident_count=incidents.count_incidents(session),
    )
    return (html, 422) if errors else html


def _filter_options(session: Session, filters: monitoring.InstanceFilters) -> dict[str, Any]:
    """Choices of the filter form: processes with their versions, steps of the newest versions, lanes, statuses."""
    versions = list_versions(session)
    processes: dict[str, ProcessVersion] = {}
    for version in versions:
        processes.setdefault(version.process_id, version)  # newest first within each process
    numbers = sorted(
        {v.version for v in versions if not filters.process_id or v.process_id == filters.process_id}, reverse=True
    )
    steps: list[tuple[str, list[tuple[str, str]]]] = []
    seen: set[str] = set()
    for newest in processes.values():
        catalog = heat.element_catalog(session, newest)
        for pid in heat.called_processes(catalog, newest.process_id):
            if pid in seen:
                continue
            seen.add(pid)
            items = [(e.bpmn_id, step_title(newest.id, e.bpmn_id, e.name)) for e in catalog[pid].values()]
            kinds = {e.bpmn_id: e.kind for e in catalog[pid].values()}
            items = [i for i in items if kinds[i[0]] in ("userTask", "intermediateCatchEvent", "receiveTask")]
            if items:
                steps.append((model_name(newest.id, pid, heat.process_name(catalog, pid, newest)), items))
    return {
        "processes": [(pid, model_name(v.id, pid, v.name or pid)) for pid, v in sorted(processes.items())],
        "versions": numbers,
        "steps": steps,
        "lanes": sorted(ROLE_KEYS - {"admin", "process_designer"}),
        "statuses": [s.value for s in InstanceStatus],
    }


def _export(session: Session, filters: monitoring.InstanceFilters, sort: str, kind: str) -> BaseResponse:
    zone = app_context().settings.timezone
    rows = monitoring.export_instances(session, filters, sort, timezone=zone, after_batch=session.rollback)
    if not may_read_cases(current_user()):
        rows = (monitoring.without_customer_data(row) for row in rows)
    header = [
        _("Instance"),
        _("CSI no."),
        _("Customer code"),
        _("Customer"),
        _("Product"),
        _("Serial no."),
        _("Process"),
        _("Version"),
        _("Status"),
        _("Current step"),
        _("§4.6 plan due"),
        _("SLA state"),
        _("Started"),
        _("Updated"),
    ]
    labels = {s.value: instance_status(s.value) for s in InstanceStatus}
    sla = {"decided": str(_("Plan decided")), "overdue": str(_("Overdue")), "provisional": str(_("Provisional"))}
    cells = (_export_cells(row, kind, labels, sla) for row in rows)
    name = f"instances-{local_time(utcnow(), '%Y%m%d-%H%M')}.{kind}"
    disposition = f'attachment; filename="{name}"'
    # built before responding, not streamed: on SQLite an open read transaction would hold the write lock
    if kind == "csv":
        data = "".join(monitoring.csv_chunks(header, cells)).encode("utf-8")
        mimetype = "text/csv"
    else:
        data = monitoring.xlsx_bytes(header, cells, title=str(_("Instances")))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    return response


def _export_cells(row: monitoring.InstanceRow, kind: str, labels: dict[str, str], sla: dict[str, str]) -> list[Any]:
    """One export line; labels are looked up once per export, not per row."""

    def when(value: datetime | None) -> Any:
        if value is None:
            return ""
        return local_time(value) if kind == "csv" else _naive_local(value)

    state = ""
    if row.sla_decided_at is not None:
        state = sla["decided"]
    elif row.overdue:
        state = sla["overdue"]
    elif row.sla_provisional:
        state = sla["provisional"]
    return [
        row.id,
        row.csi_no or "",
        row.customer_code or "",
        row.customer_name or "",
        row.product_code or "",
        row.serial_no or "",
        row.process_name,
        row.version,
        labels.get(row.status, row.status),
        "、".join(step_title(row.process_version_id, s.bpmn_id, s.name) for s in row.steps),
        when(row.sla_due_at),
        state,
        when(row.created_at),
        when(row.updated_at),
    ]


def _naive_local(value: datetime) -> datetime:
    return value.astimezone(business_zone()).replace(tzinfo=None)


# --- one instance ---------------------------------------------------------------------------------------------------


@bp.get("/instances/<int:instance_id>")
@roles_required(*VIEW)
def instance(instance_id: int) -> str:
    """The instance: diagram with states and SLA badges, facts, open tasks, sub-instances, records, timeline."""
    return _render_instance(instance_id, {}, {})


def _render_instance(instance_id: int, errors: dict[str, str], values: dict[str, str]) -> str:
    session = db()
    detail = monitoring.instance_detail(session, app_context().runtime, instance_id)
    instance = monitoring.get_instance(session, instance_id)
    row = monitoring.instance_row(session, instance_id)
    reader = may_read_cases(current_user())
    if not reader:  # process designers see steps, states and errors, not the customer's data
        detail, row = monitoring.detail_without_customer_data(detail), monitoring.without_customer_data(row)
    csi = session.get(CSI, detail["case_id"]) if detail["case_id"] and reader else None
    parent = monitoring.get_instance(session, detail["parent_instance_id"]) if detail["parent_instance_id"] else None
    people = [e["actor"] for e in detail["timeline"]] + [t["assignee"] for t in detail["open_tasks"]]
    people += [e["data"].get(k) for e in detail["timeline"] if e["data"] for k in ("from", "to")]
    vocabulary = case_vocabulary(session, instance)
    return render_template(
        "monitor/instance.html",
        d=detail,
        row=row,
        tasks=monitoring.open_tasks(session, instance_id),
        csi=csi,
        parent=parent,
        names=display_names(session, [p for p in people if isinstance(p, str)]),
        users=[
            {
                "username": u.username,
                "name": u.display_name or u.username,
                "roles": "、".join(label("role", r) for r in sorted(u.role_keys)),
                "role_keys": u.role_keys,
            }
            for u in list_active_users(session)
        ],
        records=_records(session, csi) if csi is not None and parent is None else [],
        diagram=_diagram_config(detail, _callers(session, detail["process_version_id"])),
        may_act=bool(current_user().role_keys.intersection(admin_actions.ACTION_ROLES)),
        errors=errors,
        values=values,
        version_id=detail["process_version_id"],
        field_labels=vocabulary.fields,
        choices=vocabulary.choices,
    )


def _diagram_config(detail: dict[str, Any], callers: dict[str, heat.ElementInfo]) -> dict[str, Any]:
    """Diagram URLs with element states, and SLA badges on waiting tasks (repeated on the call activity that
    encloses a task of a called process, so the top diagram shows them too)."""
    version_id = detail["process_version_id"]
    badges = []
    for badge in detail["badges"]:
        shown = {
            **badge,
            "state": due_state(_parse(badge["due_at"])),
            "text": local_time(badge["due_at"], "%m-%d %H:%M"),
        }
        badges.append(shown)
        caller, seen = callers.get(badge["process_id"]), {badge["process_id"]}
        while caller is not None and caller.process_id not in seen:
            badges.append({**shown, "process_id": caller.process_id, "bpmn_id": caller.bpmn_id})
            seen.add(caller.process_id)
            caller = callers.get(caller.process_id)
    return {
        "diagrams": [
            {**d, "url": url_for("monitor.diagram_xml", version_id=version_id, process_id=d["process_id"])}
            for d in detail["diagrams"]
        ],
        "badges": badges,
    }


def _callers(session: Session, version_id: int) -> dict[str, heat.ElementInfo]:
    """Called process id → the call activity that calls it, within one version's bundle."""
    version = session.get(ProcessVersion, version_id)
    assert version is not None
    catalog = heat.element_catalog(session, version)
    return {e.called: e for nodes in catalog.values() for e in nodes.values() if e.called}


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _records(session: Session, csi: CSI) -> list[dict[str, Any]]:
    """The case's documents (type, number, link) in chain order."""
    found = chain.document_chain(session, csi)
    linkable = "records.detail" in current_app.view_functions
    out: list[dict[str, Any]] = []
    for kind, key in chain.CHAIN_KEYS.items():
        for item in found.get(key, []):
            number = item.get("number")
            if number:
                url = url_for("records.detail", record_type=kind, number=number) if linkable else None
                out.append({"type": kind, "number": number, "url": url, "status": item.get("status")})
    return out


@bp.get("/versions/<int:version_id>/diagrams/<process_id>.bpmn")
@roles_required(*VIEW)
def diagram_xml(version_id: int, process_id: str) -> BaseResponse:
    """The BPMN file of one process as deployed in that version's bundle, its names in the reader's language and its
    lanes labelled by role (`?raw=1`: exactly as deployed); fetched by the viewer, a download, never rendered inline."""
    session = db()
    version = session.get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    bundle = parsed_bundle(session, version)
    name = bundle.process_file(process_id) if re.match(r"^[\w.-]{1,64}$", process_id) else ""
    if not name:
        abort(404)
    text = bundle.files[name] if request.args.get("raw") else diagram_for_reader(name, bundle.files[name], ROLE_LABELS)
    return as_download(text, name.rsplit("/", 1)[-1], "application/xml")


@bp.post("/instances/<int:instance_id>/<action>")
@roles_required(*VIEW)
def act(instance_id: int, action: str) -> BaseResponse | tuple[str, int]:
    """Suspend, resume, terminate or retry with the reason from the form; a missing reason is shown inline (422)."""
    if action not in ACTIONS:
        abort(404)
    session = db()
    reason = request.form.get("reason", "")
    runtime, calendar = app_context().runtime, calendar_loader(session)
    user = current_user()
    try:
        if action == "suspend":
            admin_actions.suspend_instance(session, user, instance_id, reason)
        elif action == "resume":
            admin_actions.resume_instance(session, runtime, user, instance_id, reason, calendar=calendar)
        elif action == "terminate":
            admin_actions.terminate_instance(session, runtime, user, instance_id, reason, calendar=calendar)
        else:
            outcome = admin_actions.retry_instance(session, runtime, user, instance_id, reason, calendar=calendar)
            if outcome.error is not None:
                session.commit()
                flash(_("The retry failed again: %(message)s", message=str(outcome.error)), "error")
                return redirect(url_for("monitor.instance", instance_id=instance_id))
    except InvalidInputError as exc:
        session.rollback()
        errors = {
            f"{action}.{k}": _("A reason is required.") if k == "reason" else localize_error(v)
            for k, v in exc.fields.items()
        }
        return _render_instance(instance_id, errors, {"action": action}), 422
    session.commit()
    flash(str(_ACTION_DONE[action]), "success")
    return redirect(url_for("monitor.instance", instance_id=instance_id))


_ACTION_DONE = {
    "suspend": _l("The instance is suspended: no task can be completed and no timer fires until it is resumed."),
    "resume": _l("The instance runs again."),
    "terminate": _l("The instance is terminated; its open tasks were closed."),
    "retry": _l("The failed step ran again successfully; the instance runs again."),
}


@bp.post("/tasks/<task_id>/reassign")
@roles_required(*VIEW)
def reassign(task_id: str) -> BaseResponse | tuple[str, int]:
    """Reassign an open task to the chosen user, with a reason."""
    session = db()
    task = get_task(session, task_id)
    try:
        admin_actions.reassign_task(
            session, current_user(), task_id, request.form.get("username", ""), request.form.get("reason", "")
        )
    except InvalidInputError as exc:
        session.rollback()
        errors = {
            f"reassign.{k}": _("A reason is required.") if k == "reason" else localize_error(v)
            for k, v in exc.fields.items()
        }
        return _render_instance(task.instance_id, errors, {"task_id": task_id, **request.form.to_dict()}), 422
    session.commit()
    flash(_("The task was reassigned."), "success")
    return redirect(url_for("monitor.instance", instance_id=task.instance_id, _anchor="tasks"))


# --- incidents and heatmap ------------------------------------------------------------------------------------------


@bp.get("/incidents")
@roles_required(*VIEW)
def incident_list() -> str:
    """Instances parked by a failed step, newest first, with retry."""
    session = db()
    found = incidents.list_incidents(session)
    names: dict[int, dict[str, heat.ElementInfo]] = {}
    for item in found:
        if item.process_version_id not in names:
            version = session.get(ProcessVersion, item.process_version_id)
            assert version is not None
            names[item.process_version_id] = _flat_catalog(session, version)
    return render_template(
        "monitor/incidents.html",
        incidents=found,
        elements=names,
        may_act=bool(current_user().role_keys.intersection(admin_actions.ACTION_ROLES)),
        incident_count=len(found),
    )


def _flat_catalog(session: Session, version: ProcessVersion) -> dict[str, heat.ElementInfo]:
    return {k: v for nodes in heat.element_catalog(session, version).values() for k, v in nodes.items()}


@bp.get("/heatmap")
@roles_required(*VIEW)
def heatmap() -> str:
    """Waiting instances and time spent per element of one process version, on its diagram and in a table."""
    session = db()
    versions = list_versions(session)
    process_id, _sep, number = (request.args.get("pv") or "").partition(":")
    process_id = process_id or request.args.get("process_id", "")
    number = number or request.args.get("version", "")
    if not process_id:  # the case process first: that is where the load is
        ids = [v.process_id for v in versions]
        process_id = "after_sales_case" if "after_sales_case" in ids else (ids[0] if ids else "")
    try:
        version = heat.resolve_version(session, process_id, version_arg(number))
    except NotFoundError:
        abort(404)
    result = heat.heatmap(session, version)
    config = {
        "diagrams": [
            {**d, "url": url_for("monitor.diagram_xml", version_id=version.id, process_id=d["process_id"])}
            for d in result.diagrams
        ],
        "heat": [c.as_dict() for c in result.cells if c.waiting or c.open_tasks],
    }
    return render_template(
        "monitor/heatmap.html",
        result=result,
        config=config,
        versions=versions,
        process_id=process_id,
        incident_count=incidents.count_incidents(session),
    )
