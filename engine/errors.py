"""Engine errors: each maps to one HTTP status at the web edge, so services never speak HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Problem(str):
    """An English message that also carries a code and its parameters, so each interface can say it in the user's
    language (the web translates codes, never message text). It is a str: logs, JSON and tests see the English."""

    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, text: str, **params: Any) -> Problem:
        made = super().__new__(cls, text)
        made.code = code
        made.params = dict(params)
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # keep code and params through pickling (e.g. worker processes)
        return (_problem, (self.code, str(self), dict(self.params)))


def _problem(code: str, text: str, params: dict[str, Any]) -> Problem:
    return Problem(code, text, **params)


def code_of(message: object) -> str | None:
    """The code of a message, when it carries one."""
    return message.code if isinstance(message, Problem) else None


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"


class NotFoundError(EngineError):
    """The named object does not exist (or is not visible to the caller)."""

    code = "not_found"


class PermissionDeniedError(EngineError):
    """The caller's roles or claim do not allow this action."""

    code = "forbidden"


class ConflictError(EngineError):
    """The object changed under the caller: task no longer open, concurrent update, stale version."""

    code = "conflict"


class InvalidInputError(EngineError):
    """Input failed validation; `fields` maps each bad field to its message."""

    code = "invalid"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = dict(fields or {})


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem in a deployed definition file, pinned to file, line and element."""

    file: str
    line: int | None
    message: str
    element_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


class DefinitionError(EngineError):
    """A BPMN/DMN/form bundle was refused at deploy; `problems` lists every file:line error."""

    code = "invalid_definition"

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems) or "invalid definition")
        self.problems = problems


class WorkflowRuntimeError(EngineError):
    """A script, expression or service task failed while the engine ran a step."""

    code = "workflow_error"

    def __init__(self, message: str, *, bpmn_id: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.bpmn_id = bpmn_id
        self.line = line


class BudgetExceededError(WorkflowRuntimeError):
    """Model code went over a step budget (time, memory, value size, task data, helper argument); the step is undone.

    `budget` names the budget and `limit` states it ("2 s", "1,000,000 items"); `file` is the BPMN/DMN file and
    `line` the line of the script or expression, when known.
    """

    code = "budget_exceeded"

    def __init__(
        self,
        message: str,
        *,
        budget: str,
        limit: str,
        bpmn_id: str | None = None,
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message, bpmn_id=bpmn_id, line=line)
        self.budget = budget
        self.limit = limit
        self.file = file
