"""The registry of what models bind to: operators with their functions, element properties, the bindings an
application requires and the hooks that run after each engine step.

Applications fill it once at bootstrap (engine/bootstrap.py); its Catalog is what the deploy lint checks, and its
`dispatch` is the only way model code reaches Python. Nothing is looked up by a task's BPMN id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import InvalidOperation
from typing import Any

from sqlalchemy.exc import DataError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from engine.bpmn.catalog import BindingSpec
from engine.bpmn.catalog import Catalog
from engine.bpmn.catalog import OperatorSpec
from engine.bpmn.catalog import Param
from engine.bpmn.catalog import PropertySpec
from engine.bpmn.runtime import BUSINESS_KEY_PROPERTY
from engine.bpmn.runtime import Snapshot
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.context import StepContext
from engine.platform.context import current_step
from engine.records.process import ProcessInstance

BUSINESS_KEY = PropertySpec(
    BUSINESS_KEY_PROPERTY,
    expression=True,
    doc="On a start event: expression over the start data naming the instance for people (e.g. an order number).",
)
ASSIGNEE = PropertySpec(
    "assignee",
    expression=True,
    doc="Expression over the task data giving the username the new task is assigned to (e.g. `engineer`).",
)


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """What an operator runs with: the engine step (session, actor, instance, case) and, on a user task, the form."""

    step: StepContext
    form: Mapping[str, Any]

    @property
    def session(self) -> Session:
        """The step's session (the operator's writes commit with the step)."""
        return self.step.session

    @property
    def actor(self) -> str:
        """Who completed the task, or `system` for timers and service tasks after them."""
        return self.step.actor


@dataclass(frozen=True)
class Termination:
    """An instance ended by a person (monitoring, or a case withdrawn): the applications bring their records along.

    `cascade_from` is the parent instance whose termination ended this one; `runtime` and `calendar` let a hook wake
    another instance (e.g. the case a terminated visit round was holding)."""

    session: Session
    runtime: Any
    instance: ProcessInstance
    actor: str
    reason: str
    cascade_from: int | None
    calendar: Callable[[], Any]


OperatorFn = Callable[..., Mapping[str, Any] | None]
StepHook = Callable[[Session, ProcessInstance, Snapshot], None]
TerminationHook = Callable[[Termination], None]
Job = Callable[[Session, datetime], object]


@dataclass(frozen=True)
class Operator:
    """A declared operator and the function that runs it: `fn(call, **params)` returns ids and flags for the data."""

    spec: OperatorSpec
    fn: OperatorFn


class Registry:
    """Operators, properties, bindings and step hooks of the platform and its applications."""

    def __init__(self, roles: Iterable[str]) -> None:
        self._roles = frozenset(roles)
        self._operators: dict[str, Operator] = {}
        self._properties: dict[str, PropertySpec] = {ASSIGNEE.name: ASSIGNEE, BUSINESS_KEY.name: BUSINESS_KEY}
        self._bindings: list[BindingSpec] = []
        self._hooks: list[StepHook] = []
        self._termination_hooks: list[TerminationHook] = []
        self._own_starts: dict[str, str] = {}
        self._jobs: list[Job] = []
        self._catalog: Catalog | None = None

    def operator(
        self,
        name: str,
        *,
        params: tuple[Param, ...] = (),
        form_fields: tuple[str, ...] = (),
        user_task_only: bool = False,
        section: str = "",
        doc: str = "",
    ) -> Callable[[OperatorFn], OperatorFn]:
        """Decorator registering `fn(call, **params)` as operator `name` with its declared parameters."""

        def register(fn: OperatorFn) -> OperatorFn:
            spec = OperatorSpec(
                name=name,
                params=params,
                form_fields=form_fields,
                user_task_only=user_task_only,
                section=section,
                doc=doc or (fn.__doc__ or "").strip().split("\n")[0],
            )
            self.add_operator(Operator(spec, fn))
            return fn

        return register

    def add_operator(self, operator: Operator) -> None:
        """Register one operator; a second one with the same name is a programming error."""
        if operator.spec.name in self._operators:
            raise ValueError(f"operator {operator.spec.name!r} is registered twice")
        self._operators[operator.spec.name] = operator
        self._catalog = None

    def add_property(self, spec: PropertySpec) -> None:
        """Give meaning to a `spiffworkflow:property` name."""
        self._properties[spec.name] = spec
        self._catalog = None

    def add_binding(self, spec: BindingSpec) -> None:
        """Require something of a process the application starts or wakes."""
        self._bindings.append(spec)
        self._catalog = None

    def add_own_start(self, process_id: str, how: str) -> None:
        """Declare that an application starts `process_id` itself (`how` tells people where), so the generic start
        refuses it: e.g. a case is started by registering it, with its CSI."""
        self._own_starts[process_id] = how

    def own_start(self, process_id: str) -> str | None:
        """How an application starts this process, or None when anyone with the start lane's role may."""
        return self._own_starts.get(process_id)

    def add_job(self, job: Job) -> None:
        """Run `job(session, now)` at every worker poll, in its own transaction (e.g. a daily digest)."""
        self._jobs.append(job)

    def jobs(self) -> list[Job]:
        """The periodic jobs, in the order they were added."""
        return list(self._jobs)

    def add_step_hook(self, hook: StepHook) -> None:
        """Run `hook(session, instance, snapshot)` after every persisted engine step (e.g. to project a status)."""
        self._hooks.append(hook)

    def add_termination_hook(self, hook: TerminationHook) -> None:
        """Run `hook(termination)` after an instance is terminated (e.g. to cancel the case or the WO it ran for)."""
        self._termination_hooks.append(hook)

    def after_terminate(self, termination: Termination) -> None:
        """Run the termination hooks, in the order they were added."""
        for hook in self._termination_hooks:
            hook(termination)

    def catalog(self) -> Catalog:
        """The declarations the deploy lint checks models against."""
        if self._catalog is None:
            self._catalog = Catalog.of(
                roles=self._roles,
                operators=[o.spec for o in self._operators.values()],
                properties=list(self._properties.values()),
                bindings=self._bindings,
            )
        return self._catalog

    def operators(self) -> list[OperatorSpec]:
        """Every operator's declaration, by name (for the designer's properties panel and the docs)."""
        return [self._operators[name].spec for name in sorted(self._operators)]

    def dispatch(self, name: str, params: dict[str, Any], form: Mapping[str, Any] | None) -> dict[str, Any]:
        """Run operator `name` inside the current engine step; the deploy lint guarantees it and its parameters exist.

        :raises NotFoundError: no such operator (a model deployed before it was removed).
        """
        operator = self._operators.get(name)
        if operator is None:
            raise NotFoundError(Problem("operator_missing", f"no operator named {name!r}", operator=name))
        try:
            result = operator.fn(Call(current_step(), form or {}), **params)
        except Exception as exc:
            reason = unrecordable_value(exc) if form is not None else None
            if reason is None:
                raise
            log.warning("operator %s could not record a value of the form: %s", name, reason, exc_info=exc)
            # a user task's operator could not record a value the form let through (a date past year 9999 in UTC,
            # a number no column holds): the submission is refused (422), not kept as an incident no retry can end
            problem = Problem("invalid", f"a value of the form cannot be recorded: {reason}")
            raise InvalidInputError("the form has a value that cannot be recorded", {"data": problem}) from exc
        return dict(result or {})

    def after_step(self, session: Session, instance: ProcessInstance, snapshot: Snapshot) -> None:
        """Run the step hooks once the step's projections are written."""
        for hook in self._hooks:
            hook(session, instance, snapshot)


def unrecordable_value(exc: BaseException) -> str | None:
    """What a value conversion failed on, when `exc` is one (no database fault, no bug in the operator's logic):
    a number or date out of range in Python, in the driver's parameter conversion, or refused by the database."""
    if isinstance(exc, DataError):
        return str(exc.orig).splitlines()[0][:200]
    cause = exc.orig if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError) else exc
    if isinstance(cause, InvalidOperation):
        return "not a valid amount"
    if isinstance(cause, OverflowError):
        return str(cause)[:200] or "out of range"
    return None
