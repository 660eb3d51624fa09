"""Record pages (§5–§6): every document of the chain by its number with links both ways, the service archive per
serial number (§2.2, §3.1), and the supervisor's assignment of a WO to engineers or temporary staff (§2.6)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from engine.aftersales.archives import read as archives
from engine.aftersales.cases import read as cases
from engine.aftersales.visits.lifecycle import WO_ROLES
from engine.aftersales.visits.lifecycle import cancel_work_order
from engine.aftersales.visits.lifecycle import reschedule_work_order
from engine.aftersales.visits.service import assign_work_order
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.platform.access import check_can_view_case
from engine.platform.access import check_role
from engine.platform.users import display_names
from engine.records.part_return import PartReturn
from engine.records.process import HumanTask
from engine.records.process import TaskStatus
from engine.records.user import Role
from engine.reports import chain
from web.auth import current_user
from web.auth import login_required
from web.context import app_context
from web.context import calendar_loader
from web.context import db
from web.forms import localize_error
from web.views import case_vocabulary
from web.views import install
from web.views import label
from web.views import task_titles

bp = Blueprint("records", __name__)
install(bp)
SNAPSHOT_FIELDS: tuple[tuple[str, Any, str | None], ...] = (
    ("csi_no", _l("CSI no."), None),
    ("kind", _l("Kind of request"), "kind"),
    ("origin_so_no", _l("Original SO#"), None),
    ("serial_no", _l("Factory serial no."), None),
    ("product_code", _l("Product"), None),
    ("sale_date", _l("Sale date"), None),
    ("coverage", _l("Coverage (§3.2)"), "coverage"),
    ("description", _l("Description"), None),
    ("root_cause", _l("Root cause"), None),
    ("responsibility", _l("Responsibility"), "choice"),
    ("review_opinion", _l("Review opinion"), None),
    ("service_plan", _l("Service plan"), "choice"),
    ("billing", _l("Billing"), "billing"),
    ("cost_bearer", _l("Cost bearer"), "cost_bearer"),
    ("status", _l("Status"), "status"),
)
LINK_KEYS = (
    "wo",
    "fee_so",
    "psr",
    "po",
    "quality_feedback",
    "survey",
    "supplier_claim",
    "training_plan",
    "part_return",
    "exchange_so",
)
PEOPLE_KEYS: tuple[str, ...] = ("created_by", "engineer", "filed_by", "reviewed_by", "handled_by", "planned_by")
PEOPLE_KEYS += ("registered_by", "received_by", "inspected_by", "settled_by")


@dataclass
class ChainNode:
    """One record in the drawn chain with the records that hang from it."""

    type: str
    item: dict[str, Any]
    children: list[ChainNode] = field(default_factory=list)


def chain_tree(found: dict[str, Any]) -> list[ChainNode]:
    """The chain as a tree under the CSI: parts SOs, WOs (fee SO, PSRs → POs, QAHRC0722C, QAHRC0807C, claims),
    training plans and spare part returns (their exchange SO, §3.1); a record whose parent is unknown hangs from the
    nearest known one."""
    wos = {w["number"]: ChainNode("wo", w) for w in found["wo"]}
    psrs = {p["number"]: ChainNode("psr", p) for p in found["psr"]}
    returns = {r["number"]: ChainNode("part-return", r) for r in found.get("part_return", [])}
    roots: list[ChainNode] = []
    for order in found["so"]:
        parents = [returns.get(_number(order.get("part_return"))), wos.get(_number(order.get("wo")))]
        _attach(ChainNode("so", order), parents, roots)
    for psr in psrs.values():
        _attach(psr, [wos.get(_number(psr.item.get("wo")))], roots)
    for kind in ("po", "quality-feedback", "survey", "supplier-claim"):
        key = chain.CHAIN_KEYS[kind]
        for item in found[key]:
            parents = [psrs.get(_number(item.get("psr"))), wos.get(_number(item.get("wo")))]
            _attach(ChainNode(kind, item), parents, roots)
    roots.extend(wos.values())
    roots.extend(ChainNode("training-plan", plan) for plan in found["training_plan"])
    roots.extend(returns.values())
    order = {"so": 0, "wo": 1, "training-plan": 2, "part-return": 3}
    return sorted(roots, key=lambda node: order.get(node.type, 3))


def _attach(node: ChainNode, parents: list[ChainNode | None], roots: list[ChainNode]) -> None:
    parent = next((p for p in parents if p is not None), None)
    (parent.children if parent is not None else roots).append(node)


def _open_steps(session: Session, rt_no: str) -> list[HumanTask]:
    """The open tasks of a part return's process (§3.1), so its record page leads to the next step."""
    query = (
        sa.select(HumanTask)
        .join(PartReturn, PartReturn.instance_id == HumanTask.instance_id)
        .where(PartReturn.rt_no == rt_no, HumanTask.status == TaskStatus.OPEN.value)
        .order_by(HumanTask.created_at)
    )
    return list(session.scalars(query))


def _number(link: Any) -> str | None:
    return link.get("number") if isinstance(link, dict) else None


def chain_people(found: dict[str, Any]) -> set[str]:
    """Every user named in the chain (engineers, temporary staff, who filed what), for display names."""
    people: set[str] = set()
    for key in chain.CHAIN_KEYS.values():
        for item in found.get(key, []):
            people.update(str(item[k]) for k in PEOPLE_KEYS if item.get(k))
            people.update(item.get("engineers") or [])
    return people


@bp.get("/records/<record_type>/<number>")
@login_required
def detail(record_type: str, number: str) -> Response | str:
    """One record with its links both ways; a CSI is shown on its case page."""
    session = db()
    csi = chain.find_csi_of(session, record_type, number)
    check_can_view_case(current_user(), csi)
    if record_type == "csi":
        return redirect(url_for("cases.detail", csi_id=csi.id))
    view = chain.record_view(session, record_type, number)
    found = chain.document_chain(session, csi)
    node = _find_node(chain_tree(found), number)
    choices = case_vocabulary(session, cases.case_instance(session, csi.id)).choices
    people = chain_people(found)
    next_steps = _open_steps(session, number) if record_type == "part-return" else []
    people |= {t.assignee for t in next_steps if t.assignee}
    return render_template(
        "records/detail.html",
        next_steps=next_steps,
        step_titles=task_titles(session, next_steps),
        record_type=record_type,
        r=view,
        csi=csi,
        links=[(key, _as_list(view.get(key))) for key in LINK_KEYS if _as_list(view.get(key))],
        snapshot=_snapshot_rows(view.get("csi_snapshot"), csi.facts(), choices)
        if record_type == "supplier-claim"
        else [],
        names=display_names(session, people),
        subtree=node.children if node is not None else [],
        may_assign=False,
    )


PRINTABLE = ("wo", "psr", "quality-feedback", "survey")


@bp.get("/records/<record_type>/<number>/print")
@login_required
def print_record(record_type: str, number: str) -> str:
    """A WO, a PSR (with the customer's signature line, §5.3), a QAHRC0722C quality feedback (§5.6) or a QAHRC0807C
    satisfaction survey (§5.7) as a print-ready A4 page, like the CSI's; the browser prints it or saves a PDF."""
    if record_type not in PRINTABLE:
        abort(404)
    session = db()
    csi = chain.find_csi_of(session, record_type, number)
    check_can_view_case(current_user(), csi)
    view = chain.record_view(session, record_type, number)
    found = chain.document_chain(session, csi)
    return render_template(
        "records/print.html",
        record_type=record_type,
        r=view,
        csi=csi,
        names=display_names(session, chain_people(found) | {view.get("engineer") or ""}),
        psrs=[p for p in found["psr"] if _number(p.get("wo")) == view["number"]] if record_type == "wo" else [],
        printed_by=current_user(),
    )


def _find_node(nodes: list[ChainNode], number: str) -> ChainNode | None:
    for node in nodes:
        if node.item.get("number") == number:
            return node
        found = _find_node(node.children, number)
        if found is not None:
            return found
    return None


def _snapshot_rows(
    copy: Any, live: dict[str, Any], choices: dict[str, dict[str, str]]
) -> list[tuple[str, str, str, bool]]:
    """(field, value sent to Sales, value now, changed) for the immutable CSI copy of a supplier claim (§5.5)."""
    copy = copy if isinstance(copy, dict) else {}
    rows = []
    for key, title, group in SNAPSHOT_FIELDS:
        then, now = copy.get(key), live.get(key)
        rows.append((str(title), _shown(key, then, group, choices), _shown(key, now, group, choices), then != now))
    return rows


def _shown(key: str, value: Any, group: str | None, choices: dict[str, dict[str, str]]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(_shown(key, v, group, choices) for v in value)
    if group == "choice":
        return choices.get(key, {}).get(str(value), str(value))
    return label(group, value) if group else str(value)


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


@bp.get("/archives")
@login_required
def archive_search() -> Response | str:
    """Find a service archive by serial number (an exact match opens it) or list the archived units."""
    archives.check_can_view_archive(current_user())
    query = request.args.get("serial", "").strip()[: archives.MAX_SERIAL]
    units = archives.list_archived_units(db(), query)
    if query and any(u["serial_no"] == query for u in units):
        return redirect(url_for("records.archive", serial_no=query))
    return render_template("archives/index.html", units=units, serial=query)


@bp.get("/archives/<serial_no>")
@login_required
def archive(serial_no: str) -> str | tuple[str, int]:
    """The service archive of one serial number (§2.2, §3.1); tool sets and spare parts get a 404 that says why."""
    archives.check_can_view_archive(current_user())
    session = db()
    try:
        found = archives.service_archive(session, serial_no)
    except archives.ArchiveNotKeptError as exc:
        return render_template("archives/not_kept.html", error=exc, serial=serial_no), 404
    people = {p for w in found["work_orders"] for p in w["engineers"]} | {v["engineer"] for v in found["visits"]}
    people |= {c["service_end"]["approved_by"] for c in found["cases"] if c.get("service_end")}
    return render_template("archives/detail.html", a=found, names=display_names(session, people))


@bp.post("/work-orders/<wo_no>/assign")
@login_required
def assign(wo_no: str) -> Response:
    """§2.6: the service supervisor assigns the WO and its open visit to an engineer or to temporary staff."""
    check_role(current_user(), Role.SERVICE_SUPERVISOR.value)  # before the lookup: no WO numbers probed by 403/404
    session = db()
    csi = chain.find_csi_of(session, "wo", wo_no)
    check_can_view_case(current_user(), csi)
    username = request.form.get("username", "").strip()
    try:
        assign_work_order(session, current_user(), wo_no, username)
    except InvalidInputError as exc:
        session.rollback()
        message = localize_error(next(iter(exc.fields.values()), str(exc)))
        flash(_("%(wo)s was not assigned: %(message)s", wo=wo_no, message=message), "error")
        return redirect(url_for("cases.detail", csi_id=csi.id, _anchor="chain"))
    session.commit()
    name = display_names(session, [username]).get(username, username)
    flash(_("%(wo)s is assigned to %(name)s.", wo=wo_no, name=name), "success")
    return redirect(url_for("cases.detail", csi_id=csi.id, _anchor="chain"))


@bp.post("/work-orders/<wo_no>/cancel")
@login_required
def cancel_wo(wo_no: str) -> Response:
    """Cancel a WO whose visit round runs (service manager or supervisor, reason required)."""
    check_role(current_user(), *WO_ROLES)
    session = db()
    csi = chain.find_csi_of(session, "wo", wo_no)
    check_can_view_case(current_user(), csi)
    try:
        cancel_work_order(
            session,
            app_context().runtime,
            current_user(),
            wo_no,
            request.form.get("reason", ""),
            calendar=calendar_loader(session),
        )
    except (InvalidInputError, ConflictError) as exc:
        session.rollback()
        return _wo_refused(wo_no, csi.id, exc, _("Reason for cancelling"))
    session.commit()
    flash(_("%(wo)s cancelled.", wo=wo_no), "success")
    return redirect(url_for("cases.detail", csi_id=csi.id, _anchor="chain"))


@bp.post("/work-orders/<wo_no>/reschedule")
@login_required
def reschedule_wo(wo_no: str) -> Response:
    """Move a WO's planned date (service manager or supervisor, reason required)."""
    check_role(current_user(), *WO_ROLES)
    session = db()
    csi = chain.find_csi_of(session, "wo", wo_no)
    check_can_view_case(current_user(), csi)
    try:
        reschedule_work_order(session, current_user(), wo_no, request.form.to_dict())
    except (InvalidInputError, ConflictError) as exc:
        session.rollback()
        return _wo_refused(wo_no, csi.id, exc)
    session.commit()
    flash(_("%(wo)s rescheduled.", wo=wo_no), "success")
    return redirect(url_for("cases.detail", csi_id=csi.id, _anchor="chain"))


def _wo_refused(wo_no: str, csi_id: int, exc: InvalidInputError | ConflictError, reason: str = "") -> Response:
    """Back to the case's chain with the refusal, naming the field to fix (`reason`: that field's label)."""
    fields = getattr(exc, "fields", None) or {}
    message = localize_error(next(iter(fields.values()), str(exc)))
    names = {"reason": reason or _("Reason"), "planned_date": _("New planned date")}
    field = names.get(next(iter(fields), ""), "")
    if field:  # name the field the manager has to fix
        message = _("%(field)s: %(message)s", field=field, message=message)
    flash(_("%(wo)s was not changed: %(message)s", wo=wo_no, message=message), "error")
    return redirect(url_for("cases.detail", csi_id=csi_id, _anchor="chain"))


def may_manage_wo(roles: frozenset[str]) -> bool:
    """Service managers and supervisors cancel and reschedule work orders (issue 9)."""
    return bool(roles.intersection(WO_ROLES))


def may_assign(roles: frozenset[str]) -> bool:
    """Only the service supervisor assigns work orders (§2.6)."""
    return Role.SERVICE_SUPERVISOR.value in roles
