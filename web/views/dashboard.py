"""Manager dashboard (§2.1): the page with its charts and tables, and the JSON its charts are drawn from.

Both compute the figures from the records at request time (engine/reports/dashboard.py); nothing is cached or
stored. The page's tables are rendered here (the numbers a click away, also without JavaScript); the charts are
drawn by static/js/dashboard.js from GET /dashboard/data with the same period.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from engine.clock import utcnow
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.platform.definitions import latest_version
from engine.platform.definitions import parsed_bundle
from engine.reports import monitoring
from engine.reports.dashboard import DASHBOARD_ROLES
from engine.reports.dashboard import Period
from engine.reports.dashboard import dashboard
from engine.reports.lists import LISTS
from web.auth import roles_required
from web.context import app_context
from web.context import db
from web.forms import enum_labels
from web.forms import localize_error
from web.forms import localized
from web.i18n import current_lang
from web.views import LABELS
from web.views import install
from web.views import label

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
install(bp)

QUICK_WEEKS = (4, 12, 26, 52)
SERIES: dict[str, Any] = {
    "met": _l("Decided in time"),
    "breached": _l("Late"),
    "rate": _l("In-time rate"),
    "opened": lazy_pgettext("dashboard", "Received"),
    "closed": lazy_pgettext("dashboard", "Closed"),
    "open": lazy_pgettext("dashboard", "Open"),
    "overdue": _l("Past due"),
    "fix_rate": _l("First-visit fix rate"),
    "escalated": _l("Visits escalated to technical support"),
    "unsolved": _l("Not solved on site"),
    "labour": _l("Labour"),
    "parts": _l("Parts"),
    "charged": _l("Charged to customers"),
    "claimed": _l("Claimed from suppliers"),
    "not_due": _l("Not past due"),
    "none": _l("(none)"),
    "not_reviewed": _l("Not yet reviewed"),
    "unnamed_supplier": _l("Supplier not yet named"),
    "no_responsibility": _l("Not analysed (no quality complaint)"),
}
BUCKETS: dict[str, Any] = {
    "0-3": _l("0–3 days"),
    "4-7": _l("4–7 days"),
    "8-14": _l("8–14 days"),
    "15-30": _l("15–30 days"),
    ">30": _l("over 30 days"),
}
QF_STATUS: dict[str, Any] = {
    "submitted": lazy_pgettext("quality feedback", "Open"),
    "closed": lazy_pgettext("quality feedback", "Closed"),
    "rejected": _l("Rejected"),
}


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(app_context().settings.timezone)).date()


def _period() -> tuple[Period, str | None]:
    """The requested period, or the default 12 weeks with the reason the request was refused."""
    zone = app_context().settings.timezone
    try:
        return Period.parse(request.args.get("from"), request.args.get("to"), _today(), zone), None
    except InvalidInputError as exc:
        return Period.last_weeks(_today(), zone=zone), "; ".join(localize_error(m) for m in exc.fields.values())


@bp.get("")
@roles_required(*DASHBOARD_ROLES)
def index() -> str:
    """The dashboard page for the period (?from=YYYY-MM-DD&to=YYYY-MM-DD, default the last 12 weeks)."""
    period, problem = _period()
    session = db()
    data = dashboard(session, period)
    labels = vocabulary(session)
    same_period: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    return render_template(
        "dashboard/index.html",
        d=data,
        labels=labels,
        period=period,
        problem=problem,
        weeks_count=len(data["weeks"]),
        quick=[(n, _quick_range(n)) for n in QUICK_WEEKS],
        data_url=url_for("dashboard.data", **same_period),
    )


@bp.get("/data")
@roles_required(*DASHBOARD_ROLES)
def data() -> tuple[Response, int] | Response:
    """Every figure of the dashboard as JSON, with the labels of the current language."""
    zone = app_context().settings.timezone
    try:
        period = Period.parse(request.args.get("from"), request.args.get("to"), _today(), zone)
    except EngineError as exc:
        fields = exc.fields if isinstance(exc, InvalidInputError) else {}
        return jsonify({"error": exc.code, "message": str(exc), "fields": fields}), 422
    session = db()
    return jsonify({**dashboard(session, period), "labels": vocabulary(session)})


LIST_TITLES: dict[str, Any] = {
    "open-quality-feedback": _l("Open quality feedback (QAHRC0722C, §5.6)"),
    "open-supplier-claims": _l("Open supplier claims (§5.5)"),
    "sla-results": _l("§4.6 results by kind and supervisor"),
    "missing-signed-originals": _l("CSIs without a received signed original (§4.5)"),
}
LIST_COLUMNS: dict[str, Any] = {
    "qf_no": _l("QF no."),
    "sc_no": _l("Claim no."),
    "csi_no": _l("CSI no."),
    "customer": _l("Customer"),
    "filed_at": _l("Filed at"),
    "filed_by": _l("Filed by"),
    "created_at": _l("Raised at"),
    "age_days": _l("Days open"),
    "description": _l("Description"),
    "status": _l("Status"),
    "supplier": _l("Supplier"),
    "claim_amount": _l("Claim amount"),
    "supplier_code": _l("Supplier code"),
    "accepted_amount": _l("Accepted amount"),
    "recovered_amount": _l("Recovered amount"),
    "kind": _l("Kind of request"),
    "supervisor": _l("Supervisor"),
    "cases": _l("Cases"),
    "met": _l("Decided in time"),
    "breached": _l("Late"),
    "explained": _l("Late, reason recorded"),
    "paused": _l("Clock paused"),
    "pending": _l("Pending"),
    "rate": _l("In-time rate (%)"),
    "plan_decided_at": _l("Plan decided at"),
    "planned_location": _l("Signed original filed at (§4.5)"),
}


@bp.get("/lists/<name>")
@roles_required(*DASHBOARD_ROLES)
def listing(name: str) -> Response | str:
    """A manager's list (?from=&to= for the §4.6 results; ?format=csv|xlsx exports it)."""
    if name not in LISTS:
        abort(404)
    period, problem = _period()
    found = LISTS[name](db(), period, utcnow())
    header = [str(LIST_COLUMNS.get(c, c)) for c in found.columns]
    export = request.args.get("format", "")
    if export in ("csv", "xlsx"):
        return _export(name, export, header, found.rows)
    return render_template(
        "dashboard/list.html",
        name=name,
        title=LIST_TITLES[name],
        header=header,
        columns=found.columns,
        rows=found.rows,
        period=period,
        problem=problem,
    )


def _export(name: str, kind: str, header: list[str], rows: list[list[Any]]) -> Response:
    cells = iter([[_plain(v) for v in row] for row in rows])
    if kind == "csv":
        body = "".join(monitoring.csv_chunks(header, cells)).encode("utf-8")
        mimetype = "text/csv"
    else:
        body = monitoring.xlsx_bytes(header, cells, title=name)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(app_context().settings.timezone)).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _quick_range(weeks: int) -> dict[str, str]:
    period = Period.last_weeks(_today(), weeks, app_context().settings.timezone)
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


@bp.app_template_global("monitor_link")
def monitor_link(**filters: Any) -> str:
    """A link to the monitoring instance list with these filters ('' while that page is not installed)."""
    try:
        return url_for("monitor.instances", **filters)
    except BuildError:
        return ""


def vocabulary(session: Session) -> dict[str, Any]:
    """Labels of everything the figures are keyed by, in the current language."""
    lang = current_lang()
    steps: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}
    schemas: dict[str, Any] = {}
    for process_id in ("after_sales_case", "field_visit_round"):  # the visit's form holds the satisfaction scale
        version = latest_version(session, process_id)
        if version is None:
            continue
        try:
            bundle = parsed_bundle(session, version)
        except EngineError:
            continue
        for name in sorted(bundle.files):
            if name.endswith(".schema.json"):
                schemas.setdefault(name.rsplit("/", 1)[-1].removesuffix(".schema.json"), bundle.form(name))
    if schemas:
        steps = {stem: localized(schema, "title", lang) or stem for stem, schema in schemas.items()}
        choices = enum_labels(list(schemas.values()), lang)
    return {
        "status": {k: str(v) for k, v in LABELS["status"].items()},
        "lane": {k: str(v) for k, v in LABELS["role"].items()},
        "coverage": {k: str(v) for k, v in LABELS["coverage"].items()},
        "step": steps,
        "responsibility": choices.get("responsibility", {}),
        "satisfaction": choices.get("satisfaction", {}),
        "qf_status": {k: str(v) for k, v in QF_STATUS.items()},
        "bucket": {k: str(v) for k, v in BUCKETS.items()},
        "series": {k: str(v) for k, v in SERIES.items()},
        "week": _("Week"),
        "locale": "en" if lang == "en" else "zh-CN",
    }


def percent(value: float | None, digits: int = 1) -> str:
    """0.8642 → '86.4%'; None → '—'."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def money(value: float | None) -> str:
    """¥1,234,568 (whole yuan)."""
    return "—" if value is None else f"¥{value:,.0f}"


@bp.app_template_filter("pct")
def _pct(value: float | None) -> str:
    return percent(value)


@bp.app_template_filter("yuan")
def _yuan(value: float | None) -> str:
    return money(value)


@bp.app_template_filter("yuan_short")
def _yuan_short(value: float | None) -> str:
    """A large amount in a few characters: ¥2,337万 / ¥23.37M."""
    if value is None:
        return "—"
    if current_lang() == "en":
        for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"¥{value / size:,.2f}{unit}"
        return money(value)
    for size, unit in ((1e8, "亿"), (1e4, "万")):
        if abs(value) >= size:
            scaled = value / size
            return f"¥{scaled:,.{2 if unit == '亿' else (0 if abs(scaled) >= 100 else 1)}f}{unit}"
    return money(value)


@bp.app_template_filter("num")
def _num(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


@bp.app_template_global("dash_label")
def _dash_label(labels: dict[str, Any], group: str, key: str | None) -> str:
    if key is None:
        return str(labels["series"]["none"])
    found = labels.get(group, {}).get(key)
    return str(found) if found else (label(group, key) or key)


@bp.app_template_global("week_span")
def _week_span(monday: str, first: date, last: date) -> str:
    start = max(date.fromisoformat(monday), first)
    end = min(date.fromisoformat(monday) + timedelta(days=6), last)
    return f"{start:%m-%d}–{end:%m-%d}"
