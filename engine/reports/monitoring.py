"""Instance monitoring read models: the filtered, sorted, paged instance list (one query, no N+1), its export, and one
instance with per-diagram element states, SLA badges, open tasks, sub-instances and timeline.

Element names and kinds come from the version's deployed BPMN (cached per bundle hash: bundles are immutable), so the
list shows Chinese step names without loading any workflow.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import defer

from engine.aftersales.cases.read import task_summary
from engine.bpmn.runtime import WorkflowRuntime
from engine.clock import as_utc
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.platform.access import may_read_cases
from engine.platform.definitions import parsed_bundle
from engine.records.csi import CSI
from engine.records.master import Customer
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.timeline import TimelineEvent
from engine.records.user import User
from engine.reports.heatmap import ElementInfo
from engine.reports.heatmap import called_processes
from engine.reports.heatmap import current_steps
from engine.reports.heatmap import element_catalog
from engine.reports.heatmap import find_element
from engine.reports.heatmap import process_name

MONITOR_ROLES = ("service_director", "service_manager", "service_supervisor", "process_designer", "admin")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 100_000
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_TEXT_MAX = 64


# --- filters, sorting, paging ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceFilters:
    """What the instance list may be narrowed by (every field optional)."""

    process_id: str | None = None
    version: int | None = None
    status: str | None = None
    overdue: bool = False
    step: str | None = None
    lane: str | None = None
    customer: str | None = None
    product: str | None = None
    serial: str | None = None
    created_from: date | None = None
    created_to: date | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out)."""
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value in (None, "", False):
                continue
            out[name] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
        return out

    def is_empty(self) -> bool:
        """True when nothing narrows the list."""
        return not self.as_query()


# sort key → (column, what the ids query must join to order by it)
SORTS: dict[str, tuple[Any, str]] = {
    "id": (ProcessInstance.id, ""),
    "created": (ProcessInstance.id, ""),  # ids grow with creation time: the same order, served by the primary key
    "status": (ProcessInstance.status, ""),
    "process": (ProcessVersion.process_id, "version"),
    "csi": (CSI.csi_no, "case"),
    "customer": (Customer.name, "customer"),
    "product": (CSI.product_code, "case"),
    "sla": (CSI.plan_due_at, "case"),
    "updated": (ProcessInstance.updated_at, ""),
}
UNFINISHED = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)
DEFAULT_SORT = "-id"
TRUE_WORDS = ("1", "true")
FALSE_WORDS = ("", "0", "false")


def parse_filters(args: Mapping[str, str]) -> InstanceFilters:
    """Read filters from query parameters (`overdue` accepts 1/true/yes).

    :raises InvalidInputError: a bad status, version, element id, date or over-long text, per field.
    """
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("customer", "product", "serial"):
        text = (args.get(name) or "").strip()
        if len(text) > _TEXT_MAX:
            problems[name] = f"at most {_TEXT_MAX} characters"
        values[name] = text or None
    for name in ("process_id", "step", "lane"):
        text = (args.get(name) or "").strip()
        if text and not _ID.match(text):
            problems[name] = "not a valid id"
        values[name] = text or None
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in {s.value for s in InstanceStatus}:
        problems["status"] = "one of " + ", ".join(s.value for s in InstanceStatus)
    values["status"] = status
    values["version"] = _parse_int(args.get("version"), "version", problems)
    overdue = (args.get("overdue") or "").strip().lower()
    if overdue not in TRUE_WORDS + FALSE_WORDS:
        problems["overdue"] = "true, false, 1 or 0"
    values["overdue"] = overdue in TRUE_WORDS  # the page's checkbox sends 1
    values["created_from"] = _parse_date(args.get("created_from"), "created_from", problems)
    values["created_to"] = _parse_date(args.get("created_to"), "created_to", problems)
    if problems:
        raise InvalidInputError("bad instance filters", problems)
    return InstanceFilters(**values)


def parse_sort(value: str | None) -> str:
    """A known sort key with an optional leading '-' (descending); anything else is the default, newest first."""
    value = (value or "").strip()
    return value if value.lstrip("-") in SORTS else DEFAULT_SORT


def _parse_int(raw: str | None, name: str, problems: dict[str, str]) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip().lstrip("vV")
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 1_000_000:
        problems[name] = "must be a positive whole number"
        return None
    return int(text)


def _parse_date(raw: str | None, name: str, problems: dict[str, str]) -> date | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        problems[name] = "must be a date YYYY-MM-DD"
        return None


# --- the list query -------------------------------------------------------------------------------------------------

_ROW_COLUMNS = (
    ProcessInstance.id,
    ProcessInstance.process_id,
    ProcessInstance.process_version_id,
    ProcessVersion.version,
    ProcessVersion.name.label("process_name"),
    ProcessVersion.bundle_sha256,
    ProcessInstance.status,
    ProcessInstance.csi_id,
    ProcessInstance.parent_instance_id,
    ProcessInstance.active_elements,
    ProcessInstance.next_timer_due,
    ProcessInstance.created_at,
    ProcessInstance.updated_at,
    ProcessInstance.completed_at,
    ProcessInstance.error_message,
    ProcessInstance.error_bpmn_id,
    ProcessInstance.error_line,
    CSI.csi_no,
    CSI.kind,
    CSI.product_code,
    CSI.serial_no,
    CSI.plan_due_at,
    CSI.plan_due_provisional,
    CSI.plan_decided_at,
    CSI.sla_breached_at,
    CSI.sla_paused_at,
    CSI.status.label("csi_status"),
    Customer.code.label("customer_code"),
    Customer.name.label("customer_name"),
)


@dataclass(frozen=True)
class Step:
    """A current step of an instance: element id and its name from the BPMN."""

    bpmn_id: str
    name: str
    process_id: str


@dataclass(frozen=True)
class InstanceRow:
    """One line of the instance list (business columns, no state JSON)."""

    id: int
    process_id: str
    process_name: str
    process_version_id: int
    version: int
    status: str
    case_id: int | None
    csi_no: str | None
    kind: str | None
    customer_code: str | None
    customer_name: str | None
    product_code: str | None
    serial_no: str | None
    parent_instance_id: int | None
    active_elements: list[str]
    steps: list[Step]
    sla_due_at: datetime | None
    sla_provisional: bool
    sla_decided_at: datetime | None
    sla_breached_at: datetime | None
    overdue: bool
    next_timer_due: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    error: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO 8601 times); keeps the keys of the first API version (`sla_due_at`, `error`, …)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = value.isoformat() if isinstance(value, datetime) else value
        out["steps"] = [asdict(step) for step in self.steps]
        return out


@dataclass(frozen=True)
class InstancePage:
    """One page of the filtered list with the filtered total."""

    rows: list[InstanceRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least 1)."""
        return max(1, -(-self.total // self.page_size))


def list_instances(
    session: Session,
    filters: InstanceFilters | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    *,
    page_size: int = PAGE_SIZE,
    timezone: str = "Asia/Shanghai",
) -> InstancePage:
    """The filtered count and one sorted page of instances, in three statements whatever the page holds: the count,
    the page's ids (narrow columns and indexes only, never the state JSON), then those rows with their joins."""
    filters = filters or InstanceFilters()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    now = utcnow()
    conditions, needs_case = _conditions(session, filters, now, ZoneInfo(timezone))
    if conditions is None:
        return InstancePage(rows=[], total=0, page=page, page_size=page_size)
    count = sa.select(sa.func.count()).select_from(ProcessInstance)
    if needs_case:
        count = count.join(CSI, CSI.id == ProcessInstance.csi_id)
    total = int(session.scalar(count.where(*conditions)) or 0)
    ids_query = _ids_query(conditions, needs_case, sort).limit(page_size).offset((page - 1) * page_size)
    rows = _rows_by_id(session, list(session.scalars(ids_query)), now)
    return InstancePage(rows=rows, total=total, page=page, page_size=page_size)


def export_instances(
    session: Session,
    filters: InstanceFilters | None = None,
    sort: str = DEFAULT_SORT,
    *,
    limit: int = EXPORT_LIMIT,
    timezone: str = "Asia/Shanghai",
    after_batch: Callable[[], object] | None = None,
) -> Iterator[InstanceRow]:
    """Every filtered instance (up to `limit`) in order, fetched 1000 rows at a time for CSV/XLSX export.

    `after_batch` runs after each batch is read: the caller may end its read transaction there, so a long export
    never holds SQLite's lock against writers for more than one batch.
    """
    now = utcnow()
    conditions, needs_case = _conditions(session, filters or InstanceFilters(), now, ZoneInfo(timezone))
    if conditions is None:
        return
    ids = list(session.scalars(_ids_query(conditions, needs_case, sort).limit(limit)))
    for start in range(0, len(ids), 1000):
        rows = _rows_by_id(session, ids[start : start + 1000], now)
        if after_batch is not None:
            after_batch()
        yield from rows


def _ids_query(conditions: list[Any], needs_case: bool, sort: str) -> Any:
    """Ids of the filtered instances in list order (then newest first), joining only what the sort needs."""
    key = parse_sort(sort)
    column, join = SORTS[key.lstrip("-")]
    order = column.desc() if key.startswith("-") else column.asc()
    query = sa.select(ProcessInstance.id).select_from(ProcessInstance)
    if needs_case:
        query = query.join(CSI, CSI.id == ProcessInstance.csi_id)
    elif join in ("case", "customer"):
        query = query.outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
    if join == "customer":
        query = query.outerjoin(Customer, Customer.id == CSI.customer_id)
    if join == "version":
        query = query.join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
    tie = [] if key.lstrip("-") in ("id", "created") else [ProcessInstance.id.desc()]
    return query.where(*conditions).order_by(order.nulls_last() if join else order, *tie)


def _rows_by_id(session: Session, ids: list[int], now: datetime) -> list[InstanceRow]:
    """The list rows of these instances, in the order of `ids`."""
    if not ids:
        return []
    found = {row.id: row for row in _to_rows(session, session.execute(_rows_query(ProcessInstance.id.in_(ids))), now)}
    return [found[i] for i in ids if i in found]


def _rows_query(where: Any) -> Any:
    return (
        sa.select(*_ROW_COLUMNS)
        .select_from(ProcessInstance)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
        .outerjoin(Customer, Customer.id == CSI.customer_id)
        .where(where)
    )


def _conditions(
    session: Session, filters: InstanceFilters, now: datetime, zone: ZoneInfo
) -> tuple[list[Any] | None, bool]:
    """WHERE clauses on indexed columns (small lookups resolve process/version/customer to ids first).

    Returns (None, False) when a lookup already shows that nothing can match.
    """
    where: list[Any] = []
    if filters.process_id or filters.version:
        version_ids = _version_ids(session, filters.process_id, filters.version)
        if not version_ids:
            return None, False
        version_column: Any = ProcessInstance.process_version_id
        if filters.step or filters.status in UNFINISHED:
            # a version holds its whole history; the few unfinished instances are found faster by status, so keep
            # the planner (SQLite has no statistics unless ANALYZE ran) off the version index: "+ 0" hides it
            version_column = version_column + 0
        where.append(version_column.in_(version_ids))
    if filters.status:
        where.append(ProcessInstance.status == filters.status)
    if filters.step:  # only unfinished instances have active elements: the status index narrows the scan first
        pattern = '%"' + filters.step.replace("\\", "\\\\").replace("_", "\\_") + '"%'
        where.append(ProcessInstance.status.in_(UNFINISHED))
        where.append(sa.cast(ProcessInstance.active_elements, sa.Text).like(pattern, escape="\\"))
    if filters.lane:  # driven by the open-task index (status, lane)
        open_in_lane = sa.select(HumanTask.instance_id).where(
            HumanTask.status == TaskStatus.OPEN.value, HumanTask.lane == filters.lane
        )
        where.append(ProcessInstance.id.in_(open_in_lane))
    if filters.created_from:
        where.append(ProcessInstance.created_at >= _local_midnight(filters.created_from, zone))
    if filters.created_to and filters.created_to < date.max:
        where.append(ProcessInstance.created_at < _local_midnight(filters.created_to + timedelta(days=1), zone))
    case_where = _case_conditions(session, filters, now)
    if case_where is None:
        return None, False
    return where + case_where, bool(case_where)


def _case_conditions(session: Session, filters: InstanceFilters, now: datetime) -> list[Any] | None:
    where: list[Any] = []
    if filters.overdue:
        where += [
            CSI.plan_decided_at.is_(None),
            CSI.sla_paused_at.is_(None),
            CSI.plan_due_at < now,
            CSI.status != "cancelled",
            CSI.kind != "training_request",  # §6: no review, no §4.6 clock
        ]
    if filters.customer:
        ids = _customer_ids(session, filters.customer)
        if not ids:
            return None
        where.append(CSI.customer_id.in_(ids))
    if filters.product:
        where.append(CSI.product_code == filters.product)
    if filters.serial:
        where.append(CSI.serial_no == filters.serial)
    return where


def _version_ids(session: Session, process_id: str | None, version: int | None) -> list[int]:
    query = sa.select(ProcessVersion.id)
    if process_id:
        query = query.where(ProcessVersion.process_id == process_id)
    if version:
        query = query.where(ProcessVersion.version == version)
    return list(session.scalars(query))


def _customer_ids(session: Session, text: str) -> list[int]:
    """Customers whose code is `text` or whose code or name contains it (case-insensitive), at most 1000."""
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = sa.select(Customer.id).where(
        sa.or_(Customer.code == text, Customer.code.ilike(like, escape="\\"), Customer.name.ilike(like, escape="\\"))
    )
    return list(session.scalars(query.limit(1000)))


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` in business time, in UTC; at the first day of the calendar the zone cannot shift it."""
    try:
        return as_utc(datetime.combine(day, time.min, tzinfo=zone))
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _to_rows(session: Session, result: Any, now: datetime) -> list[InstanceRow]:
    catalogs: dict[int, dict[str, dict[str, ElementInfo]]] = {}
    rows: list[InstanceRow] = []
    for r in result:
        if r.process_version_id not in catalogs:
            version = session.get(ProcessVersion, r.process_version_id)
            assert version is not None  # joined above
            catalogs[r.process_version_id] = element_catalog(session, version)
        rows.append(_row(r, catalogs[r.process_version_id], now))
    return rows


def _row(r: Any, catalog: Mapping[str, Mapping[str, ElementInfo]], now: datetime) -> InstanceRow:
    due = as_utc(r.plan_due_at) if r.plan_due_at else None
    error = None
    if r.error_message:
        failed = find_element(catalog, r.error_bpmn_id)
        error = {
            "message": r.error_message,
            "bpmn_id": r.error_bpmn_id,
            "line": r.error_line,
            "name": failed.name if failed else r.error_bpmn_id,
        }
    active = list(r.active_elements or [])
    return InstanceRow(
        id=r.id,
        process_id=r.process_id,
        process_name=r.process_name or r.process_id,
        process_version_id=r.process_version_id,
        version=r.version,
        status=r.status,
        case_id=r.csi_id,
        csi_no=r.csi_no,
        kind=r.kind,
        customer_code=r.customer_code,
        customer_name=r.customer_name,
        product_code=r.product_code,
        serial_no=r.serial_no,
        parent_instance_id=r.parent_instance_id,
        active_elements=active,
        steps=[Step(e.bpmn_id, e.name, e.process_id) for e in current_steps(catalog, active)],
        sla_due_at=due,
        sla_provisional=bool(r.plan_due_provisional),
        sla_decided_at=as_utc(r.plan_decided_at) if r.plan_decided_at else None,
        sla_breached_at=as_utc(r.sla_breached_at) if r.sla_breached_at else None,
        overdue=due is not None
        and r.plan_decided_at is None
        and r.sla_paused_at is None
        and r.kind != "training_request"
        and r.csi_status not in ("closed", "cancelled")
        and due < now,
        next_timer_due=as_utc(r.next_timer_due) if r.next_timer_due else None,
        created_at=as_utc(r.created_at),
        updated_at=as_utc(r.updated_at),
        completed_at=as_utc(r.completed_at) if r.completed_at else None,
        error=error,
    )


# --- export writers -------------------------------------------------------------------------------------------------


def csv_chunks(header: list[str], rows: Iterator[list[Any]]) -> Iterator[str]:
    """CSV text in chunks (a UTF-8 BOM first, so spreadsheet programs read the Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([_csv_safe(cell) for cell in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_safe(cell: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def xlsx_bytes(header: list[str], rows: Iterator[list[Any]], *, title: str = "Instances") -> bytes:
    """An XLSX workbook with one sheet (write-only mode: memory stays flat for large exports)."""
    from openpyxl import Workbook  # imported on demand: only exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(cell: Any) -> Any:
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None)
    if isinstance(cell, str) and cell[:1] == "=":
        return "'" + cell
    return cell


# --- one instance ---------------------------------------------------------------------------------------------------


# --- what monitors who may not read cases (process designers) get -------------------------------------------------

CUSTOMER_FILTERS = ("customer", "serial")
_NEUTRAL_EVENT_DATA = frozenset({"from", "to", "outside_lane", "failed", "plan_due_at", "task_id", "was"})
_NEUTRAL_MESSAGES = frozenset(  # messages that name a step, a version or an error; reasons typed by staff are left out
    {"task.created", "task.completed", "task.claimed", "task.released", "instance.started", "instance.completed"}
    | {"instance.error", "instance.migrated", "timer.fired"}
)


def check_customer_filters(user: User, filters: InstanceFilters) -> None:
    """Filtering by customer or serial number would tell who is a customer: only for roles that read cases.

    :raises PermissionDeniedError: such a filter from a user who may not read cases.
    """
    if not may_read_cases(user) and (filters.customer or filters.serial):
        raise PermissionDeniedError("filtering by customer or serial number needs a role that reads cases")


def sort_for(user: User, sort: str) -> str:
    """The sort key, without sorting by customer name for users who may not read cases."""
    return sort if may_read_cases(user) or sort.lstrip("-") != "customer" else DEFAULT_SORT


def without_customer_data(row: InstanceRow) -> InstanceRow:
    """The list line without the customer's name and code and the unit's serial number."""
    return replace(row, customer_code=None, customer_name=None, serial_no=None)


def detail_without_customer_data(detail: dict[str, Any]) -> dict[str, Any]:
    """An instance detail without customer fields and without what the timeline copied from forms and records
    (form values, descriptions, reasons); steps, states, errors, who and when stay."""
    timeline = [
        {
            **event,
            "message": event["message"] if event["kind"] in _NEUTRAL_MESSAGES else "",
            "data": {k: v for k, v in (event["data"] or {}).items() if k in _NEUTRAL_EVENT_DATA} or None,
        }
        for event in detail["timeline"]
    ]
    return {**detail, "customer_code": None, "customer_name": None, "serial_no": None, "timeline": timeline}


def get_instance(session: Session, instance_id: int) -> ProcessInstance:
    """One instance by id.

    :raises NotFoundError: unknown instance.
    """
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"instance {instance_id} does not exist")
    return instance


def instance_row(session: Session, instance_id: int) -> InstanceRow:
    """The list line of one instance.

    :raises NotFoundError: unknown instance.
    """
    rows = _to_rows(session, session.execute(_rows_query(ProcessInstance.id == instance_id)), utcnow())
    if not rows:
        raise NotFoundError(f"instance {instance_id} does not exist")
    return rows[0]


def instance_detail(session: Session, runtime: WorkflowRuntime, instance_id: int) -> dict[str, Any]:
    """One instance: its list line, version, diagrams with element states (per process), SLA badges of waiting
    tasks, open tasks, parent and sub-instances, and its timeline (case-level entries included for a case process).

    :raises NotFoundError: unknown instance.
    """
    instance = get_instance(session, instance_id)
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK
    bundle = parsed_bundle(session, version)
    catalog = element_catalog(session, version)
    states = runtime.stored_element_states(bundle, instance.process_id, instance.state_json)
    _mark_parked_error(states, catalog, instance)
    tasks = open_tasks(session, instance.id)
    return {
        **instance_row(session, instance.id).as_dict(),
        "version": version.as_dict(),
        "elements": _flatten(states),
        "diagrams": [
            {"process_id": pid, "name": process_name(catalog, pid, version), "states": states.get(pid, _empty())}
            for pid in called_processes(catalog, instance.process_id)
        ],
        "badges": [_badge(t) for t in tasks if t.due_at is not None],
        "open_tasks": [task_summary(t) for t in tasks],
        "children": [_child(c) for c in sub_instances(session, instance.id)],
        "timeline": [e.as_dict() for e in instance_timeline(session, instance)],
    }


def _empty() -> dict[str, list[str]]:
    return {"completed": [], "active": [], "error": []}


def _mark_parked_error(
    states: dict[str, dict[str, list[str]]], catalog: Mapping[str, Mapping[str, ElementInfo]], instance: ProcessInstance
) -> None:
    """A parked incident keeps the state from before the failed step: mark the failing element red anyway."""
    if instance.status != InstanceStatus.ERROR.value or not instance.error_bpmn_id:
        return
    info = find_element(catalog, instance.error_bpmn_id)
    if info is None:
        return
    errors = states.setdefault(info.process_id, _empty())["error"]
    if info.bpmn_id not in errors:
        errors.append(info.bpmn_id)


def _flatten(states: Mapping[str, Mapping[str, list[str]]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {"completed": set(), "active": set(), "error": set()}
    for per_process in states.values():
        for key, ids in per_process.items():
            out[key].update(ids)
    return {key: sorted(ids) for key, ids in out.items()}


def open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    """The instance's open human tasks, oldest first."""
    query = (
        sa.select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN.value)
        .order_by(HumanTask.created_at)
    )
    return list(session.scalars(query))


def sub_instances(session: Session, instance_id: int) -> list[ProcessInstance]:
    """Instances started by this one (visit rounds), oldest first, without loading their state."""
    query = (
        sa.select(ProcessInstance)
        .options(defer(ProcessInstance.state_json))
        .where(ProcessInstance.parent_instance_id == instance_id)
        .order_by(ProcessInstance.id)
    )
    return list(session.scalars(query))


def instance_timeline(session: Session, instance: ProcessInstance) -> list[TimelineEvent]:
    """The instance's entries, plus the case's own entries (no instance) for a case's top process, oldest first."""
    mine = TimelineEvent.instance_id == instance.id
    if instance.csi_id is not None and instance.parent_instance_id is None:
        case_level = sa.and_(TimelineEvent.csi_id == instance.csi_id, TimelineEvent.instance_id.is_(None))
        mine = sa.or_(mine, case_level)
    return list(session.scalars(sa.select(TimelineEvent).where(mine).order_by(TimelineEvent.id)))


def _badge(task: HumanTask) -> dict[str, Any]:
    assert task.due_at is not None
    return {
        "bpmn_id": task.bpmn_id,
        "process_id": task.process_id,
        "task_id": task.id,
        "due_at": task.due_at.isoformat(),
    }


def _child(child: ProcessInstance) -> dict[str, Any]:
    return {
        "id": child.id,
        "process_id": child.process_id,
        "status": child.status,
        "work_order_id": child.work_order_id,
        "active_elements": child.active_elements,
        "created_at": child.created_at.isoformat(),
        "completed_at": child.completed_at.isoformat() if child.completed_at else None,
    }
