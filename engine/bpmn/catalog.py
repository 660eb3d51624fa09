"""What a model may bind to, as plain declarations: operators and their parameters, element properties, roles and
the bindings an application requires of its processes.

The platform fills a Catalog from its registry (engine/platform/registry.py); the deploy lint checks every model
against it, so an unknown operator, a missing parameter, a form without the fields an operator reads or a process
that lost a step the regulation needs is refused with file:line before anything runs (DESIGN.md "The model is the
truth").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType


@dataclass(frozen=True)
class Param:
    """One parameter of an operator; its value in the model is a sandboxed expression over the task data."""

    name: str
    type: str = "any"
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class OperatorSpec:
    """An operator a service task calls, or a user task runs when it completes (with the submitted form)."""

    name: str
    params: tuple[Param, ...] | None = ()  # None: parameters not declared (any accepted)
    form_fields: tuple[str, ...] = ()  # fields of the submitted form it reads; the task's form must require them
    user_task_only: bool = False  # it reads a submitted form, so only a user task can declare it
    section: str = ""  # the regulation section it implements, e.g. "§4.4"
    doc: str = ""  # what it writes into the records, shown in the designer

    def param(self, name: str) -> Param | None:
        """The parameter called `name`, if declared."""
        return next((p for p in self.params or () if p.name == name), None)


@dataclass(frozen=True)
class PropertySpec:
    """A `spiffworkflow:property` the platform or an application gives meaning to."""

    name: str
    values: tuple[str, ...] | None = None  # allowed values; None: free text
    expression: bool = False  # the value is a sandboxed expression over the task data
    projected: bool = False  # live elements' values are reported after every step (e.g. a case status)
    doc: str = ""


@dataclass(frozen=True)
class BindingSpec:
    """What an application requires of a process it starts or wakes; a deploy that breaks it is refused by name."""

    name: str
    process_id: str
    section: str
    reason: str
    operators: tuple[str, ...] = ()  # each must be called somewhere in the process or the processes it calls
    messages: tuple[str, ...] = ()  # each must be caught somewhere in the process or the processes it calls


@dataclass(frozen=True)
class Catalog:
    """Everything the lint checks a model against; empty parts allow nothing (roles) or require nothing (bindings)."""

    roles: frozenset[str] = frozenset()
    operators: Mapping[str, OperatorSpec] = field(default_factory=lambda: MappingProxyType({}))
    properties: Mapping[str, PropertySpec] = field(default_factory=lambda: MappingProxyType({}))
    bindings: tuple[BindingSpec, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        roles: frozenset[str] | set[str] = frozenset(),
        operators: list[OperatorSpec] | tuple[OperatorSpec, ...] = (),
        properties: list[PropertySpec] | tuple[PropertySpec, ...] = (),
        bindings: list[BindingSpec] | tuple[BindingSpec, ...] = (),
    ) -> Catalog:
        """Build a catalog from lists of declarations."""
        return cls(
            roles=frozenset(roles),
            operators=MappingProxyType({o.name: o for o in operators}),
            properties=MappingProxyType({p.name: p for p in properties}),
            bindings=tuple(bindings),
        )
