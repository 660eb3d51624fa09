"""The step context: which session, actor and case an engine step runs for, visible to service-task operators."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar

if TYPE_CHECKING:
    from engine.platform.runtime import Runtime


@dataclass(frozen=True)
class StepContext:
    """Facts an operator needs while the engine runs inside one transaction."""

    session: Session
    actor: str
    calendar: Callable[[], BusinessCalendar]
    csi_id: int | None = None
    instance_id: int | None = None
    runtime: Runtime | None = None  # for operators that start or wake other instances in the same step


_CURRENT: ContextVar[StepContext | None] = ContextVar("aftersales_step", default=None)


@contextmanager
def step_context(context: StepContext) -> Iterator[StepContext]:
    """Make `context` current while the engine runs (service tasks and helpers read it)."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_step() -> StepContext:
    """The running step; operators called outside a step are a programming error."""
    context = _CURRENT.get()
    if context is None:
        raise RuntimeError("service task called outside an engine step")
    return context
