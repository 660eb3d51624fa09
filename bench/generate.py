"""Fill a database with N realistic cases (default 100,000) for the page benchmarks (bench/pages.py).

Steps: migrate (engine.migrate.upgrade_database), deploy workflows/, load the demo data, add a few more staff,
customers and products, then run four real cases through the real services (field service over two visit rounds
with technical support, QC feedback and a supplier claim; parts only; a case received late whose §4.6 clock breached
at registration). Their serialized process states, captured after every step, are the templates: each generated case
is simulated forward from its receipt over up to two years (analysis, review, answer, dispatch, visit rounds until
solved, closure, with occasional stalls) and stops where "now" falls, so the mix of statuses, ages, §4.6 breaches and
open tasks follows from the simulation. Rows go in with bulk Core inserts: CSI, process instances (the template state
JSON with the case's ids, numbers and open task ids substituted), human tasks (completed and open), WOs, PSRs,
surveys (QAHRC0807C), quality feedback (QAHRC0722C), supplier claims, service SOs, zero-price POs and the timeline.

Run: .venv/bin/python bench/generate.py /tmp/bench.db [--cases 100000] [--seed 7] [--force]
     .venv/bin/python bench/generate.py postgresql+psycopg://postgres@127.0.0.1:5432/bench --force
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]  # bench/http.py shadows stdlib http

import argparse
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.aftersales.demo import load_demo  # noqa: E402
from engine.bootstrap import build_runtime  # noqa: E402
from engine.calendar import BusinessCalendar  # noqa: E402
from engine.calendar import invalidate_cache  # noqa: E402
from engine.calendar import load_calendar  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.db import make_session_factory  # noqa: E402
from engine.migrate import upgrade_database  # noqa: E402
from engine.platform.definitions import read_directory  # noqa: E402
from engine.platform.deployment import deploy_files  # noqa: E402
from engine.records import CSI  # noqa: E402
from engine.records import Customer  # noqa: E402
from engine.records import DocumentSequence  # noqa: E402
from engine.records import HumanTask  # noqa: E402
from engine.records import ProcessInstance  # noqa: E402
from engine.records import ProcessVersion  # noqa: E402
from engine.records import Product  # noqa: E402
from engine.records import User  # noqa: E402
from engine.records import UserRole  # noqa: E402
from engine.records import WorkOrder  # noqa: E402
from engine.records.service_sales_order import lines_value  # noqa: E402
from tests.helpers import do  # noqa: E402
from tests.helpers import drive_to_dispatch  # noqa: E402
from tests.helpers import register  # noqa: E402

DAY = timedelta(days=1)
CHUNK = 2000
SUPERVISORS = {  # username: (display name, share of plans decided within §4.6)
    "supervisor": ("张主管", 0.92),
    "sup_chen": ("陈主管", 0.88),
    "sup_liu": ("刘主管", 0.80),
    "sup_huang": ("黄主管", 0.94),
    "sup_zhou": ("周主管", 0.73),
}
MANAGERS = {"manager": "李经理", "mgr_xu": "徐经理", "mgr_he": "何经理"}
ENGINEERS = {"engineer": "赵工程师"} | {f"eng{i:02d}": f"工程师{i:02d}" for i in range(1, 13)}
PRODUCTS = [  # code, name, category, warranty months, weight
    ("P-CNC500", "CNC500 数控加工中心", "complete_equipment", 24, 30),
    ("P-CNC800", "CNC800 立式加工中心", "complete_equipment", 24, 18),
    ("P-LATHE", "CK6150 数控车床", "complete_equipment", 18, 14),
    ("P-GRINDER", "M7130 平面磨床", "complete_equipment", 18, 8),
    ("P-PUMP", "YZ-40 液压泵站", "complete_equipment", 12, 7),
    ("P-TOOLKIT", "标准刀具套装", "tool_set", 12, 10),
    ("P-FIXTURE", "标准夹具套装", "tool_set", 12, 5),
    ("P-SPINDLE", "主轴轴承（备件）", "spare_part", 6, 8),
]
PARTS = [
    ("BRG-6205", "主轴轴承", 380),
    ("SRV-AC1", "伺服电机", 4200),
    ("ENC-12", "编码器", 1650),
    ("BLT-3M", "同步带", 120),
    ("SEAL-K", "密封圈组件", 65),
    ("PCB-MAIN", "主控板", 2900),
    ("PMP-V3", "液压泵阀", 980),
    ("LUB-2", "润滑泵", 540),
]
SUPPLIERS = ["某轴承有限公司", "华南伺服电机厂", "精工编码器公司", "东方液压件厂", "联创电子", None]
REASONS = [
    "等待供应商检测报告",
    "顾客未能及时提供书面反馈",
    "需要设计部参与评审",
    "评审会议因节假日顺延",
    "现场情况复杂，需补充原因分析",
    "等待顾客确认SO#及购买日期",
    "海外顾客时差，联系延误",
]
CITIES = [
    "上海",
    "苏州",
    "无锡",
    "宁波",
    "青岛",
    "天津",
    "沈阳",
    "武汉",
    "成都",
    "重庆",
    "西安",
    "广州",
    "东莞",
    "佛山",
]
TRADES = ["精密机械", "重工", "汽车零部件", "模具", "电子设备", "航空部件", "阀门", "液压"]


def log(message: str) -> None:
    """Progress on stderr with the elapsed time."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


STARTED = time.perf_counter()


# ---------------------------------------------------------------------------------------------------- templates


@dataclass
class Snap:
    """One instance as it stood at a checkpoint of a real run."""

    state_json: str
    status: str
    active_elements: list[str]
    open_task_ids: list[str]
    open_bpmn_ids: list[str]
    has_timer: bool


@dataclass
class Checkpoint:
    """The case instance and its round instances after one real step, with the ids to substitute."""

    case: Snap
    rounds: list[Snap]
    csi_id: int
    csi_no: str
    wo_id: int | None
    wo_no: str | None


@dataclass
class Templates:
    """Checkpoints by name and human-task metadata by BPMN id, captured from real runs."""

    points: dict[str, Checkpoint] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


def _snap(session: Session, instance: ProcessInstance) -> Snap:
    query = sa.select(HumanTask.id, HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id)
    bpmn = {task_id: bpmn_id for task_id, bpmn_id in session.execute(query)}
    return Snap(
        instance.state_json,
        instance.status,
        list(instance.active_elements),
        list(instance.open_task_ids),
        [bpmn[task_id] for task_id in instance.open_task_ids],
        instance.next_timer_due is not None,
    )


def _checkpoint(session: Session, csi: CSI) -> Checkpoint:
    session.expire_all()
    instances = list(
        session.scalars(sa.select(ProcessInstance).where(ProcessInstance.csi_id == csi.id).order_by(ProcessInstance.id))
    )
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).first()
    return Checkpoint(
        case=_snap(session, instances[0]),
        rounds=[_snap(session, i) for i in instances[1:]],
        csi_id=csi.id,
        csi_no=csi.csi_no,
        wo_id=work_order.id if work_order else None,
        wo_no=work_order.wo_no if work_order else None,
    )


def capture_templates(session: Session) -> Templates:
    """Run four real cases through the services and keep their states after every step."""
    runtime = build_runtime()

    def calendar() -> BusinessCalendar:
        return load_calendar(session)

    def people(username: str) -> User:
        return session.scalars(sa.select(User).where(User.username == username)).one()

    out = Templates()

    def step(csi: CSI, bpmn_id: str, user: str, point: str, **changes: Any) -> None:
        do(session, runtime, csi.id, bpmn_id, people(user), calendar, **changes)
        out.points[point] = _checkpoint(session, csi)

    csi, _ = register(session, runtime, people("manager"), calendar)
    out.points["analyse"] = _checkpoint(session, csi)
    step(csi, "analyse_root_cause", "manager", "review")
    step(csi, "review_csi", "supervisor", "answer")
    step(csi, "answer_customer", "manager", "issue_wo")
    step(csi, "issue_work_order", "manager", "visit")
    step(csi, "field_visit", "engineer", "support", outcome="unsolved", satisfaction="neutral")
    step(csi, "technical_support", "manager", "visit_2")
    step(
        csi,
        "field_visit",
        "engineer",
        "close_wo",
        quality_problem_found=True,
        quality_problem_description="轴承滚道剥落",
        old_parts="unrecoverable",
        parts_used=[{"part_no": "BRG-6205", "qty": 2, "source": "bought"}],
    )
    do(session, runtime, csi.id, "quality_feedback_review", people("qc"), calendar)
    for claim_step in ("send_claim", "claim_answer", "claim_settlement"):  # the claim process (§5.5), to settled
        do(session, runtime, csi.id, claim_step, people("sales"), calendar)
    step(csi, "close_case", "manager", "closed_wo")

    parts, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["parts_only"]})
    out.points["issue_parts"] = _checkpoint(session, parts)
    step(parts, "issue_parts_so", "manager", "close_parts")
    step(parts, "close_case", "manager", "closed_parts")

    late, _ = register(session, runtime, people("manager"), calendar, received_at=datetime.now(UTC) - 15 * DAY)
    out.points["analyse_breached"] = _checkpoint(session, late)
    step(late, "handle_overdue_plan", "supervisor", "analyse_late")

    for task in session.scalars(sa.select(HumanTask)):
        out.tasks.setdefault(
            task.bpmn_id,
            {
                "process_id": task.process_id,
                "name": task.name,
                "lane": task.lane,
                "form_file": task.form_file,
                "ui_file": task.ui_file,
                "documentation": task.documentation,
            },
        )
    return out


# ---------------------------------------------------------------------------------------------------- simulation


@dataclass
class Step:
    """One human task of the simulated case: where it runs (0 = case, k = visit round k) and when it is done."""

    bpmn_id: str
    where: int
    created: datetime
    done: datetime


@dataclass
class Case:
    """A simulated case: facts, its timeline of steps, and derived documents."""

    kind: str
    received: datetime
    due: datetime
    product: tuple[str, str, str, int, int]
    customer: str
    coverage: str
    responsibility: str | None
    plan: str
    supervisor: str
    manager: str
    engineer: str
    rounds: int
    steps: list[Step] = field(default_factory=list)


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def simulate(rng: random.Random, received: datetime, due: datetime, c: Case, now: datetime) -> None:
    """Walk the case forward from receipt, step by step (each step starts when the previous one ends)."""
    stall = rng.random() < 0.025  # a few cases wait much longer at one step
    stall_at = rng.randrange(6)

    def dur(index: int, low: float, high: float) -> timedelta:
        base = _hours(rng, low, high)
        return base * rng.uniform(8, 60) if stall and index == stall_at else base

    on_time = rng.random() < SUPERVISORS[c.supervisor][1]
    window = max((due - received).total_seconds() / 3600, 2.0)
    decide = _hours(rng, 0.6, window * 0.97) if on_time else (due - received) + _hours(rng, 1, 110)
    if stall and stall_at <= 1:
        decide *= rng.uniform(2, 8)
    t = min(received + timedelta(minutes=rng.uniform(5, 90)), received + (now - received) / 2)  # registered
    if c.kind == "quality_complaint":
        analysed = t + (received + decide - t) * rng.uniform(0.3, 0.8)
        c.steps.append(Step("analyse_root_cause", 0, t, analysed))
        t = analysed
    decided = max(received + decide, t + timedelta(minutes=20))
    c.steps.append(Step("review_csi", 0, t, decided))
    answered = decided + dur(2, 0.3, 20)
    c.steps.append(Step("answer_customer", 0, decided, answered))
    if c.plan == "parts_only":
        issued = answered + dur(3, 1, 60)
        c.steps.append(Step("issue_parts_so", 0, answered, issued))
        last = issued
    else:
        issued = answered + dur(3, 2, 70)
        c.steps.append(Step("issue_work_order", 0, answered, issued))
        t = issued
        for k in range(1, c.rounds + 1):
            visited = t + dur(4, 18, 140)
            c.steps.append(Step("field_visit", k, t, visited))
            t = visited
            if k < c.rounds:
                supported = t + dur(5, 3, 48)
                c.steps.append(Step("technical_support", k, t, supported))
                t = supported
        last = t
    c.steps.append(Step("close_case", 0, last, last + dur(5, 10, 240)))


# ---------------------------------------------------------------------------------------------------- generator


class Ids:
    """Next explicit primary key per table, after what the real runs left."""

    def __init__(self, conn: sa.Connection) -> None:
        self.next: dict[str, int] = {}
        for table in (
            "csi",
            "process_instance",
            "work_order",
            "psr",
            "satisfaction_survey",
            "quality_feedback",
            "supplier_claim",
            "service_sales_order",
            "service_purchase",
            "timeline_event",
            "customer",
        ):
            self.next[table] = int(conn.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()) + 1

    def __call__(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Numbers:
    """Document numbers per prefix and year, continuing the document_sequence table."""

    def __init__(self, conn: sa.Connection) -> None:
        self.last: dict[tuple[str, int], int] = {
            (p, y): n
            for p, y, n in conn.execute(
                sa.select(DocumentSequence.prefix, DocumentSequence.year, DocumentSequence.last)
            )
        }

    def __call__(self, prefix: str, moment: datetime) -> str:
        year = (moment + timedelta(hours=8)).year
        n = self.last.get((prefix, year), 0) + 1
        self.last[(prefix, year)] = n
        return f"{prefix}-{year}-{n:06d}"


class Rows:
    """Rows waiting for the next bulk insert, per table."""

    ORDER = (
        "csi",
        "work_order",
        "case_instance",
        "round_instance",
        "human_task",
        "psr",
        "satisfaction_survey",
        "quality_feedback",
        "supplier_claim",
        "service_sales_order",
        "service_purchase",
        "timeline_event",
    )
    TABLES = {"case_instance": "process_instance", "round_instance": "process_instance"}

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in self.ORDER}
        self.counts: dict[str, int] = dict.fromkeys(self.ORDER, 0)

    def add(self, name: str, row: dict[str, Any]) -> None:
        self.rows[name].append(row)

    def flush(self, conn: sa.Connection, metadata: sa.MetaData) -> None:
        for name in self.ORDER:
            if self.rows[name]:
                conn.execute(metadata.tables[self.TABLES.get(name, name)].insert(), self.rows[name])
                self.counts[name] += len(self.rows[name])
                self.rows[name] = []


@dataclass
class World:
    """What every generated case draws from."""

    rng: random.Random
    now: datetime
    calendar: BusinessCalendar
    templates: Templates
    versions: dict[str, int]
    customers: list[str]
    customer_ids: dict[str, int]
    ids: Ids
    numbers: Numbers
    rows: Rows = field(default_factory=Rows)


def _weighted(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def new_case(world: World, received: datetime) -> Case:
    """Draw the facts of one case."""
    rng = world.rng
    product = rng.choices(PRODUCTS, weights=[p[4] for p in PRODUCTS])[0]
    kind = _weighted(rng, [("quality_complaint", 0.82), ("service_request", 0.14), ("parts_claim", 0.04)])
    coverage = _weighted(rng, [("in_warranty", 0.55), ("out_of_warranty", 0.25), ("contract", 0.15), ("unknown", 0.05)])
    responsibility = None
    if kind == "quality_complaint":
        responsibility = _weighted(
            rng,
            [
                ("manufacturing", 30),
                ("supplier", 25),
                ("design", 10),
                ("customer", 15),
                ("transport", 5),
                ("unknown", 15),
            ],
        )
    parts_only = product[2] == "spare_part" or kind == "parts_claim" or rng.random() < 0.18
    rounds = _weighted(rng, [(1, 0.72), (2, 0.19), (3, 0.07), (4, 0.02)])
    return Case(
        kind=kind,
        received=received,
        due=world.calendar.deadline(received, 3).due_at,
        product=product,
        customer=rng.choice(world.customers),
        coverage=coverage,
        responsibility=responsibility,
        plan="parts_only" if parts_only else "field_service",
        supervisor=rng.choice(list(SUPERVISORS)),
        manager=rng.choice(list(MANAGERS)),
        engineer=rng.choice(list(ENGINEERS)),
        rounds=rounds,
    )


def billing_of(c: Case) -> tuple[str, str]:
    """(billing, cost bearer) as the service_billing DMN would propose them (§3.2)."""
    if c.coverage == "contract":
        return "contract", "contract"
    if c.coverage == "in_warranty":
        if c.responsibility == "supplier":
            return "free", "supplier"
        if c.responsibility == "customer":
            return "paid", "customer"
        return "free", "company"
    if c.coverage == "out_of_warranty" and c.responsibility in ("design", "manufacturing"):
        return "partly_paid", "shared"
    return "paid", "customer"


def emit(world: World, c: Case) -> None:
    """Turn one simulated case into rows, cut at `now`."""
    rng, now, rows = world.rng, world.now, world.rows
    done = [s for s in c.steps if s.done <= now]
    pending = [s for s in c.steps if s.done > now and s.created <= now]
    current = pending[0] if pending else None
    finished = current is None and len(done) == len(c.steps)
    csi_id = world.ids("csi")
    csi_no = world.numbers("CSI", c.received)
    billing, bearer = billing_of(c)
    decided = next((s.done for s in done if s.bpmn_id == "review_csi"), None)
    breached = c.due < (decided or now)
    closed = next((s.done for s in done if s.bpmn_id == "close_case"), None)
    handled_at = None  # the supervisor records why (§4.6 "normally"): the handle_overdue_plan task
    if breached:
        handled_at = c.due + _hours(rng, 2, 60)
        if closed is not None:
            handled_at = min(handled_at, closed)  # a case finishes only with every task done
    reason = rng.choice(REASONS) if handled_at is not None and handled_at <= now else None
    status = _status(current, finished)
    analysed = "analyse_root_cause" in {s.bpmn_id for s in done}
    rows.add(
        "csi",
        {
            "id": csi_id,
            "csi_no": csi_no,
            "kind": c.kind,
            "status": status,
            "customer_id": world.customer_ids[c.customer],
            "origin_so_no": f"SO-{c.received.year - 1}-{rng.randrange(1, 9999):04d}",
            "sales_order_id": None,
            "serial_no": f"{c.product[0][2:]}-{rng.randrange(1, 99999):05d}",
            "product_code": c.product[0],
            "sale_date": (c.received - DAY * rng.randrange(30, 900)).date(),
            "warranty_until": None,
            "coverage": c.coverage,
            "policy_version": 1,
            "contract_no": None,
            "archive_required": c.product[2] == "complete_equipment",
            "description": "设备故障，顾客要求服务",
            "channel": rng.choice(["phone", "phone", "email", "wechat", "sales", "visit"]),
            "overseas": False,
            "received_at": c.received,
            "registered_at": c.steps[0].created,
            "registered_by": c.manager,
            "forwarded_by": None,
            "plan_due_at": c.due,
            "plan_due_provisional": False,
            "plan_decided_at": decided,
            "sla_breached_at": c.due if breached else None,
            "sla_exception_reason": reason,
            "root_cause": "原因分析见附件" if analysed else None,
            "responsibility": c.responsibility if analysed else None,
            "analysed_by": c.manager if analysed else None,
            "review_form": "meeting" if decided else None,
            "review_opinion": "同意服务方案" if decided else None,
            "service_plan": [c.plan] if decided else None,
            "signed_original_location": "服务部档案柜" if decided else None,
            "reviewed_by": c.supervisor if decided else None,
            "answered_at": _done(done, "answer_customer"),
            "answer_channel": "phone" if _done(done, "answer_customer") else None,
            "plan_summary": "按评审方案提供服务" if decided else None,
            "answered_by": c.manager if _done(done, "answer_customer") else None,
            "billing": billing if decided else None,
            "cost_bearer": bearer if decided else None,
            "billing_override_reason": None,
            "renegotiations": sum(1 for s in done if s.bpmn_id == "technical_support"),
            "dispatch_notes": None,
            "archive_location": "服务部档案柜" if closed else None,
            "closing_notes": None,
            "closed_at": closed,
        },
    )
    _documents_and_instances(world, c, csi_id, csi_no, done, current, finished, billing, handled_at, reason)


def _done(done: list[Step], bpmn_id: str) -> datetime | None:
    return next((s.done for s in done if s.bpmn_id == bpmn_id), None)


def _status(current: Step | None, finished: bool) -> str:
    if finished:
        return "closed"
    assert current is not None
    return {
        "analyse_root_cause": "analysing",
        "review_csi": "under_review",
        "answer_customer": "plan_decided",
        "issue_parts_so": "dispatching",
        "issue_work_order": "dispatching",
        "field_visit": "in_execution",
        "technical_support": "in_execution",
        "close_case": "awaiting_closure",
    }[current.bpmn_id]


def _case_point(c: Case, current: Step | None, breached_open: bool, handled: bool) -> str:
    if current is None:
        return "closed_parts" if c.plan == "parts_only" else "closed_wo"
    if current.bpmn_id == "analyse_root_cause" and breached_open:
        return "analyse_late" if handled else "analyse_breached"
    return {
        "analyse_root_cause": "analyse",
        "review_csi": "review",
        "answer_customer": "answer",
        "issue_parts_so": "issue_parts",
        "issue_work_order": "issue_wo",
        "field_visit": "visit",
        "technical_support": "visit",
        "close_case": "close_parts" if c.plan == "parts_only" else "close_wo",
    }[current.bpmn_id]


def _state(
    world: World,
    point: Checkpoint,
    snap: Snap,
    csi_id: int,
    csi_no: str,
    wo: tuple[int, str] | None,
    task_ids: dict[str, str],
) -> str:
    text = snap.state_json.replace(point.csi_no, csi_no)
    text = text.replace(f'"csi_id": {point.csi_id},', f'"csi_id": {csi_id},')
    text = text.replace(f'"csi_id": {point.csi_id}}}', f'"csi_id": {csi_id}}}')
    if wo is not None and point.wo_no is not None:
        text = text.replace(point.wo_no, wo[1]).replace(f'"wo_id": {point.wo_id},', f'"wo_id": {wo[0]},')
    for old, bpmn_id in zip(snap.open_task_ids, snap.open_bpmn_ids, strict=True):
        if bpmn_id in task_ids:
            text = text.replace(old, task_ids[bpmn_id])
    return text


def _instance(
    world: World,
    *,
    iid: int,
    process_id: str,
    csi_id: int,
    snap: Snap,
    state: str,
    created: datetime,
    updated: datetime,
    running: bool,
    due: datetime | None,
    parent: int | None,
    wo_id: int | None,
    open_ids: list[str],
) -> dict[str, Any]:
    return {
        "id": iid,
        "process_version_id": world.versions[process_id],
        "process_id": process_id,
        "csi_id": csi_id,
        "parent_instance_id": parent,
        "work_order_id": wo_id,
        "status": "running" if running else "completed",
        "state_json": state,
        "serializer_version": "1",
        "next_timer_due": due,
        "active_elements": snap.active_elements if running else [],
        "open_task_ids": open_ids,
        "error_message": None,
        "error_bpmn_id": None,
        "error_line": None,
        "created_at": created,
        "updated_at": updated,
        "completed_at": None if running else updated,
        "lock_version": 1,
    }


def _task(
    world: World,
    bpmn_id: str,
    instance_id: int,
    csi_id: int,
    created: datetime,
    done: datetime | None,
    actor: str,
    due: datetime | None,
    task_id: str | None = None,
) -> dict[str, Any]:
    meta = world.templates.tasks[bpmn_id]
    return {
        "id": task_id or str(uuid.uuid4()),
        "instance_id": instance_id,
        "csi_id": csi_id,
        **meta,
        "bpmn_id": bpmn_id,
        "status": "completed" if done else "open",
        "assignee": actor if done or bpmn_id == "field_visit" else None,
        "created_at": created,
        "due_at": due,
        "claimed_at": created + timedelta(minutes=30) if done else None,
        "completed_at": done,
        "completed_by": actor if done else None,
        "lock_version": 1,
    }


def _event(
    world: World,
    csi_id: int,
    instance_id: int | None,
    at: datetime,
    actor: str,
    kind: str,
    bpmn_id: str | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    world.rows.add(
        "timeline_event",
        {
            "id": world.ids("timeline_event"),
            "csi_id": csi_id,
            "instance_id": instance_id,
            "at": at,
            "actor": actor,
            "kind": kind,
            "bpmn_id": bpmn_id,
            "message": message,
            "data": data,
            "_sentinel": None,
        },
    )


def _actor(c: Case, step: Step) -> str:
    if step.bpmn_id == "review_csi":
        return c.supervisor
    if step.bpmn_id == "field_visit":
        return c.engineer
    return c.manager


def _documents_and_instances(
    world: World,
    c: Case,
    csi_id: int,
    csi_no: str,
    done: list[Step],
    current: Step | None,
    finished: bool,
    billing: str,
    handled_at: datetime | None,
    reason: str | None,
) -> None:
    rng, now, rows = world.rng, world.now, world.rows
    undecided = _done(done, "review_csi") is None
    breached_open = undecided and c.due < now
    handled = handled_at is not None and handled_at <= now
    point = world.templates.points[_case_point(c, current, breached_open, handled)]
    case_id = world.ids("process_instance")
    case_task_ids = {bpmn: str(uuid.uuid4()) for bpmn in point.case.open_bpmn_ids}
    last_case_time = max([s.done for s in done if s.where == 0] or [c.steps[0].created])
    _event(
        world,
        csi_id,
        None,
        c.steps[0].created,
        c.manager,
        "csi.registered",
        message=csi_no,
        data={"kind": c.kind, "received_at": c.received.isoformat()},
    )
    _event(world, csi_id, case_id, c.steps[0].created, c.manager, "instance.started", message="after_sales_case v1")
    wo: tuple[int, str] | None = None
    wo_row: dict[str, Any] | None = None
    issue = next((s for s in done if s.bpmn_id == "issue_work_order"), None)
    if issue is not None:
        wo = (world.ids("work_order"), world.numbers("WO", issue.done))
        paid = billing in ("paid", "partly_paid")
        wo_row = {
            "id": wo[0],
            "wo_no": wo[1],
            "csi_id": csi_id,
            "kind": "field_service",
            "status": "in_progress",
            "site": f"{rng.choice(CITIES)} 顾客现场",
            "overseas_site": False,
            "planned_date": (issue.done + 2 * DAY).date(),
            "engineers": [c.engineer],
            "temporary_staff": [],
            "labour_rate": Decimal(rng.choice([150, 180, 200, 220, 260, 300])),
            "labour_hours": Decimal("0"),
            "billing": billing,
            "fee_amount": Decimal(rng.randrange(8, 60) * 100) if paid else None,
            "formalities": None,
            "rounds": 0,
            "created_at": issue.done,
            "created_by": c.manager,
            "completed_at": None,
        }
        rows.add("work_order", wo_row)
        _event(world, csi_id, case_id, issue.done, c.manager, "wo.issued", message=wo[1], data={"number": wo[1]})
        if paid:
            _sales_order(world, c, csi_id, csi_no, wo, "service_fee", billing, issue.done, wo_row["fee_amount"])
    parts = next((s for s in done if s.bpmn_id == "issue_parts_so"), None)
    if parts is not None:
        _sales_order(world, c, csi_id, csi_no, None, "parts_only", billing, parts.done, None)
    running = not finished
    due = c.due if undecided and not breached_open and running else None
    rows.add(
        "case_instance",
        _instance(
            world,
            iid=case_id,
            process_id="after_sales_case",
            csi_id=csi_id,
            snap=point.case,
            state=_state(world, point, point.case, csi_id, csi_no, wo, case_task_ids),
            created=c.steps[0].created,
            updated=last_case_time,
            running=running,
            due=due,
            parent=None,
            wo_id=None,
            open_ids=list(case_task_ids.values()) if running else [],
        ),
    )
    for step in c.steps:
        if step.where != 0 or step.created > now:
            continue
        finished_step = step.done <= now
        task_id = None if finished_step else case_task_ids.get(step.bpmn_id)
        due_at = c.due if step.bpmn_id in ("analyse_root_cause", "review_csi") else None
        rows.add(
            "human_task",
            _task(
                world,
                step.bpmn_id,
                case_id,
                csi_id,
                step.created,
                step.done if finished_step else None,
                _actor(c, step),
                due_at,
                task_id,
            ),
        )
        _event(
            world,
            csi_id,
            case_id,
            step.created,
            "system",
            "task.created",
            step.bpmn_id,
            world.templates.tasks[step.bpmn_id]["name"],
        )
        if finished_step:
            _event(
                world,
                csi_id,
                case_id,
                step.done,
                _actor(c, step),
                "task.completed",
                step.bpmn_id,
                world.templates.tasks[step.bpmn_id]["name"],
            )
    if c.due < (_done(done, "review_csi") or now):
        _event(world, csi_id, case_id, c.due, "system", "sla.breached", message="§4.6")
        handled_done = handled_at if handled else None
        open_id = None if handled else case_task_ids.get("handle_overdue_plan")
        rows.add(
            "human_task",
            _task(world, "handle_overdue_plan", case_id, csi_id, c.due, handled_done, c.supervisor, None, open_id),
        )
        if handled and reason:
            _event(
                world,
                csi_id,
                case_id,
                handled_at,
                c.supervisor,
                "task.completed",
                "handle_overdue_plan",
                data={"exception_reason": reason},
            )
    if wo is not None and wo_row is not None:
        _rounds(world, c, csi_id, csi_no, case_id, wo, wo_row, done, current, finished)
    if finished:
        _event(world, csi_id, case_id, last_case_time, c.manager, "instance.completed")


def _sales_order(
    world: World,
    c: Case,
    csi_id: int,
    csi_no: str,
    wo: tuple[int, str] | None,
    so_type: str,
    billing: str,
    at: datetime,
    fee: Decimal | None,
) -> None:
    rng = world.rng
    lines: list[dict[str, Any]] = []
    if so_type == "parts_only":
        for part_no, name, price in rng.sample(PARTS, rng.randrange(1, 4)):
            lines.append(
                {"part_no": part_no, "description": name, "qty": rng.randrange(1, 4), "unit_price": float(price)}
            )
        total = sum(Decimal(str(x["unit_price"])) * x["qty"] for x in lines)
        amount = total if billing in ("paid", "partly_paid") else Decimal("0")
    else:
        amount = fee or Decimal("0")
    so_no = world.numbers("SO", at)
    world.rows.add(
        "service_sales_order",
        {
            "id": world.ids("service_sales_order"),
            "so_no": so_no,
            "so_type": so_type,
            "csi_id": csi_id,
            "wo_id": wo[0] if wo else None,
            "billing": billing,
            "amount": amount,
            "lines": lines,
            "parts_value": lines_value(lines),
            "remarks": f"CSI: {csi_no}" + (f" WO: {wo[1]}" if wo else ""),
            "created_at": at,
            "created_by": c.manager,
        },
    )
    _event(
        world, csi_id, None, at, c.manager, "so.issued", message=so_no, data={"number": so_no, "amount": str(amount)}
    )


def _rounds(
    world: World,
    c: Case,
    csi_id: int,
    csi_no: str,
    case_id: int,
    wo: tuple[int, str],
    wo_row: dict[str, Any],
    done: list[Step],
    current: Step | None,
    finished: bool,
) -> None:
    rng, now, rows = world.rng, world.now, world.rows
    points = world.templates.points
    hours_total = Decimal("0")
    for k in range(1, c.rounds + 1):
        visit = next(s for s in c.steps if s.bpmn_id == "field_visit" and s.where == k)
        if visit.created > now:
            break
        support = next((s for s in c.steps if s.bpmn_id == "technical_support" and s.where == k), None)
        last_round = k == c.rounds
        round_done = visit.done <= now and (support is None or support.done <= now)
        if round_done:
            point = points["close_wo"] if last_round else points["visit_2"]
            snap = point.rounds[-1] if last_round else point.rounds[0]
        elif visit.done > now:
            point, snap = points["visit"], points["visit"].rounds[0]
        else:
            point, snap = points["support"], points["support"].rounds[0]
        iid = world.ids("process_instance")
        open_ids = {b: str(uuid.uuid4()) for b in snap.open_bpmn_ids} if not round_done else {}
        end = (support.done if support else visit.done) if round_done else now
        rows.add(
            "round_instance",
            _instance(
                world,
                iid=iid,
                process_id="field_visit_round",
                csi_id=csi_id,
                snap=snap,
                state=_state(world, point, snap, csi_id, csi_no, wo, open_ids),
                created=visit.created,
                updated=end,
                running=not round_done,
                due=None,
                parent=case_id,
                wo_id=wo[0],
                open_ids=list(open_ids.values()),
            ),
        )
        wo_row["rounds"] = k
        _event(world, csi_id, iid, visit.created, c.manager, "wo.round_started", message=f"{wo[1]} #{k}")
        visit_open_id = open_ids.get("field_visit") if visit.done > now else None
        rows.add(
            "human_task",
            _task(
                world,
                "field_visit",
                iid,
                csi_id,
                visit.created,
                visit.done if visit.done <= now else None,
                c.engineer,
                None,
                visit_open_id,
            ),
        )
        if visit.done > now:
            break
        hours = Decimal(str(round(rng.uniform(2, 12) * 2) / 2))
        hours_total += hours
        _visit_documents(world, c, csi_id, wo, k, visit.done, hours, solved=last_round)
        if support is not None and support.created <= now:
            support_open = open_ids.get("technical_support") if support.done > now else None
            rows.add(
                "human_task",
                _task(
                    world,
                    "technical_support",
                    iid,
                    csi_id,
                    support.created,
                    support.done if support.done <= now else None,
                    c.manager,
                    None,
                    support_open,
                ),
            )
    wo_row["labour_hours"] = hours_total
    if finished or (current is not None and current.bpmn_id == "close_case"):
        last_visit = max(s.done for s in done if s.bpmn_id == "field_visit")
        wo_row["status"], wo_row["completed_at"] = "completed", last_visit
        _event(world, csi_id, None, last_visit, c.engineer, "wo.completed", message=wo[1])


def _visit_documents(
    world: World, c: Case, csi_id: int, wo: tuple[int, str], k: int, at: datetime, hours: Decimal, *, solved: bool
) -> None:
    rng, rows = world.rng, world.rows
    psr_id, psr_no = world.ids("psr"), world.numbers("PSR", at)
    quality = rng.random() < 0.07
    unrecoverable = solved and c.responsibility == "supplier" and rng.random() < 0.45
    old_parts = "unrecoverable" if unrecoverable else _weighted(rng, [("none", 0.7), ("recovered", 0.3)])
    if solved:
        satisfaction = _weighted(
            rng,
            [
                ("very_satisfied", 0.34),
                ("satisfied", 0.5),
                ("neutral", 0.12),
                ("dissatisfied", 0.03),
                ("very_dissatisfied", 0.01),
            ],
        )
    else:
        satisfaction = _weighted(
            rng, [("satisfied", 0.15), ("neutral", 0.55), ("dissatisfied", 0.22), ("very_dissatisfied", 0.08)]
        )
    part = rng.choice(PARTS)
    parts_used = [{"part_no": part[0], "qty": rng.randrange(1, 3), "source": rng.choice(["stock", "stock", "bought"])}]
    rows.add(
        "psr",
        {
            "id": psr_id,
            "psr_no": psr_no,
            "wo_id": wo[0],
            "csi_id": csi_id,
            "round_no": k,
            "engineer": c.engineer,
            "visit_date": at.date(),
            "labour_hours": hours,
            "work_performed": "检查并维修设备",
            "parts_used": parts_used,
            "outcome": "solved" if solved else "unsolved",
            "old_parts": old_parts,
            "quality_problem_found": quality,
            "customer_opinions": "",
            "satisfaction": satisfaction,
            "customer_signed_by": "设备科",
            "created_at": at,
        },
    )
    _event(
        world,
        csi_id,
        None,
        at,
        c.engineer,
        "psr.filed",
        message=psr_no,
        data={"number": psr_no, "outcome": "solved" if solved else "unsolved", "labour_hours": str(hours)},
    )
    sv_no = world.numbers("SV", at)
    rows.add(
        "satisfaction_survey",
        {
            "id": world.ids("satisfaction_survey"),
            "sv_no": sv_no,
            "form_code": "QAHRC0807C",
            "csi_id": csi_id,
            "wo_id": wo[0],
            "psr_id": psr_id,
            "satisfaction": satisfaction,
            "dissatisfied": satisfaction in ("dissatisfied", "very_dissatisfied"),
            "opinions": "",
            "filed_by": c.engineer,
            "filed_at": at,
        },
    )
    if parts_used[0]["source"] == "bought" or old_parts == "recovered":
        rows.add(
            "service_purchase",
            {
                "id": world.ids("service_purchase"),
                "po_no": world.numbers("PO", at),
                "prj_no": wo[1],
                "wo_id": wo[0],
                "csi_id": csi_id,
                "psr_id": psr_id,
                "purpose": "buy_parts" if parts_used[0]["source"] == "bought" else "recover_old_parts",
                "lines": parts_used,
                "total_price": Decimal("0"),
                "remarks": f"CSI {csi_id}",
                "created_at": at,
                "created_by": c.engineer,
            },
        )
    if quality:
        age = world.now - at
        status = "submitted" if age < DAY * rng.uniform(3, 40) else _weighted(rng, [("closed", 0.8), ("rejected", 0.2)])
        rows.add(
            "quality_feedback",
            {
                "id": world.ids("quality_feedback"),
                "qf_no": world.numbers("QF", at),
                "form_code": "QAHRC0722C",
                "csi_id": csi_id,
                "wo_id": wo[0],
                "psr_id": psr_id,
                "description": "发现潜在质量问题",
                "status": status,
                "filed_by": c.engineer,
                "filed_at": at,
                "investigation": None if status == "submitted" else "已调查",
                "corrective_action": None,
                "reviewed_by": None if status == "submitted" else "qc",
                "closed_at": None if status == "submitted" else min(at + DAY * rng.uniform(2, 30), world.now),
            },
        )
    if unrecoverable:
        age = world.now - at
        status = (
            "open"
            if age < 5 * DAY
            else _weighted(rng, [("submitted", 0.3), ("accepted", 0.4), ("partly_accepted", 0.15), ("rejected", 0.15)])
        )
        supplier = None if status == "open" else rng.choice(SUPPLIERS[:-1])
        rows.add(
            "supplier_claim",
            {
                "id": world.ids("supplier_claim"),
                "sc_no": world.numbers("SC", at),
                "csi_id": csi_id,
                "wo_id": wo[0],
                "psr_id": psr_id,
                "csi_snapshot": {"csi_id": csi_id},
                "status": status,
                "supplier": supplier,
                "claim_amount": None if status == "open" else Decimal(rng.randrange(5, 200) * 100),
                "notes": None,
                "handled_by": None if status == "open" else "sales",
                "created_at": at,
                "closed_at": at + 10 * DAY if status in ("accepted", "partly_accepted", "rejected") else None,
            },
        )


# ---------------------------------------------------------------------------------------------------- set-up


def database_url(target: str) -> str:
    """A SQLAlchemy URL from a URL or an SQLite file path."""
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def prepare(url: str, force: bool) -> None:
    """Start from an empty database: remove the SQLite file, or drop and recreate the PostgreSQL schema."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists() and not force:
            sys.exit(f"{path} exists: pass --force to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT count(*) FROM information_schema.tables WHERE table_schema='public'")).scalar():
            if not force:
                sys.exit(f"{url} is not empty: pass --force to drop its public schema")
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def add_staff_and_master_data(session: Session, rng: random.Random) -> None:
    """More supervisors, managers and engineers (same password as the demo users), customers and products."""
    template = session.scalars(sa.select(User).where(User.username == "manager")).one()
    people = [(u, n, "service_supervisor") for u, (n, _) in SUPERVISORS.items()]
    people += [(u, n, "service_manager") for u, n in MANAGERS.items()]
    people += [(u, n, "service_engineer") for u, n in ENGINEERS.items()]
    for username, name, role in people:
        if session.scalars(sa.select(User.id).where(User.username == username)).first() is None:
            user = User(
                username=username, display_name=name, password_hash=template.password_hash, created_at=datetime.now(UTC)
            )
            user.roles = [UserRole(role=role)]
            session.add(user)
    known = set(session.scalars(sa.select(Product.code)))
    for code, name, category, months, _ in PRODUCTS:
        if code not in known:
            session.add(Product(code=code, name=name, category=category, warranty_months=months))
    for i in range(1, 301):
        name = f"{rng.choice(CITIES)}{rng.choice(TRADES)}{'有限公司' if i % 3 else '集团'}{i:03d}"
        session.add(Customer(code=f"C{1000 + i}", name=name, country="CN"))
    session.flush()


def chunks(total: int) -> Iterator[range]:
    """Ranges of at most CHUNK cases."""
    for start in range(0, total, CHUNK):
        yield range(start, min(total, start + CHUNK))


def generate(url: str, cases: int, seed: int, years: float) -> dict[str, int]:
    """Create and fill the database; returns the row counts inserted per table."""
    rng = random.Random(seed)
    upgrade_database(url)
    invalidate_cache()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        deploy_files(session, read_directory(ROOT / "workflows"), actor="bench", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        add_staff_and_master_data(session, rng)
        session.commit()
        log("schema, workflows, demo data and staff ready; running the template cases through the engine")
        templates = capture_templates(session)
        session.commit()
        calendar = load_calendar(session)
        versions = {
            pid: session.scalars(
                sa.select(ProcessVersion.id)
                .where(ProcessVersion.process_id == pid)
                .order_by(ProcessVersion.version.desc())
            ).first()
            for pid in ("after_sales_case", "field_visit_round")
        }
        customers = {code: cid for code, cid in session.execute(sa.select(Customer.code, Customer.id))}
    log(f"captured {len(templates.points)} checkpoints from real runs")
    engine.dispose()
    bulk = _bulk_engine(url)
    metadata = CSI.metadata
    now = datetime.now(UTC)
    span = timedelta(days=365 * years)
    with bulk.begin() as conn:
        world = World(
            rng,
            now,
            calendar,
            templates,
            {k: int(v or 0) for k, v in versions.items()},
            sorted(customers),
            customers,
            Ids(conn),
            Numbers(conn),
        )
    received = sorted(now - span * (1 - rng.random() ** 0.8) for _ in range(cases))  # volume grows over time
    for block in chunks(cases):
        with bulk.begin() as conn:
            for i in block:
                c = new_case(world, received[i])
                simulate(rng, received[i], c.due, c, now)
                emit(world, c)
            world.rows.flush(conn, metadata)
        if (block.stop // CHUNK) % 10 == 0 or block.stop == cases:
            log(f"{block.stop:,} cases")
    with bulk.begin() as conn:
        _finish(conn, world, url)
    bulk.dispose()
    return world.rows.counts


def _bulk_engine(url: str) -> sa.Engine:
    """A plain engine for the bulk load (SQLite: no fsync per commit while loading)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url)
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    return engine


def _finish(conn: sa.Connection, world: World, url: str) -> None:
    """Continue the document numbers and (PostgreSQL) the id sequences after the generated rows; refresh stats."""
    table = DocumentSequence.__table__
    for (prefix, year), last in world.numbers.last.items():
        updated = conn.execute(
            sa.update(table).where(table.c.prefix == prefix, table.c.year == year).values(last=last)
        ).rowcount
        if not updated:
            conn.execute(sa.insert(table).values(prefix=prefix, year=year, last=last))
    if not url.startswith("sqlite"):
        for name in world.ids.next:
            conn.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))")
            )
        conn.execute(sa.text("ANALYZE"))


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="SQLite file path or SQLAlchemy URL")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--years", type=float, default=2.0, help="cases are received over this many years")
    parser.add_argument("--force", action="store_true", help="replace an existing database")
    args = parser.parse_args(argv)
    url = database_url(args.target)
    prepare(url, args.force)
    counts = generate(url, args.cases, args.seed, args.years)
    for name, count in counts.items():
        print(f"{name:22} {count:>10,}")
    log("done")


if __name__ == "__main__":
    main()
