"""Step budgets for model code: a time, memory, value-size and task-data budget per engine step, enforced in-process.

Mechanism. Every engine step (start, complete, timer, message, retry) runs under one `StepBudget` held in a
ContextVar. While sandboxed code runs, `sys.settrace` is on for that thread only; the global trace function
returns a line tracer for frames compiled by the sandbox (`SCRIPT_FILENAME`) and None for every other frame,
so the engine, helpers and operators are not traced. The line tracer compares `perf_counter()` with the
step's deadline on every line (a loop jumps back to a line, so `while True: pass` is seen) and samples the
process RSS from /proc/self/statm every millisecond. The compiler also puts a `_tick_()` call at the start of
every loop body, function body and except clause, and `_getiter_` ticks too: a tick checks the same clock.
Once a budget is exceeded the error is sticky: CPython unsets a trace function that raised, so the ticks raise
it again (and switch tracing back on); `try/except` in a script cannot swallow it, and the step raises it
whatever SpiffWorkflow wrapped it in. C-level work that a single line can start (`'x' * 2**33`,
`10**10**8`, `' '.ljust(10**9)`, `f'{1:>{10**9}}'`, `str()` of a self-nested list) never runs: the sandbox
rewrites those operators and calls into guards (engine/bpmn/guards.py) that predict the result size first.
Between tasks the engine calls `after_task`, so a model-level loop without any code is stopped too, and at
the end of the step `check_step_data` caps the JSON size of every task's data that changed.

Why in-process and not a subprocess pool with rlimits (measured on this 2-CPU machine, Python 3.11, under load):
* cost: the line tracer costs 0.3 µs per executed line of model code (a 10^6-iteration loop: 0.05 s plain,
  0.37 s traced) and nothing for engine frames. A step's bookkeeping (enter/exit, RSS samples, data cap) is
  about 8 µs plus the data walk; a sandboxed condition takes 21 µs. On the §4 case path (bench/budget_overhead.py,
  30 cases, 210 engine steps on SQLite, three alternating runs against the tree before this module) the mean
  step was 6.3 ms with and without budgets (runs: 6.1/7.1/5.9 ms without, 6.7/7.2/5.0 ms with): within noise.
  A subprocess needs a pipe round trip per expression, 58 µs for a small task data dict (about ten per step),
  a fresh interpreter after each kill (82 ms to spawn), and `working_days_after` would have to call back into
  the parent for the calendar, since helpers and operators read the step's database session.
* isolation: a subprocess can be killed mid-C-call; a thread cannot. That is why every C-level operation that
  can grow or loop without bound is guarded before it runs (guards.py lists them) and `range` stays capped at
  999 items (RestrictedPython's `limited_range`). The residual risk is an amplifier missing from that list.
* other requests: a runaway step holds the GIL between bytecodes, so while any step's model code has run for
  more than 20 ms the GIL switch interval drops from 5 ms to 0.5 ms. During the attack corpus (252 runaway
  steps, tests/reliability/test_model_budgets.py) another user's GET on the same server answered in p50 10 ms,
  p95 67 ms, max 261 ms (p50 4 ms, p95 6 ms when idle), and never failed.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import FrameType
from typing import Any
from typing import Concatenate
from typing import NoReturn
from typing import ParamSpec
from typing import Protocol
from typing import TypeVar

from engine.errors import BudgetExceededError

# Model code is compiled under this file name; the tracer and error reports recognise its frames by it.
SCRIPT_FILENAME = "<bpmn-script>"

MIB = 2**20
_SAMPLE_EVERY = 0.001  # seconds between RSS samples while model code runs
_LONG_STEP = 0.02  # model code running longer than this makes other threads get the GIL back sooner
_SHORT_SWITCH = 0.0005  # seconds: sys.setswitchinterval while a long step runs (CPython's default is 0.005)


class _SwitchInterval:
    """Lower the GIL switch interval while any step runs long model code, so other requests keep their latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = sys.getswitchinterval()

    def lower(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, _SHORT_SWITCH))
            self._holders += 1

    def restore(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                sys.setswitchinterval(self._saved)


_switch = _SwitchInterval()


@dataclass(frozen=True)
class StepLimits:
    """What one engine step may use: wall time, memory growth, value sizes built by model code, task data."""

    seconds: float = 2.0
    memory_bytes: int = 256 * MIB
    data_bytes: int = 1_000_000
    max_length: int = 1_000_000  # characters of a str, items of a list/tuple/dict/set, nodes of a nested value
    max_int_bits: int = 65_536  # about 19,700 decimal digits

    def __post_init__(self) -> None:
        if self.seconds <= 0 or min(self.memory_bytes, self.data_bytes, self.max_length, self.max_int_bits) <= 0:
            raise ValueError(f"step limits must be positive: {self}")


class _Rss:
    """Resident set size of this process from /proc/self/statm (0 where there is none: no memory budget then)."""

    def __init__(self) -> None:
        self._pid = -1
        self._fd = -1
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __call__(self) -> int:
        if self._pid != os.getpid():  # a forked child must read its own statm
            self._pid, self._fd = os.getpid(), self._open()
        if self._fd < 0:
            return 0
        return int(os.pread(self._fd, 64, 0).split()[1]) * self._page

    @staticmethod
    def _open() -> int:
        try:
            return os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            return -1


rss = _Rss()


def _sandbox_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame of model code at or above `frame`."""
    while frame is not None and frame.f_code.co_filename != SCRIPT_FILENAME:
        frame = frame.f_back
    return frame


class StepBudget:
    """The budget of one engine step; `run` executes model code under it."""

    def __init__(self, limits: StepLimits) -> None:
        self.limits = limits
        self.started = time.perf_counter()
        self.started_at = time.time()  # wall clock, to compare with SpiffWorkflow's `last_state_change`
        self.deadline = self.started + limits.seconds
        baseline = rss()
        self.memory_ceiling = baseline + limits.memory_bytes if baseline else 0
        self._next_sample = self.started + _SAMPLE_EVERY
        self._next_check = min(self.deadline, self._next_sample)
        self.element: Any = None  # the SpiffWorkflow task whose model code runs now (for the error report)
        self.error: BudgetExceededError | None = None
        self._tracing = False
        self.long = False  # the GIL switch interval was lowered for this step

    # ---- checks ----------------------------------------------------------------------------------------

    def check(self, frame: FrameType | None = None) -> None:
        """Raise the step's BudgetExceededError if time or memory is over (or was already)."""
        if self.error is not None:
            self._raise_again()
        now = time.perf_counter()
        if now > self.deadline:
            self.fail("time", f"{self.limits.seconds:g} s", "model code ran out of time", frame)
        if now >= self._next_sample:
            self._next_sample = now + _SAMPLE_EVERY
            used = rss() if self.memory_ceiling else 0
            if used > self.memory_ceiling:
                grown = (used - self.memory_ceiling + self.limits.memory_bytes) // MIB
                message = f"the process grew by {grown} MB while model code ran"
                self.fail("memory", f"{self.limits.memory_bytes // MIB} MB", message, frame)
        if not self.long and now - self.started > _LONG_STEP:
            self.long = True
            _switch.lower()
        self._next_check = min(self.deadline, self._next_sample)

    def tick(self) -> None:
        """Called by model code at every loop iteration, function entry and except clause (guards.py `_tick_`).

        CPython unsets a trace function that raised, so once the budget is exceeded these ticks raise the error
        again (a script that caught it cannot go on) and switch the line tracer back on.
        """
        if self.error is not None or time.perf_counter() >= self._next_check:
            if self._tracing and sys.gettrace() is None:
                sys.settrace(self._trace_call)
            self.check(sys._getframe(2))

    def fail(self, budget: str, limit: str, message: str, frame: FrameType | None = None) -> NoReturn:
        """Record the exceeded budget (sticky for the rest of the step) and raise it."""
        model_frame = _sandbox_frame(frame or sys._getframe(1))
        line = model_frame.f_lineno if model_frame is not None else None
        task = self.element
        bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        file = getattr(getattr(getattr(task, "workflow", None), "spec", None), "file", None)
        where = " ".join(p for p in (file, f"[{bpmn_id}]" if bpmn_id else "", f"line {line}" if line else "") if p)
        text = f"{budget} budget exceeded ({limit}): {message}" + (f" at {where}" if where else "")
        self.error = BudgetExceededError(text, budget=budget, limit=limit, bpmn_id=bpmn_id, line=line, file=file)
        self._raise_again()

    def _raise_again(self) -> NoReturn:
        """Raise a fresh copy of the recorded error (one instance raised twice would chain onto itself)."""
        raise self.copy_error()

    def copy_error(self) -> BudgetExceededError:
        """A new BudgetExceededError equal to the recorded one."""
        err = self.error
        assert err is not None
        return BudgetExceededError(
            str(err), budget=err.budget, limit=err.limit, bpmn_id=err.bpmn_id, line=err.line, file=err.file
        )

    # ---- running model code ----------------------------------------------------------------------------

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call `func` (an exec/eval of sandbox code) with the line tracer on for this thread."""
        self.check()
        previous, tracing = sys.gettrace(), self._tracing
        self._tracing = True
        sys.settrace(self._trace_call)
        try:
            result = func(*args)
        finally:
            sys.settrace(previous)
            self._tracing = tracing
        if self.error is not None:
            self._raise_again()
        return result

    def _trace_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        self.check(frame)
        return self._trace_line

    def _trace_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if self.error is not None or time.perf_counter() >= self._next_check:
            self.check(frame)
        return self._trace_line


_CURRENT: ContextVar[StepBudget | None] = ContextVar("aftersales_step_budget", default=None)


def current_budget() -> StepBudget | None:
    """The budget of the running step, if any."""
    return _CURRENT.get()


@contextmanager
def step_budget(limits: StepLimits) -> Iterator[StepBudget]:
    """Run an engine step (or a lone sandbox call) under one budget; a nested step shares the outer budget.

    An exception leaving a step whose budget was exceeded is replaced by the BudgetExceededError (SpiffWorkflow
    wraps errors of model code in its own exceptions), and a step that swallowed it still raises it.
    """
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    budget = StepBudget(limits)
    token = _CURRENT.set(budget)
    try:
        yield budget
    except BudgetExceededError:
        raise
    except Exception as exc:
        if budget.error is not None:
            raise budget.copy_error() from exc
        raise
    finally:
        _CURRENT.reset(token)
        if budget.long:
            _switch.restore()
    if budget.error is not None:
        raise budget.copy_error()


class Budgeted(Protocol):
    """Anything with step limits (the runtime)."""

    @property
    def limits(self) -> StepLimits: ...


S = TypeVar("S", bound=Budgeted)
P = ParamSpec("P")
R = TypeVar("R")


def budgeted(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Decorate a runtime method that runs an engine step: it runs under one step budget."""

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with step_budget(self.limits):
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


@contextmanager
def attributed_to(task: Any) -> Iterator[None]:
    """Name `task` as the element whose model code runs now (for the error's bpmn_id and file)."""
    budget = _CURRENT.get()
    if budget is None:
        yield
        return
    previous, budget.element = budget.element, task
    try:
        yield
    finally:
        budget.element = previous


def after_task(task: Any) -> None:
    """SpiffWorkflow's `did_complete_task` hook: a model-level loop is stopped even if it runs no code."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.element = task
        budget.check()


def refuse(budget: str, limit: str, message: str) -> NoReturn:
    """Raise a BudgetExceededError for the running step (guards and helpers call this)."""
    step = _CURRENT.get()
    if step is None:
        raise BudgetExceededError(f"{budget} budget exceeded ({limit}): {message}", budget=budget, limit=limit)
    step.fail(budget, limit, message, sys._getframe(1))


# ---- task data size ----------------------------------------------------------------------------------------

_SCALAR_SIZE: dict[type, int] = {bool: 5, type(None): 4, float: 24, date: 12}


def json_size(value: Any, cap: int) -> int:
    """Approximate JSON length of `value`, counting shared parts every time; stops early once over `cap`.

    The walk is iterative and does at most about `cap` steps, so a self-nested value cannot make it hang.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) + 2
        elif kind is dict:
            total += 2 + 6 * len(item)
            if total > cap:
                break
            total += sum(len(k) if type(k) is str else 8 for k in item)
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            total += 2 + len(item)
            if total > cap:
                break
            stack.extend(item)
        elif kind is int:
            total += item.bit_length() * 3 // 10 + 2
        elif kind is Decimal:
            total += len(str(item))
        else:
            total += _SCALAR_SIZE.get(kind, 16)
        if total > cap:
            break
    return total


def check_step_data(workflow: Any) -> None:
    """Refuse a step after which a task's data (or the workflow's) serializes to more than the data budget."""
    budget = _CURRENT.get()
    if budget is None:
        return
    cap = budget.limits.data_bytes
    limit = f"{cap:,} bytes"
    for task in workflow.get_tasks():
        if getattr(task, "last_state_change", 0) >= budget.started_at and json_size(task.data, cap) > cap:
            budget.element = task
            budget.fail("data", limit, f"the task data is larger than {limit} after this step")
    if json_size(workflow.data, cap) > cap:
        budget.fail("data", limit, f"the process data is larger than {limit} after this step")
    payloads = [getattr(event, "payload", None) for event in getattr(workflow, "bpmn_events", [])]
    if json_size(payloads, cap) > cap:
        budget.fail("data", limit, f"the pending message payloads are larger than {limit} after this step")
