"""Decide the role of every human task of an imported model, or the questions to ask when a group is unknown.

A task's performer is read, first found first: candidate groups (also `potentialOwner` group(...)), the name of
the lane it sits in, the assignee, candidate users, then the `*` default. A name that is a role key is that
role; anything else must be mapped by the caller (`{"accounting": "service_manager"}`). Unmapped names become
questions, and the import produces nothing until they are answered.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn.import_lanes import effective_lane
from engine.bpmn.specs import BPMN_NS

DEFAULT_KEY = "*"
PERFORMER_ATTRIBUTES = ("candidateGroups", "assignee", "candidateUsers")
_EXPRESSION = re.compile(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", re.DOTALL)
_OWNER = re.compile(r"\b(user|group)\(([^)]*)\)")
_RESOURCE_ROLES = frozenset({"potentialOwner", "humanPerformer", "performer"})


@dataclass(frozen=True)
class RoleQuestion:
    """A group, user, lane or expression of the source model that needs a role before the import can finish."""

    key: str
    kind: str  # group, user, lane, expression or default
    element_ids: tuple[str, ...]
    why: str = ""

    def __str__(self) -> str:
        what = "tasks without a group, user or lane" if self.kind == "default" else f"{self.kind} {self.key!r}"
        reason = f" ({self.why})" if self.why else ""
        return f"{what} of {', '.join(self.element_ids)}: which role?{reason} (map {self.key}=ROLE)"


@dataclass(frozen=True)
class Performer:
    """Who a task named in the source model: the kind of name and the names, in the model's order."""

    kind: str
    names: tuple[str, ...]


def performer(task: Any, process: Any, vendor_namespaces: Collection[str]) -> Performer:
    """The first performer a task declares, in the order the module docstring gives."""
    values = {a: _attribute(task, a, vendor_namespaces) for a in PERFORMER_ATTRIBUTES}
    owners = _resource_owners(task)
    groups = _split(values["candidateGroups"]) + owners.get("group", [])
    lane = effective_lane(task, process)
    lane_name = (lane.get("name") or "").strip() if lane is not None else ""
    for kind, names in (
        ("group", groups),
        ("lane", [lane_name] if lane_name else []),
        ("user", _split(values["assignee"])),
        ("user", _split(values["candidateUsers"]) + owners.get("user", [])),
    ):
        if names:
            expression = any(_EXPRESSION.match(n) for n in names)
            return Performer("expression" if expression else kind, tuple(names))
    return Performer("default", (DEFAULT_KEY,))


def _attribute(task: Any, name: str, namespaces: Collection[str]) -> str:
    return next((str(task.get(f"{{{ns}}}{name}")) for ns in namespaces if task.get(f"{{{ns}}}{name}")), "")


def _split(text: str) -> list[str]:
    """Comma-separated names; one `${...}` expression stays whole."""
    if _EXPRESSION.match(text):
        return [text.strip()]
    return [n.strip() for n in text.split(",") if n.strip()]


def _resource_owners(task: Any) -> dict[str, list[str]]:
    """Names in standard `potentialOwner`/`humanPerformer` expressions: `user(kermit), group(management)` or a name."""
    found: dict[str, list[str]] = {}
    for role in task.iterchildren(etree.Element):
        if etree.QName(role).namespace != BPMN_NS or etree.QName(role).localname not in _RESOURCE_ROLES:
            continue
        for expression in role.iter(f"{{{BPMN_NS}}}formalExpression"):
            text = (expression.text or "").strip()
            pairs = _OWNER.findall(text)
            for kind, names in pairs or ([("group", text)] if text else []):
                found.setdefault(kind, []).extend(_split(names))
    return found


def lookup(name: str, roles: Collection[str], mapping: Mapping[str, str]) -> str | None:
    """The role a name stands for: itself when it is a role, else the mapping (also keyed without `${}`)."""
    if name in roles:
        return name
    inner = _EXPRESSION.match(name)
    for key in (name, inner.group(1) if inner else None):
        if key is not None and key in mapping:
            return mapping[key]
    return None


@dataclass
class RoleDecision:
    """Roles found for the tasks, what each came from, and the questions left."""

    roles: dict[str, str]  # task id -> role
    sources: dict[str, str]  # task id -> e.g. "candidate group 'accounting'"
    extra: dict[str, list[str]]  # task id -> other names that mapped to different roles (ignored)
    questions: list[RoleQuestion]


def decide_roles(
    tasks: list[tuple[Any, Performer]], roles: Collection[str], mapping: Mapping[str, str]
) -> RoleDecision:
    """Map each task's performer names to roles; unknown names and mappings to non-roles become questions."""
    decision = RoleDecision({}, {}, {}, [])
    asked: dict[tuple[str, str], list[str]] = {}
    bad_targets: dict[tuple[str, str], str] = {}
    for task, who in tasks:
        task_id = str(task.get("id"))
        found = [(name, lookup(name, roles, mapping)) for name in who.names]
        for name, role in found:
            if role is None or role not in roles:
                asked.setdefault((who.kind, name), []).append(task_id)
                if role is not None:
                    bad_targets[(who.kind, name)] = f"{role!r} is not a role"
        known = [(n, r) for n, r in found if r is not None and r in roles]
        if known and len(known) == len(found):
            decision.roles[task_id] = known[0][1]
            decision.sources[task_id] = f"{who.kind} {known[0][0]!r}"
            decision.extra[task_id] = [n for n, r in known[1:] if r != known[0][1]]
    decision.questions = [
        RoleQuestion(name, kind, tuple(ids), bad_targets.get((kind, name), "")) for (kind, name), ids in asked.items()
    ]
    return decision
