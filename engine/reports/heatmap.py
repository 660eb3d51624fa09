"""Process heatmap and the element catalog behind every monitoring diagram.

The catalog (element names, kinds, lanes and call targets of a deployed version) is read from the version's BPMN
trees once per bundle hash. The heatmap counts, per element of one process version, the unfinished instances waiting
there (`process_instance.active_elements`) and the open inbox rows, and the average and 95th-percentile time spent at
each user task (`human_task.created_at → completed_at`), all aggregated in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.specs import ParsedBundle
from engine.errors import NotFoundError
from engine.platform.definitions import parsed_bundle
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
STEP_KINDS = frozenset(
    {"userTask", "manualTask", "receiveTask", "intermediateCatchEvent", "serviceTask", "scriptTask", "sendTask"}
    | {"businessRuleTask", "task"}
)
FLOW_NODE_KINDS = STEP_KINDS | {"callActivity", "subProcess", "startEvent", "endEvent", "boundaryEvent"}
UNFINISHED = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)
LEVELS = 4


@dataclass(frozen=True)
class ElementInfo:
    """One BPMN flow node: where it is, what it is called and which lane it sits in."""

    process_id: str
    bpmn_id: str
    name: str
    kind: str
    lane: str
    called: str = ""  # a call activity's called process id


_CATALOGS: dict[str, dict[str, dict[str, ElementInfo]]] = {}


def element_catalog(session: Session, version: ProcessVersion) -> dict[str, dict[str, ElementInfo]]:
    """process id → element id → ElementInfo for every process in the version's bundle (cached by bundle hash)."""
    cached = _CATALOGS.get(version.bundle_sha256)
    if cached is None:
        cached = _build_catalog(parsed_bundle(session, version))
        if len(_CATALOGS) > 64:
            _CATALOGS.pop(next(iter(_CATALOGS)))
        _CATALOGS[version.bundle_sha256] = cached
    return cached


def _build_catalog(bundle: ParsedBundle) -> dict[str, dict[str, ElementInfo]]:
    catalog: dict[str, dict[str, ElementInfo]] = {}
    for tree in bundle.trees.values():
        for process in tree.getroot().iterfind(f"{{{BPMN_NS}}}process"):
            pid = process.get("id") or ""
            lanes = {
                ref.text.strip(): lane.get("name") or lane.get("id") or ""
                for lane in process.iter(f"{{{BPMN_NS}}}lane")
                for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef")
                if ref.text
            }
            nodes: dict[str, ElementInfo] = {}
            for node in process.iter():
                kind = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""
                bpmn_id = node.get("id")
                if kind in FLOW_NODE_KINDS and bpmn_id:
                    name = " ".join((node.get("name") or bpmn_id).split())
                    called = node.get("calledElement") or "" if kind == "callActivity" else ""
                    nodes[bpmn_id] = ElementInfo(pid, bpmn_id, name, kind, lanes.get(bpmn_id, ""), called)
            catalog[pid] = nodes
    return catalog


def called_processes(catalog: Mapping[str, Mapping[str, ElementInfo]], process_id: str) -> list[str]:
    """The process and, depth first, every process its call activities call (each once)."""
    order: list[str] = []
    stack = [process_id]
    while stack:
        pid = stack.pop()
        if pid in order or pid not in catalog:
            continue
        order.append(pid)
        calls = [e.called for e in catalog[pid].values() if e.called in catalog]
        stack.extend(reversed([c for c in calls if c not in order]))
    return order


def find_element(catalog: Mapping[str, Mapping[str, ElementInfo]], bpmn_id: str | None) -> ElementInfo | None:
    """The element with that id in any process of the catalog."""
    if bpmn_id is None:
        return None
    for nodes in catalog.values():
        if bpmn_id in nodes:
            return nodes[bpmn_id]
    return None


def current_steps(catalog: Mapping[str, Mapping[str, ElementInfo]], active: list[str]) -> list[ElementInfo]:
    """The active elements a person would call "the current step": tasks and catch events, not containers."""
    steps: list[ElementInfo] = []
    for bpmn_id in active or []:
        info = find_element(catalog, bpmn_id)
        if info is not None and info.kind in STEP_KINDS:
            steps.append(info)
    return steps


def process_diagrams(catalog: Mapping[str, Mapping[str, ElementInfo]], version: ProcessVersion) -> list[dict[str, str]]:
    """The diagrams of a version: its process first, then every process it calls, each with its display name."""
    return [
        {"process_id": pid, "name": process_name(catalog, pid, version)}
        for pid in called_processes(catalog, version.process_id)
    ]


def process_name(catalog: Mapping[str, Mapping[str, ElementInfo]], pid: str, version: ProcessVersion) -> str:
    """A process's display name: the version's name for its own process, the calling activity's name otherwise."""
    if pid == version.process_id:
        return version.name or pid
    for nodes in catalog.values():
        for info in nodes.values():
            if info.called == pid:
                return info.name
    return pid


# --- the heatmap -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    """Load of one element: instances waiting there now, open tasks, and time spent by completed tasks."""

    process_id: str
    bpmn_id: str
    name: str
    kind: str
    lane: str
    waiting: int
    open_tasks: int
    completed: int
    avg_seconds: float | None
    p95_seconds: float | None
    level: int  # 0 (idle) … LEVELS (the busiest element)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Heatmap:
    """The heatmap of one process version."""

    version: ProcessVersion
    diagrams: list[dict[str, str]]
    cells: list[HeatCell]
    unfinished: int


def resolve_version(session: Session, process_id: str, version: int | None) -> ProcessVersion:
    """That version of the process, or its newest one.

    :raises NotFoundError: no such process or version.
    """
    query = sa.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
    if version is not None:
        query = query.where(ProcessVersion.version == version)
    found = session.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()
    if found is None:
        raise NotFoundError(
            f"process {process_id!r} has no version {version}" if version else f"no process {process_id!r}"
        )
    return found


def heatmap(session: Session, version: ProcessVersion) -> Heatmap:
    """Per element of the version: waiting instances, open tasks, completed tasks with average and p95 duration."""
    catalog = element_catalog(session, version)
    waiting = _waiting(session, version.id)
    open_counts = _open_tasks(session, version.id)
    durations = _durations(session, version.id)
    shown = [
        info
        for pid in called_processes(catalog, version.process_id)
        for info in catalog[pid].values()
        if info.kind in STEP_KINDS or info.kind == "callActivity"
    ]
    # the load scale is set by the steps; a call activity (the sum of the steps inside it) is capped at the top
    busiest = max((waiting.get(i.bpmn_id, 0) for i in shown if i.kind in STEP_KINDS), default=0)
    cells: list[HeatCell] = []
    for info in shown:
        count, avg, p95 = durations.get(info.bpmn_id, (0, None, None))
        here = waiting.get(info.bpmn_id, 0)
        level = min(LEVELS, -(-here * LEVELS // busiest)) if here and busiest else 0
        cells.append(
            HeatCell(
                info.process_id,
                info.bpmn_id,
                info.name,
                info.kind,
                info.lane,
                here,
                open_counts.get(info.bpmn_id, 0),
                count,
                avg,
                p95,
                level,
            )
        )
    unfinished_query = sa.select(sa.func.count()).where(
        ProcessInstance.process_version_id + 0 == version.id, ProcessInstance.status.in_(UNFINISHED)
    )
    return Heatmap(
        version=version,
        diagrams=process_diagrams(catalog, version),
        cells=cells,
        unfinished=int(session.scalar(unfinished_query) or 0),
    )


def _waiting(session: Session, version_id: int) -> dict[str, int]:
    """Element id → unfinished instances with that element active (JSON array unnested in SQL)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    unnest = sa.func.json_each if sqlite else sa.func.json_array_elements_text
    elements = unnest(ProcessInstance.active_elements).table_valued("value")
    query = (
        sa.select(elements.c.value, sa.func.count())
        .select_from(ProcessInstance)
        .join(elements, sa.true())
        # "+ 0": the few unfinished instances are found by the status index, not among the version's whole history
        .where(ProcessInstance.process_version_id + 0 == version_id, ProcessInstance.status.in_(UNFINISHED))
        .group_by(elements.c.value)
    )
    return {str(bpmn_id): int(count) for bpmn_id, count in session.execute(query)}


def _open_tasks(session: Session, version_id: int) -> dict[str, int]:
    query = (
        sa.select(HumanTask.bpmn_id, sa.func.count())
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.status == TaskStatus.OPEN.value, ProcessInstance.process_version_id == version_id)
        .group_by(HumanTask.bpmn_id)
    )
    return {bpmn_id: int(count) for bpmn_id, count in session.execute(query)}


Durations = dict[str, tuple[int, float | None, float | None]]
DURATIONS_TTL = 300.0  # seconds: history over hundreds of thousands of tasks moves slowly; waiting counts stay live
_DURATIONS: dict[tuple[str, int], tuple[float, Durations]] = {}


def _durations(session: Session, version_id: int) -> Durations:
    """Element id → (completed tasks, average seconds, p95 seconds), cached per database and version for a while."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), version_id)
    cached = _DURATIONS.get(key)
    if cached is not None and time.monotonic() - cached[0] < DURATIONS_TTL:
        return cached[1]
    if len(_DURATIONS) > 256:
        _DURATIONS.clear()
    found = _query_durations(session, version_id)
    _DURATIONS[key] = (time.monotonic(), found)
    return found


def _query_durations(session: Session, version_id: int) -> Durations:
    """Element id → (completed tasks, average seconds, 95th percentile seconds by nearest rank), in one statement."""
    if session.get_bind().dialect.name == "sqlite":
        seconds: Any = (sa.func.julianday(HumanTask.completed_at) - sa.func.julianday(HumanTask.created_at)) * 86400.0
    else:
        seconds = sa.extract("epoch", HumanTask.completed_at - HumanTask.created_at)
    of_version = sa.select(ProcessInstance.id).where(ProcessInstance.process_version_id == version_id)
    spent = (
        sa.select(HumanTask.bpmn_id.label("bpmn_id"), seconds.label("s"))
        .where(
            HumanTask.status == TaskStatus.COMPLETED.value,
            HumanTask.completed_at.is_not(None),
            HumanTask.instance_id.in_(of_version),  # ids from the version index; instance rows are never read
        )
        .subquery()
    )
    ranked = sa.select(
        spent.c.bpmn_id,
        spent.c.s,
        sa.func.row_number().over(partition_by=spent.c.bpmn_id, order_by=spent.c.s).label("rn"),
        sa.func.count().over(partition_by=spent.c.bpmn_id).label("n"),
    ).subquery()
    p95 = sa.func.min(sa.case((ranked.c.rn * 100 >= ranked.c.n * 95, ranked.c.s)))
    query = sa.select(ranked.c.bpmn_id, sa.func.count(), sa.func.avg(ranked.c.s), p95).group_by(ranked.c.bpmn_id)
    return {bpmn_id: (int(count), _float(avg), _float(high)) for bpmn_id, count, avg, high in session.execute(query)}


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
