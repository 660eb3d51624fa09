"""Give every human task of an imported process a lane named after its role.

Existing lanes are renamed when each one holds tasks of a single role. Otherwise the process gets one lane per
role (the human tasks' roles; every other node joins the lane of its nearest task along the flows) and the
lanes are drawn by `import_layout`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn.import_layout import DC_NS
from engine.bpmn.import_layout import Layout
from engine.bpmn.import_layout import Note
from engine.bpmn.import_layout import box_of
from engine.bpmn.import_layout import unique_id
from engine.bpmn.specs import BPMN_NS

_ACTIVITIES = frozenset({"task", "subProcess", "callActivity", "transaction", "adHocSubProcess"})
_ARTIFACTS = frozenset({"textAnnotation", "dataObjectReference", "dataStoreReference", "group"})
# Children of a process that come before its lane sets (BPMN XSD order).
_BEFORE_LANES = frozenset(
    {"documentation", "extensionElements", "supportedInterfaceRef", "ioSpecification", "ioBinding"}
    | {"auditing", "monitoring", "property", "laneSet"}
)


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def is_flow_node(el: Any) -> bool:
    """Events, activities and gateways: what a lane may reference."""
    if etree.QName(el).namespace != BPMN_NS:
        return False
    tag = _local(el)
    return tag in _ACTIVITIES or tag.endswith(("Event", "Task", "Gateway"))


# ---- which lane each task belongs to ------------------------------------------------------------------------


def _lane_index(process: Any) -> dict[str, Any]:
    """Flow node id -> lane, the last flowNodeRef winning as in SpiffWorkflow (and the deploy lint)."""
    lanes: dict[str, Any] = {}
    for ref in process.iter(_bpmn("flowNodeRef")):
        if ref.text:
            lanes[ref.text.strip()] = ref.getparent()
    return lanes


def effective_lane(task: Any, process: Any) -> Any:
    """The lane the engine gives a task: its outermost enclosing subprocess's lane, else its own."""
    lanes = _lane_index(process)
    chain = [a for a in task.iterancestors() if a is not process and is_flow_node(a)]
    for element in [*chain[::-1], task]:
        lane = lanes.get(element.get("id", ""))
        if lane is not None:
            return lane
    return None


def _top_level(el: Any, process: Any) -> Any:
    node = el
    while node.getparent() is not process:
        node = node.getparent()
    return node


def assign_lanes(root: Any, process: Any, role_of: Mapping[str, str], note: Note) -> None:
    """Put each human task of the process (ids in `role_of`) in a lane named after its role."""
    tasks = [t for t in process.iter(_bpmn("userTask"), _bpmn("manualTask")) if t.get("id") in role_of]
    if not tasks or _rename_lanes(process, tasks, role_of, note):
        return
    if process.find(_bpmn("laneSet")) is not None:
        note(process, "warning", "its lanes did not match one role each: they were replaced by one lane per role")
    _rebuild_lanes(root, process, tasks, role_of, note)


def _rename_lanes(process: Any, tasks: list[Any], role_of: Mapping[str, str], note: Note) -> bool:
    """Rename each existing lane to the one role of its tasks; False when some task has no lane or roles mix."""
    lane_roles: dict[Any, set[str]] = {}
    for task in tasks:
        lane = effective_lane(task, process)
        if lane is None:
            return False
        lane_roles.setdefault(lane, set()).add(role_of[task.get("id")])
    if any(len(found) > 1 for found in lane_roles.values()):
        return False
    for lane, found in lane_roles.items():
        role = next(iter(found))
        if lane.get("name") != role:
            note(lane, "info", f"lane {lane.get('name') or lane.get('id')!r} renamed to the role {role!r}")
            lane.set("name", role)
    return True


def _rebuild_lanes(root: Any, process: Any, tasks: list[Any], role_of: Mapping[str, str], note: Note) -> None:
    members = _members(process, tasks, role_of, note)
    order = _role_order(root, process, members)
    for lane_set in process.findall(_bpmn("laneSet")):
        for lane in lane_set.iter(_bpmn("lane")):
            for shape in root.xpath("//*[@bpmnElement=$id]", id=lane.get("id", "")):
                shape.getparent().remove(shape)
        process.remove(lane_set)
    lane_set = etree.Element(_bpmn("laneSet"), id=unique_id(root, f"{process.get('id')}_lanes"))
    lane_ids: dict[str, str] = {}
    for role in order:
        lane_ids[role] = unique_id(root, f"{process.get('id')}_{role}_lane")
        lane = etree.SubElement(lane_set, _bpmn("lane"), id=lane_ids[role], name=role)
        for node_id in members[role].refs:
            etree.SubElement(lane, _bpmn("flowNodeRef")).text = node_id
    position = next(
        (i for i, child in enumerate(process) if not isinstance(child.tag, str) or _local(child) not in _BEFORE_LANES),
        len(process),
    )
    process.insert(position, lane_set)
    note(process, "info", "lanes added, one per role: " + ", ".join(order))
    Layout(root, process, note).run([(lane_ids[r], members[r].drawn) for r in order])


@dataclass
class _Lane:
    refs: list[str]  # flow node ids referenced by the lane (what decides the engine's role)
    drawn: list[Any]  # top-level elements drawn in the lane's band


def _members(process: Any, tasks: list[Any], role_of: Mapping[str, str], note: Note) -> dict[str, _Lane]:
    """Role -> the lane's references and the elements drawn in its band."""
    roles_at: dict[Any, list[str]] = {}
    for task in tasks:
        roles_at.setdefault(_top_level(task, process), []).append(role_of[task.get("id")])
    lanes: dict[str, _Lane] = {}
    placed: dict[str, str] = {}
    for top, found in roles_at.items():
        distinct = list(dict.fromkeys(found))
        placed[top.get("id")] = distinct[0]
        lanes.setdefault(distinct[0], _Lane([], [])).drawn.append(top)
        if len(distinct) == 1:
            lanes[distinct[0]].refs.append(top.get("id"))
            continue
        note(top, "warning", f"holds tasks of several roles ({', '.join(distinct)}): each task got its own lane")
        for task in tasks:
            if _top_level(task, process) is top:
                lanes.setdefault(role_of[task.get("id")], _Lane([], [])).refs.append(task.get("id"))
    for node, role in _nearest_roles(process, placed).items():
        lanes[role].refs.append(node.get("id"))
        lanes[role].drawn.append(node)
        placed[node.get("id")] = role
    for artifact in (c for c in process if isinstance(c.tag, str) and _local(c) in _ARTIFACTS):
        role = _artifact_role(process, artifact, placed) or next(iter(lanes))
        lanes[role].drawn.append(artifact)
    return lanes


def _nearest_roles(process: Any, placed: dict[str, str]) -> dict[Any, str]:
    """Every other top-level flow node -> the role of the nearest placed node along the flows (hosts first)."""
    nodes = [c for c in process if isinstance(c.tag, str) and is_flow_node(c) and c.get("id")]
    neighbours: dict[str, list[str]] = {n.get("id"): [] for n in nodes}
    for flow in process.iterchildren(_bpmn("sequenceFlow")):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source in neighbours and target in neighbours:
            neighbours[target].insert(0, source)  # predecessors are searched first
            neighbours[source].append(target)
    for node in nodes:
        host = node.get("attachedToRef")
        if host in neighbours:
            neighbours[node.get("id")].insert(0, host)
    fallback = next(iter(placed.values()))
    found: dict[Any, str] = {}
    for node in nodes:
        if node.get("id") not in placed:
            found[node] = _search(node.get("id"), neighbours, placed) or fallback
    return found


def _search(start: str, neighbours: Mapping[str, list[str]], placed: Mapping[str, str]) -> str | None:
    queue, seen = deque([start]), {start}
    while queue:
        current = queue.popleft()
        if current in placed:
            return placed[current]
        for nxt in neighbours.get(current, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return None


def _artifact_role(process: Any, artifact: Any, placed: Mapping[str, str]) -> str | None:
    artifact_id = str(artifact.get("id"))
    for link in process.iter(_bpmn("association")):
        ends = [str(link.get("sourceRef")), str(link.get("targetRef"))]
        if artifact_id in ends:
            other = ends[1] if ends[0] == artifact_id else ends[0]
            if other in placed:
                return placed[other]
    return None


def _role_order(root: Any, process: Any, members: Mapping[str, _Lane]) -> list[str]:
    """Roles left to right by their leftmost task in the diagram (document order without a diagram)."""
    xs: dict[str, float] = {}
    for role, lane in members.items():
        for el in lane.drawn:
            for shape in root.xpath("//*[local-name()='BPMNShape'][@bpmnElement=$id]", id=el.get("id", "")):
                box = box_of(shape.find(f"{{{DC_NS}}}Bounds"))
                if box is not None:
                    xs[role] = min(xs.get(role, box.x), box.x)
    first = list(members)
    return sorted(members, key=lambda r: (xs.get(r, float("inf")), first.index(r)))
