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
from decimal import Decimal
from typing import Any
from typing import cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint
from flask import Flask
from flask import g
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from markupsafe import escape
from sqlalchemy.orm import Session

from engine.aftersales.archives.read import ARCHIVE_READERS
from engine.aftersales.cases.comments import MENTION
from engine.clock import as_utc
from engine.clock import utcnow
from engine.errors import EngineError
from engine.platform.access import can_view_case
from engine.platform.access import may_read_cases
from engine.platform.definitions import latest_version
from engine.platform.definitions import parsed_bundle
from engine.platform.notices import unread
from engine.records.csi import CASE_KIND_LABELS
from engine.records.csi import COVERAGE_LABELS as ENGINE_COVERAGE_LABELS
from engine.records.csi import CSI_STATUS_LABELS
from engine.records.notification import OUTBOX_STATUS_LABELS
from engine.records.portal import REQUEST_STATUS_LABELS
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.user import ROLE_LABELS as ENGINE_ROLE_LABELS
from engine.records.user import User
from web.context import app_context
from web.context import db
from web.forms import enum_labels
from web.forms import localized
from web.i18n import current_lang
from web.model_i18n import english_model_names
from web.model_i18n import model_name
from web.navigation import main_nav

# The labels live beside their enums in engine/records (one place); these are their translations.
KIND_LABELS: Mapping[str, Any] = {kind.value: _l(text) for kind, text in CASE_KIND_LABELS.items()}
STATUS_LABELS: Mapping[str, Any] = {status.value: _l(text) for status, text in CSI_STATUS_LABELS.items()}
COVERAGE_LABELS: Mapping[str, Any] = {coverage.value: _l(text) for coverage, text in ENGINE_COVERAGE_LABELS.items()}
ROLE_LABELS: Mapping[str, Any] = {role.value: _l(text) for role, text in ENGINE_ROLE_LABELS.items()}
NOTICE_LABELS: Mapping[str, Any] = {
    "task.assigned": _l("A task is given to me"),
    "task.available": _l("A new task waits for my role"),
    "task.returned": _l("A task of my role is returned"),
    "sla.reminder": _l("§4.6 reminder: plan still undecided"),
    "sla.breached": _l("§4.6 breach: plan not decided in 3 working days"),
    "digest.daily": _l("Daily digest"),
    "request.received": _l("A customer sent a request (§4.1)"),
    "survey.dissatisfied": _l("A customer is dissatisfied (§5.8)"),
    "case.escalated": _l("A case is escalated after repeated technical support (§5.8)"),
    "case.end_proposed": _l("Ending a service the customer does not accept is proposed (§5.8)"),
    "qf.overdue": _l("Quality feedback open too long (§5.6)"),
    "claim.overdue": _l("Supplier claim open too long (§5.5)"),
    "comment.mentioned": _l("Someone mentions me in a case conversation"),
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
    "sla.reminded": _l("§4.6 reminder sent"),
    "request.registered": _l("Registered from a customer request (§4.1)"),
    "customer.status_link": _l("Status link mailed to the customer"),
    "customer.answer_mailed": _l("Service plan mailed to the customer (§4.6)"),
    "customer.links_revoked": _l("Customer links revoked"),
    "timer.fired": _l("Timer fired"),
    "attachment.added": _l("Attachment added"),
    "so.issued": _l("Service SO issued"),
    "wo.issued": _l("Work order issued (§5.3)"),
    "wo.round_started": _l("Visit round started"),
    "wo.assigned": _l("Work order assigned (§2.6)"),
    "wo.formalities": _l("Overseas formalities arranged (§2.5)"),
    "wo.completed": _l("Work order completed"),
    "psr.filed": _l("Product service report filed"),
    "po.issued": _l("Zero-price PO issued (§5.5)"),
    "survey.filed": _l("Satisfaction survey filed (QAHRC0807C)"),
    "quality_feedback.filed": _l("Quality feedback filed (QAHRC0722C)"),
    "quality_feedback.closed": _l("Quality feedback investigated"),
    "supplier_claim.raised": _l("Supplier claim raised; CSI copied to Sales (§5.5)"),
    "supplier_claim.updated": _l("Supplier claim updated"),
    "supplier_claim.submitted": _l("Supplier claim submitted to the supplier (§5.5)"),
    "supplier_claim.answered": _l("Supplier's answer to the claim recorded (§5.5)"),
    "supplier_claim.settled": _l("Supplier claim settled (§5.5)"),
    "supplier_claim.ended": _l("Supplier claim closed: its process was ended"),
    "supplier.created": _l("Supplier added to the master"),
    "supplier.updated": _l("Supplier changed"),
    "csi.renegotiated": _l("Technical support given; next steps agreed (§5.8)"),
    "training.planned": _l("Training planned (§6)"),
    "training.delivered": _l("Training delivered (§6.2)"),
    "training.visit_recorded": _l("Training at the customer's site recorded (§6.3)"),
    "csi.neutral_decided": _l("Neutral customer: the service manager decided (§5.8)"),
    "csi.end_proposed": _l("Ending the service without the customer's agreement proposed (§5.8)"),
    "csi.end_rejected": _l("Proposal to end the service rejected; service continues (§5.8)"),
    "csi.service_ended_unaccepted": _l("Service ended without the customer's agreement (§5.8)"),
    "message.delivered": _l("All work orders done"),
    "sla.recomputed": _l("Deadline recomputed after a calendar change"),
    "instance.migrated": _l("Moved to a new process version"),
    "instance.terminated": _l("Process terminated"),
    "csi.cancelled": _l("Case cancelled (withdrawn)"),
    "csi.duplicate_linked": _l("Another case was withdrawn as a duplicate of this one"),
    "csi.corrected": _l("Registration corrected"),
    "wo.cancelled": _l("Work order cancelled"),
    "wo.rescheduled": _l("Work order rescheduled"),
    "csi.signed_original_received": _l("Signed original received (§4.5)"),
    "csi.closed_with_open_items": _l("Closed with open items (reason recorded)"),
    "csi.sent_back": _l("Sent back to root-cause analysis (§4.4)"),
    "sla.paused": _l("§4.6 clock paused (waiting on the customer)"),
    "sla.resumed": _l("§4.6 clock resumed"),
    "comment.added": _l("Comment"),
    "part_return.registered": _l("Spare part return registered (§3.1)"),
    "part_return.received": _l("Returned part received"),
    "part_return.inspected": _l("Returned part inspected"),
    "part_return.exchanged": _l("Returned part exchanged (§5.2 parts SO)"),
    "part_return.credited": _l("Customer credited for the returned part"),
    "part_return.refused": _l("Part return refused"),
    "part_return.cancelled": _l("Part return cancelled"),
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
BILLING_LABELS: Mapping[str, Any] = {
    "contract": _l("Under contract"),
    "free": _l("Free of charge"),
    "partly_paid": _l("Partly paid"),
    "paid": _l("Paid"),
}
COST_BEARER_LABELS: Mapping[str, Any] = {
    "company": _l("Company"),
    "customer": _l("Customer"),
    "supplier": _l("Supplier"),
    "contract": _l("Covered by the contract"),
    "shared": _l("Shared by company and customer"),
}
RECORD_TYPE_LABELS: Mapping[str, Any] = {
    "csi": _l("CSI (customer service incident)"),
    "so": _l("Service SO"),
    "wo": _l("Work order (WO)"),
    "psr": _l("Product service report (PSR)"),
    "po": _l("Zero-price PO"),
    "quality-feedback": _l("Quality feedback QAHRC0722C"),
    "survey": _l("Satisfaction survey QAHRC0807C"),
    "supplier-claim": _l("Supplier claim"),
    "training-plan": _l("Training plan"),
    "part-return": _l("Spare part return"),
    "sale": _l("Sale (SO#)"),
    "part": _l("Part changed"),
}
RECORD_STATUS_LABELS: Mapping[str, Any] = {
    "open": _l("Issued, not started"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "submitted": _l("Submitted"),
    "closed": _l("Closed"),
    "rejected": _l("Rejected"),
    "accepted": _l("Accepted"),
    "partly_accepted": _l("Partly accepted"),
    "settled": _l("Settled"),
    "planned": _l("Planned"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
}
QF_STATUS_LABELS: Mapping[str, Any] = {
    "submitted": _l("Submitted to Engineering/QC"),
    "closed": _l("Investigated, corrective action set"),
    "rejected": _l("Not a quality problem"),
}
CLAIM_STATUS_LABELS: Mapping[str, Any] = {
    "open": _l("Open (with Sales)"),
    "submitted": _l("Submitted to the supplier"),
    "accepted": _l("Accepted by the supplier"),
    "partly_accepted": _l("Partly accepted"),
    "rejected": _l("Rejected by the supplier"),
    "settled": _l("Settled"),
    "cancelled": _l("Cancelled"),
}
SETTLEMENT_KIND_LABELS: Mapping[str, Any] = {
    "credit_note": _l("Credit note"),
    "replacement": _l("Replacement parts"),
    "payment": _l("Payment"),
}
RETURN_LABELS: Mapping[str, Any] = {
    "registered": _l("Registered, part expected"),
    "received": _l("Received, awaiting inspection"),
    "inspected": _l("Inspected, awaiting settlement"),
    "exchanged": _l("Exchanged"),
    "credited": _l("Credited"),
    "refused": _l("Refused"),
    "cancelled": _l("Cancelled"),
    "return": _l("Return"),
    "exchange": _l("Exchange"),
    "compensation": _l("Compensation"),
    "credit": _l("Credit"),
    "refuse": _l("Refuse"),
    "quality": _l("Quality"),
    "customer_use": _l("Customer use"),
    "transport": _l("Transport"),
    "no_fault_found": _l("No fault found"),
    "intact": _l("Intact"),
    "packaging_damaged": _l("Packaging damaged"),
    "damaged": _l("Part damaged"),
    "incomplete": _l("Incomplete"),
}
SATISFACTION_LABELS: Mapping[str, Any] = {
    "very_satisfied": _l("Very satisfied"),
    "satisfied": _l("Satisfied"),
    "neutral": _l("Neutral"),
    "dissatisfied": _l("Dissatisfied"),
    "very_dissatisfied": _l("Very dissatisfied"),
}
VALUE_LABELS: Mapping[str, Any] = {
    "parts_only": _l("Parts only"),
    "service_fee": _l("Service fee"),
    "field_service": _l("Field service"),
    "training": _l("Training at the customer's site"),
    "buy_parts": _l("Parts bought"),
    "recover_old_parts": _l("Old parts recovered"),
    "solved": _l("Solved"),
    "unsolved": _l("Not solved"),
    "none": _l("None"),
    "recovered": _l("Recovered"),
    "unrecoverable": _l("Cannot be recovered"),
    "stock": _l("Stock"),
    "bought": _l("Bought"),
    "company": _l("At the company"),
    "customer_site": _l("At the customer's site"),
    "complete_equipment": _l("Large/medium complete equipment"),
    "tool_set": _l("Tool set / standard device"),
    "spare_part": _l("Spare part"),
    "not_needed": _l("Not needed"),
    "applied": _l("Applied for"),
    "granted": _l("Granted"),
}
LABELS: Mapping[str, Mapping[str, Any]] = {
    "kind": KIND_LABELS,
    "status": STATUS_LABELS,
    "coverage": COVERAGE_LABELS,
    "role": ROLE_LABELS,
    "event": EVENT_LABELS,
    "attachment": ATTACHMENT_KIND_LABELS,
    "channel": {**CHANNEL_LABELS, "portal": _l("Customer portal")},
    "billing": BILLING_LABELS,
    "cost_bearer": COST_BEARER_LABELS,
    "record": RECORD_TYPE_LABELS,
    "record_status": RECORD_STATUS_LABELS,
    "qf_status": QF_STATUS_LABELS,
    "claim_status": CLAIM_STATUS_LABELS,
    "return": RETURN_LABELS,
    "settlement_kind": SETTLEMENT_KIND_LABELS,
    "outbox": {status.value: _l(text) for status, text in OUTBOX_STATUS_LABELS.items()},
    "satisfaction": SATISFACTION_LABELS,
    "value": VALUE_LABELS,
    "request_status": {status.value: _l(text) for status, text in REQUEST_STATUS_LABELS.items()},
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


def mentions(text: str) -> Markup:
    """A comment with its @mentions marked (the text itself escaped)."""
    parts = MENTION.split(text)  # text, name, text, name, …
    out = [escape(part) if i % 2 == 0 else Markup('<strong class="mention">@{}</strong>').format(part)
           for i, part in enumerate(parts)]  # fmt: skip
    return Markup("").join(out)


def file_size(size: int) -> str:
    """Bytes as B / KB / MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def money(value: Any) -> str:
    """A CNY amount ('2600.00', Decimal or number) as ¥2,600.00; '' when not set."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"¥{amount:,.2f}"


def hours(value: Any) -> str:
    """Hours without trailing zeros: '6.50' → '6.5', '10.00' → '10'."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return str(value)
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def task_titles(session: Session, tasks: Iterable[HumanTask]) -> dict[str, str]:
    """Task id → title in the current language: the BPMN name (Chinese), else its English name (`i18n:name-en`) or
    the English title of the task's form."""
    tasks = list(tasks)
    if current_lang() != "en":
        return {t.id: t.name for t in tasks}
    forms: dict[tuple[str, str], str] = {}
    models: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for task in tasks:
        key = (task.process_id, task.form_file or "")
        if key not in forms:
            forms[key] = _english_form_title(session, *key)
        if task.process_id not in models:
            version = latest_version(session, task.process_id)
            models[task.process_id] = english_model_names(version.id) if version is not None else {}
        titles[task.id] = models[task.process_id].get(task.bpmn_id) or forms[key] or task.name
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
class FormWords:
    """One form's field titles (row columns included) and option labels: a timeline entry of that task reads them
    before the case-wide ones, where two forms use the same key differently (e.g. `outcome`)."""

    fields: dict[str, str] = field(default_factory=dict)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Vocabulary:
    """Words of a case's deployed forms in the current language: enum labels, field labels, task titles."""

    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)  # bpmn id -> title (forms are named <bpmn id>.schema.json)
    forms: dict[str, FormWords] = field(default_factory=dict)  # bpmn id -> that form's own words


def case_vocabulary(session: Session, instance: ProcessInstance | None) -> Vocabulary:
    """Labels for the values a case stores (responsibility, review form, plan, channel…), from its version's forms."""
    if instance is None:
        return Vocabulary()
    return _version_vocabulary(session, instance.process_version_id)


def _version_vocabulary(session: Session, version_id: int) -> Vocabulary:
    """The words of one deployed version's forms in the current language."""
    version = session.get(ProcessVersion, version_id)
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
    forms = {stem: _form_words(schema, lang) for stem, schema in schemas.items()}
    for words in forms.values():  # the columns of row fields (parts used, trainees…), for the timeline's rows
        for prop, title in words.fields.items():
            fields.setdefault(prop, title)
    tasks = {stem: localized(schema, "title", lang) for stem, schema in schemas.items() if schema.get("title")}
    return Vocabulary(choices=enum_labels(list(schemas.values()), lang), fields=fields, tasks=tasks, forms=forms)


def _form_words(schema: Mapping[str, Any], lang: str) -> FormWords:
    """A form's own field titles, its row columns' titles and its option labels."""
    fields: dict[str, str] = {}
    for prop, node in schema.get("properties", {}).items():
        fields[prop] = localized(node, "title", lang) or prop
        items = node.get("items") if isinstance(node, Mapping) else None
        for column, column_node in (items.get("properties", {}) if isinstance(items, Mapping) else {}).items():
            fields.setdefault(column, localized(column_node, "title", lang) or column)
    return FormWords(fields=fields, choices=enum_labels([schema], lang))


def case_vocabulary_all(session: Session, csi_id: int, instance: ProcessInstance | None) -> Vocabulary:
    """The case's vocabulary with the words of its other processes' forms added (visit rounds, part returns…), so
    their timeline entries show field titles and option labels instead of keys and codes; the case's own win."""
    merged = case_vocabulary(session, instance)
    query = sa.select(ProcessInstance.process_version_id).where(ProcessInstance.csi_id == csi_id).distinct()
    own = instance.process_version_id if instance is not None else None
    for version_id in sorted(v for v in session.scalars(query) if v != own):
        extra = _version_vocabulary(session, version_id)
        for key, labels in extra.choices.items():
            known = merged.choices.setdefault(key, {})
            for value, text in labels.items():
                known.setdefault(value, text)
        for mapping, more in ((merged.fields, extra.fields), (merged.tasks, extra.tasks)):
            for key, text in more.items():
                mapping.setdefault(key, text)
        for stem, words in extra.forms.items():
            merged.forms.setdefault(stem, words)
    return merged


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
    app.add_template_filter(mentions, "mentions")
    app.add_template_filter(money, "money")
    app.add_template_filter(hours, "hours")
    app.add_template_global(label, "label")
    app.add_template_global(utcnow, "utcnow")
    app.add_template_global(model_name, "model_name")
    app.context_processor(_page_context)


def _page_context() -> dict[str, Any]:
    user: User | None = g.get("user")
    return {
        "me": user,
        "my_roles": [label("role", r) for r in sorted(user.role_keys)] if user is not None else [],
        "may_read_archives": user is not None and bool(user.role_keys & ARCHIVE_READERS),
        "may_view_case": lambda csi: user is not None and can_view_case(user, csi),
        "may_read_cases": user is not None and may_read_cases(user),
        "here": request.full_path.rstrip("?") if request else url_for("tasks.inbox"),
        "unread_notices": lambda: unread(db(), user.username, limit=0)[0] if user is not None else 0,
        "main_nav": lambda: main_nav(user, request.endpoint or "") if user is not None else [],
    }
