"""Browser pages for staff: the template helpers every page blueprint shares.

Dates are stored in UTC and shown in the business timezone (Asia/Shanghai by default); record values
(kind, status, role, event kind…) are shown with bilingual labels; SLA chips say overdue / due today.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any
from typing import cast
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import Flask
from flask import g
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engine.clock import as_utc
from engine.clock import utcnow
from engine.errors import EngineError
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.user import User
from engine.services.definitions import latest_version
from engine.services.definitions import parsed_bundle
from web.context import app_context
from web.forms import enum_labels
from web.forms import localized
from web.i18n import current_lang

KIND_LABELS: Mapping[str, Any] = {
    "quality_complaint": _l("Quality complaint"),
    "service_request": _l("Service request"),
    "parts_claim": _l("Parts claim"),
    "training_request": _l("Training request"),
}
STATUS_LABELS: Mapping[str, Any] = {
    "registered": _l("Registered"),
    "analysing": _l("Analysing root cause"),
    "under_review": _l("Under review"),
    "plan_decided": _l("Plan decided"),
    "dispatching": _l("Dispatching service"),
    "in_execution": _l("Service in progress"),
    "awaiting_closure": _l("Awaiting closure"),
    "closed": _l("Closed"),
}
COVERAGE_LABELS: Mapping[str, Any] = {
    "contract": _l("Service contract"),
    "in_warranty": _l("In warranty"),
    "out_of_warranty": _l("Out of warranty"),
    "unknown": _l("Unknown"),
}
ROLE_LABELS: Mapping[str, Any] = {
    "service_director": _l("Service director"),
    "service_manager": _l("Service manager"),
    "service_supervisor": _l("Service supervisor"),
    "service_engineer": _l("Service engineer"),
    "engineering_qc": _l("Engineering / QC"),
    "sales": _l("Sales"),
    "product_design": _l("Product design"),
    "hr": _l("HR"),
    "process_designer": _l("Process designer"),
    "admin": _l("Administrator"),
}
EVENT_LABELS: Mapping[str, Any] = {
    "csi.registered": _l("CSI registered"),
    "csi.forwarded": _l("Forwarded to the service managers (§4.1)"),
    "instance.started": _l("Process started"),
    "instance.completed": _l("Process finished"),
    "instance.error": _l("Process stopped with an error"),
    "task.created": _l("Task created"),
    "task.claimed": _l("Task claimed"),
    "task.released": _l("Task released"),
    "task.completed": _l("Task completed"),
    "sla.breached": _l("3-working-day limit exceeded (§4.6)"),
    "timer.fired": _l("Timer fired"),
    "attachment.added": _l("Attachment added"),
}
ATTACHMENT_KIND_LABELS: Mapping[str, Any] = {
    "customer_feedback": _l("Customer's written feedback (§4.3)"),
    "photo": _l("Photo"),
    "document": _l("Document"),
    "signed_review": _l("Signed review original (§4.5)"),
}
CHANNEL_LABELS: Mapping[str, Any] = {
    "phone": _l("Phone"),
    "email": _l("Email"),
    "fax": _l("Fax"),
    "letter": _l("Letter"),
    "visit": _l("Visit"),
    "wechat": _l("WeChat"),
    "sales": _l("Forwarded by sales"),
    "other": _l("Other"),
}
LABELS: Mapping[str, Mapping[str, Any]] = {
    "kind": KIND_LABELS,
    "status": STATUS_LABELS,
    "coverage": COVERAGE_LABELS,
    "role": ROLE_LABELS,
    "event": EVENT_LABELS,
    "attachment": ATTACHMENT_KIND_LABELS,
    "channel": CHANNEL_LABELS,
}


def label(group: str, value: Any) -> str:
    """The current-language label of a stored value (the value itself when it has none)."""
    if value is None or value == "":
        return ""
    found = LABELS.get(group, {}).get(str(value))
    return str(found) if found is not None else str(value)


def business_zone() -> ZoneInfo:
    """The configured business timezone (Asia/Shanghai unless AFTERSALES_TIMEZONE says otherwise)."""
    return ZoneInfo(app_context().settings.timezone)


def local_time(value: datetime | date | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp (or ISO text) in business-local time; dates print as they are."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    elif isinstance(value, datetime):
        moment = value
    else:
        return value.isoformat()
    return as_utc(moment).astimezone(business_zone()).strftime(fmt)


def due_state(due: datetime | None, now: datetime | None = None) -> str:
    """'overdue' (past), 'today' (due later today, local time), 'ok', or '' without a due time."""
    if due is None:
        return ""
    now = now or utcnow()
    due = as_utc(due)
    if due <= now:
        return "overdue"
    zone = business_zone()
    return "today" if due.astimezone(zone).date() == now.astimezone(zone).date() else "ok"


def countdown(due: datetime | None, now: datetime | None = None) -> str:
    """'2 d 3 h left' / 'overdue by 5 h' in the current language."""
    if due is None:
        return ""
    seconds = int((as_utc(due) - (now or utcnow())).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = _("%(days)d d %(hours)d h", days=days, hours=hours)
    elif hours:
        span = _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    else:
        span = _("%(minutes)d min", minutes=max(minutes, 1))
    return str(_("%(span)s left", span=span) if seconds > 0 else _("overdue by %(span)s", span=span))


def file_size(size: int) -> str:
    """Bytes as B / KB / MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def task_titles(session: Session, tasks: Iterable[HumanTask]) -> dict[str, str]:
    """Task id → title in the current language: the BPMN name (Chinese) or the English title of the task's form."""
    tasks = list(tasks)
    if current_lang() != "en":
        return {t.id: t.name for t in tasks}
    forms: dict[tuple[str, str], str] = {}
    titles: dict[str, str] = {}
    for task in tasks:
        key = (task.process_id, task.form_file or "")
        if key not in forms:
            forms[key] = _english_form_title(session, *key)
        titles[task.id] = forms[key] or task.name
    return titles


def _english_form_title(session: Session, process_id: str, form_file: str) -> str:
    if not form_file:
        return ""
    version = latest_version(session, process_id)
    if version is None:
        return ""
    try:
        schema = parsed_bundle(session, version).form(form_file)
    except EngineError:
        return ""
    title = schema.get("x-i18n", {}).get("en", {}).get("title")
    return title if isinstance(title, str) else ""


@dataclass(frozen=True)
class Vocabulary:
    """Words of a case's deployed forms in the current language: enum labels, field labels, task titles."""

    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)  # bpmn id -> title (forms are named <bpmn id>.schema.json)


def case_vocabulary(session: Session, instance: ProcessInstance | None) -> Vocabulary:
    """Labels for the values a case stores (responsibility, review form, plan, channel…), from its version's forms."""
    if instance is None:
        return Vocabulary()
    version = session.get(ProcessVersion, instance.process_version_id)
    if version is None:
        return Vocabulary()
    bundle = parsed_bundle(session, version)
    lang = current_lang()
    schemas: dict[str, Mapping[str, Any]] = {}
    for name in sorted(bundle.files):
        if name.endswith(".schema.json"):
            try:
                schemas[name.rsplit("/", 1)[-1].removesuffix(".schema.json")] = bundle.form(name)
            except EngineError:
                continue
    fields = {
        prop: localized(node, "title", lang) or prop
        for schema in schemas.values()
        for prop, node in schema.get("properties", {}).items()
    }
    tasks = {stem: localized(schema, "title", lang) for stem, schema in schemas.items() if schema.get("title")}
    return Vocabulary(choices=enum_labels(list(schemas.values()), lang), fields=fields, tasks=tasks)


def install(bp: Blueprint) -> None:
    """Register the shared filters and globals once, whichever page blueprint is registered first."""
    bp.record_once(lambda state: _install_app(cast(Flask, state.app)))


def _install_app(app: Flask) -> None:
    if app.extensions.get("aftersales_views"):
        return
    app.extensions["aftersales_views"] = True
    app.add_template_filter(local_time, "localtime")
    app.add_template_filter(countdown, "countdown")
    app.add_template_filter(due_state, "due_state")
    app.add_template_filter(file_size, "filesize")
    app.add_template_global(label, "label")
    app.add_template_global(utcnow, "utcnow")
    app.context_processor(_page_context)


def _page_context() -> dict[str, Any]:
    user: User | None = g.get("user")
    return {
        "me": user,
        "my_roles": [label("role", r) for r in sorted(user.role_keys)] if user is not None else [],
        "here": request.full_path.rstrip("?") if request else url_for("tasks.inbox"),
    }
