"""What the deploy lint knows about BPMN elements: which ones run, which hold model code, which the engine cannot
run, and helpers to name the element a problem belongs to and the lane a node sits in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn.sandbox import Mode
from engine.bpmn.specs import BPMN_NS

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

_SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
_RUNNABLE = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
    }
)
_NOT_FLOW = frozenset(
    {
        "sequenceFlow",
        "laneSet",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "textAnnotation",
        "association",
        "group",
        "documentation",
        "extensionElements",
        "ioSpecification",
        "property",
        "auditing",
        "monitoring",
        "correlationSubscription",
        "supports",
        "dataInputAssociation",
        "dataOutputAssociation",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "incoming",
        "outgoing",
        "completionCondition",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "resourceRole",
        "ioBinding",
    }
)
_UNSUPPORTED = {
    "complexGateway": "complex gateways are not supported by the engine",
    "transaction": "transactions (cancel/compensation semantics) are not supported by the engine",
    "adHocSubProcess": "ad-hoc subprocesses are not supported by this product",
    "compensateEventDefinition": "compensation events are not supported (the engine ignores them)",
    "linkEventDefinition": "link events are not supported (the engine ignores them)",
    "cancelEventDefinition": "cancel events need transactions, which are not supported",
    "eventDefinitionRef": "referenced event definitions are not supported: define the event inline",
}
# Elements whose text is model code: (mode, what the message calls it).
_CODE_TAGS: dict[str, tuple[Mode, str]] = {
    f"{{{BPMN_NS}}}conditionExpression": ("eval", "condition"),
    f"{{{BPMN_NS}}}condition": ("eval", "event condition"),
    f"{{{BPMN_NS}}}loopCardinality": ("eval", "loop cardinality"),
    f"{{{BPMN_NS}}}completionCondition": ("eval", "completion condition"),
    f"{{{BPMN_NS}}}loopCondition": ("eval", "loop condition"),
    # bpmn-js writes retrieval expressions as formalExpression; SpiffWorkflow's validator renames them first.
    f"{{{BPMN_NS}}}messagePath": ("eval", "correlation expression"),
    f"{{{SPIFF_NS}}}preScript": ("exec", "pre-script"),
    f"{{{SPIFF_NS}}}postScript": ("exec", "post-script"),
    f"{{{SPIFF_NS}}}messagePayload": ("eval", "message payload"),
}
# Elements whose parser keeps spiffworkflow:preScript/postScript; everywhere else SpiffWorkflow drops them.
_RUNS_PRE_POST = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "sendTask",
        "receiveTask",
    }
)
_TIMER_TAGS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
# Elements that may carry an id but are not what a modeler would look for: report their owner instead.
_OWNERLESS = frozenset(
    {
        "conditionExpression",
        "formalExpression",
        "messagePath",
        "condition",
        "script",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "text",
        "inputExpression",
        "loopCardinality",
        "completionCondition",
        "loopCondition",
    }
)

_ISO = r"(P(?=[\dT.,]*\d)[\dYMWDTHS.,]+|\d{4}-\d\d-\d\d[\dT:.,Z+\-]*)"
_UNQUOTED_ISO = re.compile(rf"^(R\d*/)?{_ISO}(/{_ISO})?$")


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def _is_owner(node: Any) -> bool:
    """Whether a problem inside this element should be reported under its id."""
    tag = _local(node)
    return (
        bool(node.get("id"))
        and etree.QName(node).namespace != SPIFF_NS
        and not (tag in _OWNERLESS or tag.endswith(("EventDefinition", "LoopCharacteristics")))
    )


def _owner_id(el: Any) -> str | None:
    """Id of the BPMN/DMN element a problem belongs to: the element itself or its nearest owning ancestor."""
    node = el
    while node is not None and not _is_owner(node):
        node = node.getparent()
    return None if node is None else str(node.get("id"))


def _text(el: Any) -> str:
    return str(el.text or "")


def _is_executable(process: Any) -> bool:
    """SpiffWorkflow's rule: a missing isExecutable counts as true, anything but 'true' as false."""
    return bool(process.get("isExecutable", "true") == "true")


def _timer_value_problem(kind: str, value: str) -> str | None:
    """Why a constant timer value is not what the engine accepts for this kind, or None."""
    try:
        if kind == "duration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            if not parsed:
                raise ValueError("empty duration")
            if _beyond_dates(parsed):
                return f"timer duration {value!r} ends beyond the last date a timer can hold: shorten it"
        elif kind == "cycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
            raise ValueError("a duration is not a date")
        elif datetime.fromisoformat(value).tzinfo is None:
            return f"timer date {value!r} has no UTC offset: add one (e.g. '+08:00' or 'Z')"
    except Exception:  # the engine's parsers raise bare Exception, AttributeError, ValueError...
        example = {"duration": "PT1H", "cycle": "R3/PT10M", "date": "2030-01-31T09:00:00+08:00"}[kind]
        return f'timer value {value!r} is not a valid ISO-8601 {kind} (e.g. "{example}")'
    return None


def _beyond_dates(parsed: dict[str, Any]) -> bool:
    """Whether a parsed duration, started now, ends past year 9999 (the engine would fail when the timer starts)."""
    try:
        datetime.now(UTC) + TimerEventDefinition.get_timedelta_from_start(parsed)
    except (OverflowError, ValueError):
        return True
    return False


def _lane_index(tree: Any) -> dict[str, Any]:
    """Flow node id -> lane element, last flowNodeRef winning as in SpiffWorkflow's index."""
    lanes: dict[str, Any] = {}
    for ref in tree.getroot().iterfind(".//bpmn:flowNodeRef", NS):
        if ref.text:
            lanes[ref.text.strip()] = ref.getparent()
    return lanes


def _effective_lane(node: Any, lanes: Mapping[str, Any]) -> Any:
    """The lane SpiffWorkflow gives a node: the outermost enclosing subprocess's lane, else its own."""
    chain = [a for a in node.iterancestors() if _local(a) in _SCOPES - {"process"}][::-1] + [node]
    for element in chain:
        lane = lanes.get(element.get("id", ""))
        if lane is not None:
            return lane
    return None
