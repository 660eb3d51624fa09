"""Start a process (issue 7): the processes my roles may start, the start form, then my first task or the inbox."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.platform import starting
from engine.platform.forms import TaskForm
from web.auth import current_user
from web.auth import login_required
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import build_fields
from web.forms import form_errors
from web.forms import localized
from web.forms import parse_form
from web.i18n import current_lang
from web.views import business_zone
from web.views import install

bp = Blueprint("processes", __name__, url_prefix="/processes")
install(bp)
_EMPTY = TaskForm(schema={"type": "object", "properties": {}}, ui_schema={})


@bp.get("/")
@login_required
def index() -> str:
    """The processes my roles may start, and the registration of a case (which starts the case process)."""
    items = starting.startable(db(), app_context().runtime, current_user())
    return render_template("processes/index.html", items=items)


@bp.get("/<process_id>/start")
@login_required
def start(process_id: str) -> str:
    """The start form of a process (a confirmation when it has none)."""
    item = starting.get_startable(db(), app_context().runtime, current_user(), process_id)
    return _render(item, posted=None, errors={})


@bp.post("/<process_id>/start")
@login_required
def start_submit(process_id: str) -> Response | tuple[str, int]:
    """Start the process; then open my first task, or go to the inbox with a note of where it waits."""
    session, user = db(), current_user()
    item = starting.get_startable(session, app_context().runtime, user, process_id)
    form = item.form or _EMPTY
    data = parse_form(form.schema, request.form, business_zone())
    try:
        started = starting.start_process(
            session, app_context().runtime, user, process_id, data, calendar=calendar_loader(session)
        )
    except InvalidInputError as exc:
        session.rollback()
        return _render(item, posted=request.form, errors=exc.fields), 422
    session.commit()
    key = started.instance.business_key or f"#{started.instance.id}"
    flash(_("“%(process)s” %(key)s started.", process=item.version.name, key=key), "success")
    mine = [t for t in started.next_tasks if t.assignee in (user.username, None) and t.lane in user.role_keys]
    if mine:
        return redirect(url_for("tasks.task_form", task_id=mine[0].id))
    return redirect(url_for("tasks.inbox"))


def _render(item: starting.Startable, *, posted: MultiDict[str, str] | None, errors: dict[str, str]) -> str:
    lang = current_lang()
    form = item.form or _EMPTY
    fields = build_fields(form.schema, form.ui_schema, lang, posted=posted, errors=errors, zone=business_zone())
    return render_template(
        "processes/start.html",
        item=item,
        fields=fields,
        title=localized(form.schema, "title", lang) or item.version.name,
        description=localized(form.schema, "description", lang),
        general_errors=form_errors(errors, fields),
        has_errors=bool(errors),
    )
