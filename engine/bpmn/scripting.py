"""Spiff script engine bound to the sandbox and the service handler, so no model code runs unguarded."""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from typing import NoReturn

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import guards
from engine.bpmn.budget import StepLimits
from engine.bpmn.budget import attributed_to
from engine.bpmn.sandbox import SCRIPT_FILENAME
from engine.bpmn.sandbox import Helper
from engine.bpmn.sandbox import Sandbox
from engine.errors import BudgetExceededError

# (operator name, evaluated parameters, the submitted form on a user task or None) -> result data
ServiceHandler = Callable[[str, dict[str, Any], Mapping[str, Any] | None], dict[str, Any]]

# Types the instance serializer (engine/bpmn/serializer.py) registers besides plain JSON.
SERIALIZER_TYPES: tuple[type, ...] = (date, Decimal)

_MAX_DEPTH = 100
_MAX_INT_BITS = 14_000  # ~4,200 digits: Python refuses to print longer ints, so json.dumps would fail


def _describe(err: BaseException) -> str:
    """'Type: message' for an error, using a SyntaxError's bare message (its str() adds a file name)."""
    message = err.msg if isinstance(err, SyntaxError) else error_text(err)
    return f"{type(err).__name__}: {message}"


def error_text(err: BaseException) -> str:
    """An error's message without what a database driver's error appends on the lines after the first (the SQL
    statement and its parameters, which hold case data): incidents and logs show this text to administrators."""
    text = str(err).split("\n[SQL:", 1)[0].split("\n[parameters:", 1)[0].split("\n(Background on this error", 1)[0]
    return "\n".join(line for line in text.splitlines() if not line.startswith("DETAIL:"))  # PostgreSQL: the row


class SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Spiff environment that sends every `evaluate`/`execute` (engine, DMN, messages) through the sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> NoReturn:
        raise NotImplementedError("service tasks are dispatched by AppScriptEngine.call_service")


class AppScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """The app's only script engine: sandboxed code, injected helpers, and service tasks via one handler."""

    def __init__(
        self,
        *,
        service_handler: ServiceHandler,
        helpers: Mapping[str, Helper] | None = None,
        limits: StepLimits | None = None,
    ) -> None:
        super().__init__(environment=SandboxEnvironment(Sandbox(helpers, limits)))
        self._service_handler = service_handler

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression for a task; unlike Spiff's, the error message keeps the real cause."""
        try:
            with attributed_to(task):
                return self.environment.evaluate(expression, task.data, external_context)
        except (SpiffWorkflowException, BudgetExceededError) as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            message = f"Error evaluating expression '{expression}': {_describe(err)}"
            raise WorkflowTaskException(message, task=task, exception=err) from err

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Run a script for a task (the step budget names the task if the script goes over it)."""
        with attributed_to(task):
            return super().execute(task, script, external_context)

    def call_service(
        self,
        task: Any,
        operation_name: str | None = None,
        operation_params: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> str:
        """Call the handler with `{name: value}` and return its result as JSON text, as Spiff expects.

        Spiff 3.2.0's own `call_service` loses handler errors (`NameError: script`), so they are wrapped here;
        the handler's exception stays reachable as `__cause__`.
        """
        name = operation_name or ""
        params = {key: param.get("value") for key, param in (operation_params or {}).items()}
        try:
            with attributed_to(task):
                guards.check_arguments(f"operator {name!r}", (), params)
            result = self._service_handler(name, params, None)
            ensure_json_safe(result)
            return json.dumps(result, allow_nan=False)
        except (SpiffWorkflowException, BudgetExceededError):
            raise
        except Exception as err:
            message = f"Service task operator '{name}' failed: {_describe(err)}"
            raise WorkflowTaskException(message, task=task, exception=err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """Wrap a script error with its line; Spiff's version crashes when the error's arg is not text."""
        if isinstance(err, BudgetExceededError):
            return err  # the step re-raises it as it is (engine/bpmn/budget.py)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        if isinstance(err, SpiffWorkflowException):
            err.line_number = line_number
            err.error_line = error_line
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            spiff_error: Exception = err
            return spiff_error
        wrapped: Exception = WorkflowTaskException(
            _describe(err), task=task, exception=err, line_number=line_number, error_line=error_line
        )
        return wrapped

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """Line (1-based, 0 if unknown) and text of the script line that failed."""
        line = 0
        if isinstance(err, SyntaxError):
            line = err.lineno or 0
        else:
            for frame in traceback.extract_tb(err.__traceback__):
                if frame.filename == SCRIPT_FILENAME and frame.lineno:
                    line = frame.lineno
        lines = (script or "").splitlines()
        return line, lines[line - 1] if 0 < line <= len(lines) else ""


def _check_text(path: str, text: str) -> None:
    """Refuse text PostgreSQL or UTF-8 cannot store: NUL characters and lone surrogates."""
    if "\x00" in text:
        raise ValueError(f"{path}: text contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{path}: text contains a lone surrogate (not valid Unicode)") from None


def _check_scalar(path: str, item: object, extra_types: tuple[type, ...]) -> None:
    """Check one non-container value; subclasses (IntEnum, str subclasses, ...) count as foreign types."""
    kind = type(item)
    if item is None or kind is bool:
        return
    if kind not in (int, float, str, *extra_types):
        raise ValueError(f"{path}: a {kind.__name__} is not JSON data")
    if isinstance(item, int) and item.bit_length() > _MAX_INT_BITS:
        raise ValueError(f"{path}: integer is too large")
    infinite = isinstance(item, float) and not math.isfinite(item)
    if infinite or isinstance(item, Decimal) and not item.is_finite():
        raise ValueError(f"{path}: {item} is not allowed (JSON has no NaN or Infinity)")
    if isinstance(item, str):
        _check_text(path, item)


def ensure_json_safe(value: object, *, extra_types: tuple[type, ...] = SERIALIZER_TYPES) -> None:
    """Raise ValueError unless `value` is plain JSON data (checked after each engine step).

    Allowed: None, bool, int, finite float, str without NUL or lone surrogates, list, tuple, dict with str
    keys, and the exact types in `extra_types` (by default the ones the instance serializer registers).
    """
    stack: list[tuple[str, object, int]] = [("$", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"{path[:60]}...: nested deeper than {_MAX_DEPTH} levels (or a cycle)")
        if isinstance(item, dict) and type(item) is dict:
            for key, child in item.items():
                if type(key) is not str:
                    raise ValueError(f"{path}: key {key!r} is a {type(key).__name__}; JSON keys are text")
                _check_text(f"{path} key", key)
                stack.append((f"{path}.{key}", child, depth + 1))
        elif isinstance(item, list | tuple) and type(item) in (list, tuple):
            stack.extend((f"{path}[{index}]", child, depth + 1) for index, child in enumerate(item))
        else:
            _check_scalar(path, item, extra_types)
