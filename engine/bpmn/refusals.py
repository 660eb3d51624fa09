"""Static refusals: model code that would certainly go over a step budget is refused when compiled (and so at deploy).

An endless `while True` without a break, return or raise; a constant expression too large to build (`10**10**8`,
`'x' * 2**33`, predicted by the same guards the runtime uses); a constant `range()` over the sandbox's limit.
The runtime budget (engine/bpmn/budget.py) is the real guarantee; this only tells the designer early, with the line.
"""

from __future__ import annotations

import ast
from typing import Any

from engine.bpmn.guards import guarded_binop
from engine.errors import BudgetExceededError

_UNKNOWN = object()
_RANGE_LIMIT = 1000  # RestrictedPython's limited_range refuses this many items or more


def _exits(body: list[Any]) -> bool:
    """Whether a loop body has a break, return or raise of its own (nested loops and functions do not count)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break | ast.Return | ast.Raise):
            return True
        if isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(node.orelse if isinstance(node, ast.For | ast.While) else [])
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _fold(node: ast.AST, problems: list[tuple[int, str]]) -> Any:
    """The value of a constant int/str expression, or _UNKNOWN; a size refusal is recorded, not raised."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | str | bytes):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _fold(node.operand, problems)
        return -value if isinstance(value, int) else _UNKNOWN
    if not isinstance(node, ast.BinOp):
        return _UNKNOWN
    symbol = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}.get(type(node.op))
    left, right = _fold(node.left, problems), _fold(node.right, problems)
    if symbol is None or _UNKNOWN in (left, right):
        return _UNKNOWN
    try:
        return guarded_binop(symbol, left, right)
    except BudgetExceededError as err:
        problems.append((node.lineno, str(err)))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        pass
    return _UNKNOWN


def static_problems(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, message) for model code that would certainly go over a budget: an endless `while True`, a constant
    expression too large to build (`10**10**8`, `'x' * 2**33`), a `range()` over the sandbox's limit."""
    problems: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
            if not _exits(node.body):
                problems.append((node.lineno, "endless loop: 'while True' without a break, return or raise"))
        elif isinstance(node, ast.BinOp):
            _fold(node, problems)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            bounds = [_fold(arg, problems) for arg in node.args]
            if bounds and all(isinstance(b, int) for b in bounds):
                start, stop, step = (0, bounds[0], 1) if len(bounds) == 1 else (*bounds[:2], (bounds[2:] or [1])[0])
                if step and (stop - start) // step >= _RANGE_LIMIT:
                    problems.append((node.lineno, f"range() of more than {_RANGE_LIMIT - 1} numbers is refused"))
    return sorted(set(problems))
