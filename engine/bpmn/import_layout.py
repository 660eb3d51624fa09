"""Draw the lanes an import added: stack them in the process's pool (a new pool when it had none), move each
node vertically into its role's band and re-draw the flows between bands as elbows.

Nodes keep their x and their places relative to the rest of their lane; diagram elements below a pool that grew
move down with it, so other pools never overlap.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn.specs import BPMN_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
Note = Callable[[Any, str, str], None]  # (element, severity, message)

_POOL_LABEL = 30  # the pool's name stripe on the left
_MARGIN = 40
_LANE_PAD = 30
_MIN_LANE = 125


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def bottom(self) -> float:
        return self.y + self.h


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _bounds_of(shape: Any) -> Any:
    return shape.find(f"{{{DC_NS}}}Bounds")


def box_of(bounds: Any) -> Box | None:
    try:
        return Box(*(float(bounds.get(k)) for k in ("x", "y", "width", "height")))
    except (TypeError, ValueError):
        return None


def _move(bounds: Any, dy: float) -> None:
    if bounds is not None and bounds.get("y") is not None:
        try:
            bounds.set("y", _fmt(float(bounds.get("y")) + dy))
        except ValueError:
            return


def unique_id(root: Any, wanted: str) -> str:
    taken = {str(v) for v in root.xpath("//@id")}
    candidates = itertools.chain([wanted], (f"{wanted}_{n}" for n in itertools.count(2)))
    return next(c for c in candidates if c not in taken)


# ---- the diagram -------------------------------------------------------------------------------------------


class Layout:
    """Moves one process's diagram into lanes inside its pool."""

    def __init__(self, root: Any, process: Any, note: Note) -> None:
        self.root = root
        self.process = process
        self.note = note
        self.index = {str(e.get("id")): e for e in root.iter(etree.Element) if e.get("id")}

    def run(self, lanes: list[tuple[str, list[Any]]]) -> None:
        found = self.plane()
        if found is None:
            self.note(self.process, "info", "the file has no diagram of this process: lanes were added without shapes")
            return
        plane, participant = found
        self.shapes = {s.get("bpmnElement"): s for s in plane.iterchildren(f"{{{BPMNDI_NS}}}BPMNShape")}
        own = {e.get("id") for e in self.process.iter(etree.Element) if e.get("id") in self.shapes}
        content = self.extent(own)
        if content is None:
            return
        pool_shape = self.pool_shape(plane, participant, content)
        pool = box_of(_bounds_of(pool_shape))
        assert pool is not None
        self.place(plane, pool_shape, pool, content, lanes)

    def plane(self) -> tuple[Any, Any] | None:
        """The plane showing this process and the process's participant (created when the plane shows the process)."""
        pid = self.process.get("id")
        for plane in self.root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
            shown = self.index.get(plane.get("bpmnElement", ""))
            if shown is self.process:
                return plane, self.wrap(plane)
            if shown is not None and _local(shown) == "collaboration":
                for participant in shown.iterchildren(_bpmn("participant")):
                    if participant.get("processRef") == pid:
                        return plane, participant
        return None

    def wrap(self, plane: Any) -> Any:
        """Put the process in a new pool of a new collaboration, which the plane then shows."""
        pid = self.process.get("id")
        collaboration = etree.Element(_bpmn("collaboration"), id=unique_id(self.root, f"{pid}_collaboration"))
        self.process.addprevious(collaboration)
        participant = etree.SubElement(
            collaboration,
            _bpmn("participant"),
            id=unique_id(self.root, f"{pid}_pool"),
            name=self.process.get("name") or pid,
            processRef=pid,
        )
        plane.set("bpmnElement", collaboration.get("id"))
        self.index[collaboration.get("id")] = collaboration
        self.index[participant.get("id")] = participant
        self.note(self.process, "info", "wrapped in a pool so that its lanes can be drawn")
        return participant

    def extent(self, ids: set[str]) -> Box | None:
        """Bounding box of these elements' shapes and labels."""
        boxes = [b for i in ids for b in self.boxes(self.shapes[i])]
        if not boxes:
            return None
        x, y = min(b.x for b in boxes), min(b.y for b in boxes)
        return Box(x, y, max(b.x + b.w for b in boxes) - x, max(b.bottom for b in boxes) - y)

    def boxes(self, shape: Any) -> list[Box]:
        found = [box_of(b) for b in shape.iter(f"{{{DC_NS}}}Bounds")]
        return [b for b in found if b is not None]

    def pool_shape(self, plane: Any, participant: Any, content: Box) -> Any:
        shape = self.shapes.get(participant.get("id"))
        if shape is not None and box_of(_bounds_of(shape)) is not None:
            return shape
        shape = etree.Element(
            f"{{{BPMNDI_NS}}}BPMNShape",
            id=unique_id(self.root, f"{participant.get('id')}_di"),
            bpmnElement=participant.get("id"),
            isHorizontal="true",
        )
        box = Box(content.x - _POOL_LABEL - _MARGIN, content.y - _MARGIN, 0, content.h + 2 * _MARGIN)
        box.w = content.x + content.w + _MARGIN - box.x
        etree.SubElement(shape, f"{{{DC_NS}}}Bounds", **_attrs(box))
        plane.insert(0, shape)
        return shape

    def place(self, plane: Any, pool_shape: Any, pool: Box, content: Box, lanes: list[tuple[str, list[Any]]]) -> None:
        """Stack the lanes in the pool, move each lane's elements into its band, grow the pool, push the rest."""
        dy: dict[str, float] = {}
        top = pool.y
        lane_boxes: list[tuple[str, Box]] = []
        right = max(pool.x + pool.w, content.x + content.w + _MARGIN)
        pool.x = min(pool.x, content.x - 2 * _POOL_LABEL - _MARGIN / 4)  # room for the lanes' name stripe
        width = right - pool.x
        for lane_id, drawn in lanes:
            ids = {e.get("id") for d in drawn for e in d.iter(etree.Element) if e.get("id") in self.shapes}
            band = self.extent(ids)
            height = max(_MIN_LANE, (band.h if band else 0) + 2 * _LANE_PAD)
            for element_id in ids:
                dy[element_id] = top + (height - band.h) / 2 - band.y if band else 0.0
            lane_boxes.append((lane_id, Box(pool.x + _POOL_LABEL, top, width - _POOL_LABEL, height)))
            top += height
        grow = top - pool.bottom
        for shape_id, shape in self.shapes.items():
            if shape_id not in dy and shape is not pool_shape:
                box = box_of(_bounds_of(shape))
                dy[shape_id] = grow if box is not None and box.y >= pool.bottom - 1 else 0.0
        _set_box(_bounds_of(pool_shape), Box(pool.x, pool.y, width, top - pool.y))
        for shape_id, shape in self.shapes.items():
            for bounds in shape.iter(f"{{{DC_NS}}}Bounds"):
                if shape is not pool_shape:
                    _move(bounds, dy.get(shape_id, 0.0))
        for edge in plane.iterchildren(f"{{{BPMNDI_NS}}}BPMNEdge"):
            self.move_edge(edge, dy)
        at = list(plane).index(pool_shape) + 1
        for offset, (lane_id, box) in enumerate(lane_boxes):
            lane_shape = etree.Element(
                f"{{{BPMNDI_NS}}}BPMNShape",
                id=unique_id(self.root, f"{lane_id}_di"),
                bpmnElement=lane_id,
                isHorizontal="true",
            )
            etree.SubElement(lane_shape, f"{{{DC_NS}}}Bounds", **_attrs(box))
            plane.insert(at + offset, lane_shape)

    def anchor(self, ref: str | None) -> str | None:
        """The nearest element with a shape at or above a semantic id (a data input sits inside its task)."""
        el = self.index.get(ref or "")
        while el is not None and el.get("id") not in self.shapes:
            el = el.getparent()
        return None if el is None else str(el.get("id"))

    def ends(self, edge: Any) -> tuple[str | None, str | None]:
        semantic = self.index.get(edge.get("bpmnElement", ""))
        if semantic is None:
            return None, None
        source = semantic.get("sourceRef") or semantic.findtext(_bpmn("sourceRef"))
        target = semantic.get("targetRef") or semantic.findtext(_bpmn("targetRef"))
        owner = self.anchor(semantic.get("id"))
        return self.anchor(source) or owner, self.anchor(target) or owner

    def move_edge(self, edge: Any, dy: Mapping[str, float]) -> None:
        source, target = self.ends(edge)
        dy_source, dy_target = dy.get(source or "", 0.0), dy.get(target or "", 0.0)
        points = edge.findall(f"{{{DI_NS}}}waypoint")
        label = edge.find(f"{{{BPMNDI_NS}}}BPMNLabel")
        if label is not None:
            _move(_bounds_of(label), dy_source)
        if dy_source == dy_target or len(points) < 2:
            for point in points:
                _move(point, dy_source)
            return
        try:
            xy = [(float(p.get("x")), float(p.get("y"))) for p in points]
        except (TypeError, ValueError):
            return
        route = _elbow(xy, dy_source, dy_target)
        for point in points[1:-1]:
            edge.remove(point)
        _set_point(points[0], route[0])
        for x, y in route[1:-1]:
            points[-1].addprevious(etree.Element(f"{{{DI_NS}}}waypoint", x=_fmt(x), y=_fmt(y)))
        _set_point(points[-1], route[-1])


def _elbow(xy: list[tuple[float, float]], dy_source: float, dy_target: float) -> list[tuple[float, float]]:
    """A new orthogonal route between the moved ends, leaving and entering each end the way the old route did."""
    (x0, y0), (xn, yn) = (xy[0][0], xy[0][1] + dy_source), (xy[-1][0], xy[-1][1] + dy_target)
    leaves_vertically = abs(xy[0][0] - xy[1][0]) < 1
    enters_vertically = abs(xy[-1][0] - xy[-2][0]) < 1
    if abs(x0 - xn) < 1 or abs(y0 - yn) < 1:
        return [(x0, y0), (xn, yn)]
    if leaves_vertically and enters_vertically:
        middle = (y0 + yn) / 2
        return [(x0, y0), (x0, middle), (xn, middle), (xn, yn)]
    if leaves_vertically:
        return [(x0, y0), (x0, yn), (xn, yn)]
    if enters_vertically:
        return [(x0, y0), (xn, y0), (xn, yn)]
    middle = (x0 + xn) / 2
    return [(x0, y0), (middle, y0), (middle, yn), (xn, yn)]


def _attrs(box: Box) -> dict[str, str]:
    return {"x": _fmt(box.x), "y": _fmt(box.y), "width": _fmt(box.w), "height": _fmt(box.h)}


def _set_box(bounds: Any, box: Box) -> None:
    for key, value in _attrs(box).items():
        bounds.set(key, value)


def _set_point(point: Any, xy: tuple[float, float]) -> None:
    point.set("x", _fmt(xy[0]))
    point.set("y", _fmt(xy[1]))
