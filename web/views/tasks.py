"""Inbox and task pages: claim / release, and the task form rendered from its JSON Schema (server-side validation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engine.aftersales.cases import read as cases
from engine.aftersales.cases.attachments import list_attachments
from engine.aftersales.dispatch.parts import spare_parts
from engine.aftersales.review.read import billing_proposal
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.platform import inbox_views
from engine.platform.access import can_view_case
from engine.platform.access import check_can_release
from engine.platform.admin_actions import reassign_task
from engine.platform.forms import TaskForm
from engine.platform.tasks import TEAM_ROLES
from engine.platform.tasks import InboxFilter
from engine.platform.tasks import check_can_view
from engine.platform.tasks import claim_task
from engine.platform.tasks import complete_task
from engine.platform.tasks import count_tasks
from engine.platform.tasks import form_of
from engine.platform.tasks import get_task
from engine.platform.tasks import inbox_steps
from engine.platform.tasks import page_tasks
from engine.platform.tasks import release_task
from engine.platform.users import display_names
from engine.platform.users import list_active_users
from engine.records.csi import CSI
from engine.records.csi import CSIStatus
from engine.records.part_return import PartReturn
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.timeline import TimelineEvent
from web.auth import current_user
from web.auth import login_required
from web.auth import safe_next
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import build_fields
from web.forms import form_errors
from web.forms import limit_choices
from web.forms import localize_error
from web.forms import localized
from web.forms import parse_form
from web.i18n import current_lang
from web.params import int_arg
from web.pickers import form_defaults
from web.pickers import with_pickers
from web.views import business_zone
from web.views import case_vocabulary
from web.views import install
from web.views import task_titles

bp = Blueprint("tasks", __name__)
install(bp)
TABS = ("mine", "available", "team")
INBOX_PAGE = 50  # tasks per inbox page
BUILT_IN_VIEWS = (  # one click from the inbox, next to the user's own saved views
    ("mine_overdue", "tab=mine&due=overdue"),
    ("due_today", "tab=mine&due=today"),
    ("available_overdue", "tab=available&due=overdue"),
)


@bp.get("/")
@login_required
def inbox() -> str:
    """My claimed tasks, the unclaimed tasks of my roles and (supervisors) the team's, filtered by process, step,
    customer and due date, sorted, a page at a time; saved views open a filter in one click."""
    session, user = db(), current_user()
    tabs = [t for t in TABS if t != "team" or user.role_keys & TEAM_ROLES]
    counts = {scope: count_tasks(session, user, scope=scope) for scope in tabs}
    tab = request.args.get("tab")
    if tab not in tabs:
        tab = "mine" if counts["mine"] or not counts["available"] else "available"
    page = int_arg(request.args.get("page"), "page", 1)
    narrow = _inbox_filter(request.args)
    zone = business_zone()
    today_end = datetime.combine(utcnow().astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)
    rows, total = page_tasks(
        session, user, scope=tab, page=page, per_page=INBOX_PAGE, narrow=narrow, end_of_today=today_end
    )
    return render_template(
        "tasks/inbox.html",
        tab=tab,
        tabs=tabs,
        rows=rows,
        total=total,
        counts=counts,
        page=page,
        pages=max(1, -(-total // INBOX_PAGE)),
        narrow=narrow,
        filtered=narrow != InboxFilter(),
        steps=inbox_steps(session, user, tab),
        views=inbox_views.list_views(session, user.username),
        built_in=BUILT_IN_VIEWS,
        query=inbox_views.clean_query(request.query_string.decode("utf-8", "replace")),
        assignable=list_active_users(session) if tab == "team" else [],
        cases=_cases_of(rows),
        instances=_instances_of(rows),
        titles=task_titles(session, rows),
        names=display_names(session, (t.assignee for t in rows)),
    )


def _inbox_filter(args: Any) -> InboxFilter:
    """The inbox's filter from its query string; unknown values filter nothing."""
    due = args.get("due", "")
    sort = args.get("sort", "due")
    return InboxFilter(
        process_id=args.get("process", "")[:64],
        step=args.get("step", "")[:64],
        customer=args.get("customer", "").strip()[:64],
        due=due if due in InboxFilter.DUE else "",
        sort=sort if sort in InboxFilter.SORTS else "due",
    )


@bp.post("/inbox/views")
@login_required
def save_view() -> Response:
    """Save the current inbox filter under a name (replacing a view of that name)."""
    session, user = db(), current_user()
    query = request.form.get("query", "")
    try:
        inbox_views.save_view(session, user.username, request.form.get("name", ""), query)
    except InvalidInputError as exc:
        session.rollback()
        flash(_("View not saved: %(message)s", message=localize_error(next(iter(exc.fields.values()), ""))), "error")
        return redirect(url_for("tasks.inbox") + ("?" + inbox_views.clean_query(query) if query else ""))
    session.commit()
    flash(_("View saved."), "success")
    return redirect(url_for("tasks.inbox") + "?" + inbox_views.clean_query(query))


@bp.post("/inbox/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int) -> Response:
    """Delete one of my saved views."""
    inbox_views.delete_view(db(), current_user().username, view_id)
    db().commit()
    flash(_("View deleted."), "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/bulk")
@login_required
def bulk() -> Response:
    """Claim several tasks at once, or (supervisors, §2.6) give several to one person with a reason; each task is
    taken on its own, so one already taken by someone else does not stop the rest, and the result names it."""
    session, user = db(), current_user()
    ids = request.form.getlist("task_id")[:INBOX_PAGE]
    action = request.form.get("action", "")
    back = safe_next(request.form.get("next"), url_for("tasks.inbox"))
    if not ids or action not in ("claim", "reassign"):
        flash(_("Select at least one task."), "error")
        return redirect(back)
    done, refused = 0, []
    for task_id in ids:
        try:
            with session.begin_nested():
                if action == "claim":
                    claim_task(session, user, task_id)
                else:
                    person, reason = request.form.get("assignee", ""), request.form.get("reason", "")
                    reassign_task(session, user, task_id, person, reason)
            done += 1
        except (ConflictError, InvalidInputError, PermissionDeniedError, NotFoundError) as exc:
            refused.append(localize_error(exc.args[0]) if exc.args else str(exc))
    session.commit()
    if done:
        flash(_("%(count)d task(s) done.", count=done), "success")
    if refused:
        flash(_("Not done: %(reasons)s", reasons="; ".join(sorted(set(refused)))), "error")
    return redirect(back)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    """Take an open task of one of my roles."""
    task = claim_task(db(), current_user(), task_id)
    db().commit()
    flash(_("You claimed “%(task)s”.", task=task_titles(db(), [task])[task.id]), "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.inbox", tab="mine")))


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id: str) -> Response:
    """Give a claimed task back to its role's queue."""
    check_can_release(current_user(), get_task(db(), task_id))
    task = release_task(db(), current_user(), task_id)
    db().commit()
    flash(_("“%(task)s” is back in the queue of its role.", task=task_titles(db(), [task])[task.id]), "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.inbox")))


@bp.get("/tasks/<task_id>")
@login_required
def task_form(task_id: str) -> str | tuple[str, int]:
    """The task's form with the case's key facts; closed tasks get a friendly 409 page."""
    session = db()
    task = get_task(session, task_id)
    check_can_view(current_user(), task)
    if task.status != TaskStatus.OPEN.value:
        return _closed(task)
    return _render(task, form_of(session, task), posted=None, errors={})


@bp.post("/tasks/<task_id>")
@login_required
def task_submit(task_id: str) -> Response | str | tuple[str, int]:
    """Complete the task; the engine validates the data (422 with inline messages, nothing saved)."""
    session = db()
    task = get_task(session, task_id)
    check_can_view(current_user(), task)
    if task.status != TaskStatus.OPEN.value:
        return _closed(task)
    form = form_of(session, task)
    csi = session.get(CSI, task.csi_id) if task.csi_id is not None else None
    picked_schema, _picked_ui = with_pickers(session, form.schema, form.ui_schema, csi)
    data = parse_form(picked_schema, request.form, business_zone())
    try:
        done = complete_task(
            session, app_context().runtime, current_user(), task_id, data, calendar=calendar_loader(session)
        )
    except InvalidInputError as exc:
        session.rollback()
        return _render(task, form, posted=request.form, errors=exc.fields), 422
    except ConflictError:
        session.rollback()
        return _closed(get_task(session, task_id))
    title = task_titles(session, [task])[task.id]
    session.commit()
    if done.held is not None:
        message = _("“%(task)s” was saved, but the process stopped on an error: it is held for the administrator.")
        flash(message % {"task": title}, "warning")
        return redirect(url_for("tasks.inbox"))
    csi = session.get(CSI, task.csi_id) if task.csi_id is not None else None
    if csi is not None and can_view_case(current_user(), csi):
        if csi.status == CSIStatus.CLOSED.value:
            flash(_("“%(task)s” is done; case %(case)s is closed.", task=title, case=csi.csi_no), "success")
        else:
            flash(_("“%(task)s” is done; case %(case)s moves on.", task=title, case=csi.csi_no), "success")
    else:
        flash(_("“%(task)s” is done.", task=title), "success")
    return redirect(url_for("tasks.inbox"))  # the next task, not a long case page (issue 11: the phone)


def _render(
    task: HumanTask,
    form: TaskForm,
    *,
    posted: MultiDict[str, str] | None,
    errors: dict[str, str],
) -> str:
    session, user, lang = db(), current_user(), current_lang()
    proposal = _proposal(task, form)
    initial: dict[str, Any] | None = (
        {"billing": proposal["proposed_billing"]} if proposal and proposal.get("proposed_billing") else None
    )
    case_row = session.get(CSI, task.csi_id) if task.csi_id is not None else None
    schema, ui_schema = with_pickers(session, form.schema, form.ui_schema, case_row)
    instance = session.get(ProcessInstance, task.instance_id)
    record_key = instance.business_key if instance is not None else None
    initial = {**form_defaults(form.ui_schema, case_row, session, record_key), **(initial or {})} or None
    fields = build_fields(schema, ui_schema, lang, posted=posted, initial=initial, errors=errors, zone=business_zone())
    if proposal and isinstance(proposal.get("allowed_plans"), list):
        limit_choices(fields, "service_plan", proposal["allowed_plans"])
    csi = cases.get_csi(session, task.csi_id) if task.csi_id is not None else None
    process = None if csi else _instances_of([task]).get(task.instance_id)
    may_work = task.lane in user.role_keys and task.assignee in (None, user.username)
    vocabulary = case_vocabulary(session, cases.case_instance(session, csi.id) if csi else None)
    evidence = list_attachments(session, csi.id) if csi is not None and can_view_case(user, csi) else []
    part_return = _part_return(task)
    end_proposal = _open_end_proposal(csi) if csi is not None else None
    people = [task.assignee, csi.analysed_by if csi else None, *(a.uploaded_by for a in evidence)]
    if part_return is not None:
        people += [part_return.registered_by, part_return.received_by, part_return.inspected_by]
    if end_proposal is not None:
        people.append(end_proposal.actor)
    return render_template(
        "tasks/form.html",
        task=task,
        csi=csi,
        fields=fields,
        general_errors=form_errors(errors, fields),
        title=localized(form.schema, "title", lang) or task_titles(session, [task])[task.id],
        description=localized(form.schema, "description", lang),
        may_work=may_work,
        names=display_names(session, people),
        attachments=evidence,
        has_errors=bool(errors),
        choices=vocabulary.choices,
        proposal=proposal,
        process=process,
        part_return=part_return,
        end_proposal=end_proposal,
        parts=spare_parts(session) if _has_part_column(schema) else [],
    )


def _has_part_column(schema: Mapping[str, Any]) -> bool:
    """Whether the form has a row table with a part_no column (then the parts master is offered)."""
    for node in schema.get("properties", {}).values():
        items = node.get("items", {}) if isinstance(node, Mapping) else {}
        if isinstance(items, Mapping) and "part_no" in items.get("properties", {}):
            return True
    return False


def _part_return(task: HumanTask) -> PartReturn | None:
    """The §3.1 return a task of a return process works on, so the form shows which part it is about."""
    return db().scalars(sa.select(PartReturn).where(PartReturn.instance_id == task.instance_id)).first()


def _open_end_proposal(csi: CSI) -> TimelineEvent | None:
    """The §5.8 proposal to end the case's service still awaiting the director (its reason and proposer)."""
    kinds = ("csi.end_proposed", "csi.end_rejected", "csi.service_ended_unaccepted")
    latest = (
        db()
        .scalars(
            sa.select(TimelineEvent)
            .where(TimelineEvent.csi_id == csi.id, TimelineEvent.kind.in_(kinds))
            .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
            .limit(1)
        )
        .first()
    )
    return latest if latest is not None and latest.kind == "csi.end_proposed" else None


def _proposal(task: HumanTask, form: TaskForm) -> dict[str, Any] | None:
    """The DMN billing proposal for a form that decides the billing (review_csi, §3.1–§3.2)."""
    if "billing" not in form.schema.get("properties", {}):
        return None
    return billing_proposal(db(), app_context().runtime, task)


def _closed(task: HumanTask) -> tuple[str, int]:
    names = display_names(db(), [task.completed_by])
    csi = db().get(CSI, task.csi_id) if task.csi_id is not None else None
    may_open = csi is not None and can_view_case(current_user(), csi)
    title = task_titles(db(), [task])[task.id]
    return render_template("tasks/closed.html", task=task, title=title, names=names, may_open_case=may_open), 409


def _instances_of(tasks: list[HumanTask]) -> dict[int, tuple[str, str]]:
    """Instance id → (process name, business key) for the tasks without a case, in one read."""
    ids = {t.instance_id for t in tasks if t.csi_id is None}
    if not ids:
        return {}
    query = (
        sa.select(ProcessInstance.id, ProcessVersion.name, ProcessInstance.process_id, ProcessInstance.business_key)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .where(ProcessInstance.id.in_(ids))
    )
    return {row.id: (row.name or row.process_id, row.business_key or f"#{row.id}") for row in db().execute(query)}


def _cases_of(tasks: list[HumanTask]) -> dict[int, CSI]:
    """The CSIs behind a page of tasks, in one read."""
    ids = {t.csi_id for t in tasks if t.csi_id is not None}
    if not ids:
        return {}
    return {csi.id: csi for csi in db().scalars(sa.select(CSI).where(CSI.id.in_(ids)))}
