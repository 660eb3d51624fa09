"""RestrictedPython sandbox: the one place model code is compiled and run, so a model cannot reach the host.

Every expression path (script tasks, pre/post scripts, conditions, timers, DMN cells, service-task
parameters, message payloads) goes through `Sandbox`. Scripts see task data, a whitelist of pure builtins and
the injected helpers; there are no module objects, `import` fails, and names or attributes starting with `_`
do not compile. Each call runs under the engine step's budget (engine/bpmn/budget.py: time, memory, value size),
and the compiler routes size-amplifying operators through the guards of engine/bpmn/guards.py.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from collections.abc import Mapping
from types import CodeType
from types import MappingProxyType
from types import ModuleType
from typing import Any
from typing import Literal
from typing import NoReturn
from typing import cast

from RestrictedPython.compile import compile_restricted_eval
from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safe_builtins
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.transformer import RestrictingNodeTransformer

from engine.bpmn import guards
from engine.bpmn.budget import SCRIPT_FILENAME
from engine.bpmn.budget import StepLimits
from engine.bpmn.budget import step_budget
from engine.bpmn.refusals import static_problems

__all__ = ["SCRIPT_FILENAME", "BUILTINS", "GUARDS", "Helper", "Mode", "Sandbox", "check_source", "compile_source"]

Mode = Literal["exec", "eval"]
Helper = Callable[..., Any]

# Removed from RestrictedPython's safe set: class creation, attribute writes, and exceptions a script could
# raise to get past `except Exception` (SystemExit would stop the worker).
_UNSAFE_BUILTINS = frozenset(
    {"__build_class__", "setattr", "delattr", "id", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}
)

_PURE_BUILTINS: dict[str, Any] = {
    "all": all,
    "any": any,
    "dict": dict,
    "enumerate": enumerate,
    "filter": filter,
    "frozenset": frozenset,
    "len": len,
    "list": list,
    "map": map,
    "max": max,
    "min": min,
    "reversed": reversed,
    "set": set,
    "sorted": sorted,
    "sum": sum,
    "tuple": tuple,
    "zip": zip,
}

_LINE = re.compile(r"Line (\d+): ")


def _refuse_import(*args: object, **kwargs: object) -> NoReturn:
    """Stand in for `__import__`: models get helpers as plain functions, never modules."""
    raise ImportError("import is not allowed in BPMN scripts; use the provided helper functions")


def _apply(func: Helper, *args: Any, **kwargs: Any) -> Any:
    """Implement calls with `*args`/`**kwargs`, which RestrictedPython routes through `_apply_`."""
    return func(*args, **kwargs)


def _build_builtins() -> dict[str, Any]:
    """Safe + limited RestrictedPython builtins plus a few pure functions; never a module object."""
    builtins = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE_BUILTINS and not k.startswith("_")}
    builtins.update(limited_builtins)
    builtins.update(_PURE_BUILTINS)
    builtins.update(guards.BUILTIN_GUARDS)
    builtins["__import__"] = _refuse_import
    if any(isinstance(v, ModuleType) for v in builtins.values()):
        raise RuntimeError("a module object slipped into the sandbox builtins")
    return builtins


BUILTINS: Mapping[str, Any] = MappingProxyType(_build_builtins())

GUARDS: Mapping[str, Any] = MappingProxyType(
    {
        "_getattr_": guards.guarded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": guards.guarded_getiter,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": guards.guarded_inplace,
        "_apply_": _apply,
        "_binop_": guards.guarded_binop,
        "_cmp_": guards.guarded_compare_operand,
        "_tuple_": guards.guarded_tuple_display,
        "_format_": guards.guarded_format,
        "_tick_": guards.tick,
    }
)

# Operators whose C implementation can allocate without bound: compiled into `_binop_(symbol, left, right)`.
_GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Mod: "%",
}
# Comparisons that walk containers in C: their operands go through `_cmp_`.
_WALKING_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


def _ticked(body: list[ast.stmt]) -> list[ast.stmt]:
    """`body` starting with `_tick_()`: the step budget is checked (and a caught budget error raised again)."""
    tick = ast.Expr(value=ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
    return [ast.fix_missing_locations(ast.copy_location(tick, body[0])), *body]


def _call(name: str, node: ast.expr, *args: ast.expr) -> ast.expr:
    """`name(*args)` placed where `node` was."""
    call = ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, node))


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus refusals that give models a clear message at compile time."""

    def visit_Import(self, node: ast.Import) -> ast.AST:  # noqa: N802 (ast visitor name)
        self.error(node, "import is not allowed; use the provided helper functions")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:  # noqa: N802
        self.error(node, "import is not allowed; use the provided helper functions")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:  # noqa: N802
        self.error(node, "class definitions are not allowed in BPMN scripts")
        return node

    def visit_Name(self, node: ast.Name) -> Any:  # noqa: N802
        if node.id in ("print", "printed"):
            self.error(node, "print() is not available: write results into variables instead")
            return node
        return super().visit_Name(node)

    # Budget ticks (engine/bpmn/budget.py): every loop iteration, function call and except clause checks the clock.

    def visit_While(self, node: ast.While) -> Any:  # noqa: N802
        node = cast(ast.While, super().visit_While(node))
        node.body = _ticked(node.body)
        return node

    def visit_For(self, node: ast.For) -> Any:  # noqa: N802
        node = cast(ast.For, super().visit_For(node))
        node.body = _ticked(node.body)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:  # noqa: N802
        node = cast(ast.FunctionDef, super().visit_FunctionDef(node))
        node.body = _ticked(node.body)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:  # noqa: N802
        node = cast(ast.ExceptHandler, super().visit_ExceptHandler(node))
        node.body = _ticked(node.body)
        return node

    # Size guards (engine/bpmn/guards.py): rewrite what C would run without a bound into guarded calls.

    def visit_BinOp(self, node: ast.BinOp) -> Any:  # noqa: N802
        node = cast(ast.BinOp, super().visit_BinOp(node))
        symbol = _GUARDED_BINOPS.get(type(node.op))
        if symbol is None:
            return node
        return _call("_binop_", node, ast.Constant(symbol), node.left, node.right)

    def visit_Compare(self, node: ast.Compare) -> Any:  # noqa: N802
        node = cast(ast.Compare, super().visit_Compare(node))
        if any(isinstance(op, _WALKING_COMPARISONS) for op in node.ops):
            node.left, *node.comparators = [
                e if isinstance(e, ast.Constant) else _call("_cmp_", e, e) for e in (node.left, *node.comparators)
            ]
        return node

    def visit_Tuple(self, node: ast.Tuple) -> Any:  # noqa: N802
        node = cast(ast.Tuple, super().visit_Tuple(node))
        elements = node.elts
        if isinstance(node.ctx, ast.Load) and not all(isinstance(e, ast.Constant) for e in elements):
            if not any(isinstance(e, ast.Slice) for e in elements):
                return _call("_tuple_", node, node)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:  # noqa: N802
        node = cast(ast.FormattedValue, super().visit_FormattedValue(node))
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", node, node.value, spec, ast.Constant(node.conversion))
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)


def _line_of(message: str) -> int:
    """Line number from a RestrictedPython message ('Line 3: ...'); 1 when it has none."""
    match = _LINE.match(message)
    return int(match.group(1)) if match else 1


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: Mode) -> CodeType:
    """Compile model code under the sandbox policy (cached); a refusal is a SyntaxError with a real `lineno`.

    Code that would certainly go over a step budget (an endless `while True`, `10**10**8`) is refused too.

    RestrictedPython reports errors with `lineno=None`, which makes SpiffWorkflow's error reporter crash
    with a TypeError, so the line is taken from the message.
    """
    if not isinstance(source, str):
        raise SyntaxError(f"expected Python source text, got {type(source).__name__}")
    if mode == "eval":
        source = source.strip()  # builtin eval() tolerates surrounding whitespace; compile() does not
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, SCRIPT_FILENAME, policy=_Policy)
    if result.errors or result.code is None:
        errors = list(result.errors) or ["could not compile"]
        lineno = _line_of(errors[0])
        text = source.splitlines()[lineno - 1] if 0 < lineno <= len(source.splitlines()) else None
        message = "; ".join(_LINE.sub("", e, count=1).rstrip(".") for e in errors)
        raise SyntaxError(message, (SCRIPT_FILENAME, lineno, 1, text))
    refusals = static_problems(ast.parse(source, mode=mode))
    if refusals:
        lineno = refusals[0][0]
        text = source.splitlines()[lineno - 1] if 0 < lineno <= len(source.splitlines()) else None
        raise SyntaxError("; ".join(message for _, message in refusals), (SCRIPT_FILENAME, lineno, 1, text))
    code: CodeType = result.code
    return code


def check_source(source: str, mode: Mode) -> str | None:
    """Say why model code would be refused ('line 2: ...'), or None when it compiles in the sandbox."""
    try:
        compile_source(source, mode)
    except SyntaxError as err:
        return f"line {err.lineno or 1}: {err.msg}"
    return None


def _bounded(name: str, helper: Helper) -> Helper:
    """A helper whose arguments are checked first: trusted code would walk a self-nested value in full."""

    @functools.wraps(helper)
    def call(*args: Any, **kwargs: Any) -> Any:
        guards.check_arguments(f"{name}()", args, kwargs)
        return helper(*args, **kwargs)

    return call


def _check_helpers(helpers: Mapping[str, Helper]) -> dict[str, Helper]:
    """Helpers must be plain callables under public names that do not shadow builtins."""
    checked: dict[str, Helper] = {}
    for name, helper in helpers.items():
        if not name.isidentifier() or name.startswith("_") or name in BUILTINS:
            raise ValueError(f"helper name {name!r} must be a public identifier that is not a builtin")
        if isinstance(helper, ModuleType) or not callable(helper):
            raise TypeError(f"helper {name!r} must be a function, not {type(helper).__name__}")
        checked[name] = _bounded(name, helper)
    return checked


class Sandbox:
    """Runs model scripts and expressions against task data with restricted builtins and the given helpers."""

    def __init__(self, helpers: Mapping[str, Helper] | None = None, limits: StepLimits | None = None) -> None:
        self._helpers = _check_helpers(helpers or {})
        self._globals: dict[str, Any] = {**self._helpers, **GUARDS}
        self._names = frozenset({*self._globals, "__builtins__"})
        self.limits = limits or StepLimits()

    @property
    def global_names(self) -> frozenset[str]:
        """Names the sandbox injects (guards, helpers, `__builtins__`); task data may not reuse them."""
        return self._names

    def _namespace(self, base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
        """Layer extra names, then the injected names and a fresh builtins dict, over `base` (in place)."""
        base.update(extra)
        base.update(self._globals)
        base["__builtins__"] = dict(BUILTINS)
        return base

    def evaluate(self, source: str, data: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression under the step budget; injected names win over task data (no guard replaced).

        :raises BudgetExceededError: the expression went over the step's time, memory or size budget.
        """
        code = compile_source(source, "eval")
        namespace = self._namespace(dict(data), extra or {})
        with step_budget(self.limits) as budget:
            try:
                return budget.run(eval, code, namespace)
            except Exception as err:
                guards.shrink_error(err)
                raise

    def execute(self, source: str, data: dict[str, Any], extra: Mapping[str, Any] | None = None) -> None:
        """Run a script under the step budget with task data as its globals; injected names and functions are
        removed afterwards.

        :raises ValueError: task data uses a name the sandbox injects (it would hide a helper or guard).
        :raises BudgetExceededError: the script went over the step's time, memory or size budget.
        """
        code = compile_source(source, "exec")
        extra = extra or {}
        clashes = (self.global_names | set(extra)) & set(data)
        if clashes:
            raise ValueError(f"task data uses reserved or helper names {sorted(clashes)}: rename them")
        namespace = self._namespace(data, extra)
        with step_budget(self.limits) as budget:
            try:
                budget.run(exec, code, namespace)
            except Exception as err:
                guards.shrink_error(err)
                raise
            finally:
                for key in [k for k, v in namespace.items() if k in self._names or k in extra or callable(v)]:
                    del namespace[key]
