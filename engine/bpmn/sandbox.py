"""RestrictedPython sandbox: the one place model code is compiled and run, so a model cannot reach the host.

Every expression path (script tasks, pre/post scripts, conditions, timers, DMN cells, service-task
parameters, message payloads) goes through `Sandbox`. Scripts see task data, a whitelist of pure builtins and
the injected helpers; there are no module objects, `import` fails, and names or attributes starting with `_`
do not compile. There is no CPU or memory limit here: isolate workers for that.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable
from collections.abc import Mapping
from types import CodeType
from types import MappingProxyType
from types import ModuleType
from typing import Any
from typing import Literal
from typing import NoReturn

from RestrictedPython.compile import compile_restricted_eval
from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safe_builtins
from RestrictedPython.Guards import safer_getattr
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.transformer import RestrictingNodeTransformer

Mode = Literal["exec", "eval"]
Helper = Callable[..., Any]

# PythonScriptEngine finds the failing line by looking for a traceback frame with this file name.
SCRIPT_FILENAME = "<string>"

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

_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "@=": operator.imatmul,
}

_LINE = re.compile(r"Line (\d+): ")


def _refuse_import(*args: object, **kwargs: object) -> NoReturn:
    """Stand in for `__import__`: models get helpers as plain functions, never modules."""
    raise ImportError("import is not allowed in BPMN scripts; use the provided helper functions")


def _inplace(op: str, target: Any, value: Any) -> Any:
    """Implement `x += y` for RestrictedPython, which rewrites it to `x = _inplacevar_('+=', x, y)`."""
    return _INPLACE_OPERATORS[op](target, value)


def _apply(func: Helper, *args: Any, **kwargs: Any) -> Any:
    """Implement calls with `*args`/`**kwargs`, which RestrictedPython routes through `_apply_`."""
    return func(*args, **kwargs)


def _build_builtins() -> dict[str, Any]:
    """Safe + limited RestrictedPython builtins plus a few pure functions; never a module object."""
    builtins = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE_BUILTINS and not k.startswith("_")}
    builtins.update(limited_builtins)
    builtins.update(_PURE_BUILTINS)
    builtins["__import__"] = _refuse_import
    if any(isinstance(v, ModuleType) for v in builtins.values()):
        raise RuntimeError("a module object slipped into the sandbox builtins")
    return builtins


BUILTINS: Mapping[str, Any] = MappingProxyType(_build_builtins())

GUARDS: Mapping[str, Any] = MappingProxyType(
    {
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": _inplace,
        "_apply_": _apply,
    }
)


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


def _line_of(message: str) -> int:
    """Line number from a RestrictedPython message ('Line 3: ...'); 1 when it has none."""
    match = _LINE.match(message)
    return int(match.group(1)) if match else 1


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: Mode) -> CodeType:
    """Compile model code under the sandbox policy (cached); a refusal is a SyntaxError with a real `lineno`.

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
    code: CodeType = result.code
    return code


def check_source(source: str, mode: Mode) -> str | None:
    """Say why model code would be refused ('line 2: ...'), or None when it compiles in the sandbox."""
    try:
        compile_source(source, mode)
    except SyntaxError as err:
        return f"line {err.lineno or 1}: {err.msg}"
    return None


def _check_helpers(helpers: Mapping[str, Helper]) -> dict[str, Helper]:
    """Helpers must be plain callables under public names that do not shadow builtins."""
    checked: dict[str, Helper] = {}
    for name, helper in helpers.items():
        if not name.isidentifier() or name.startswith("_") or name in BUILTINS:
            raise ValueError(f"helper name {name!r} must be a public identifier that is not a builtin")
        if isinstance(helper, ModuleType) or not callable(helper):
            raise TypeError(f"helper {name!r} must be a function, not {type(helper).__name__}")
        checked[name] = helper
    return checked


class Sandbox:
    """Runs model scripts and expressions against task data with restricted builtins and the given helpers."""

    def __init__(self, helpers: Mapping[str, Helper] | None = None) -> None:
        self._helpers = _check_helpers(helpers or {})
        self._globals: dict[str, Any] = {**self._helpers, **GUARDS}
        self._names = frozenset({*self._globals, "__builtins__"})

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
        """Evaluate an expression; injected names win over task data, so data cannot replace a guard."""
        code = compile_source(source, "eval")
        return eval(code, self._namespace(dict(data), extra or {}))  # noqa: S307 (restricted code, guarded namespace)

    def execute(self, source: str, data: dict[str, Any], extra: Mapping[str, Any] | None = None) -> None:
        """Run a script with task data as its globals; injected names and functions are removed afterwards.

        :raises ValueError: task data uses a name the sandbox injects (it would hide a helper or guard).
        """
        code = compile_source(source, "exec")
        extra = extra or {}
        clashes = (self.global_names | set(extra)) & set(data)
        if clashes:
            raise ValueError(f"task data uses reserved or helper names {sorted(clashes)}: rename them")
        namespace = self._namespace(data, extra)
        try:
            exec(code, namespace)  # noqa: S102 (restricted code, guarded namespace)
        finally:
            for key in [k for k, v in namespace.items() if k in self._names or k in extra or callable(v)]:
                del namespace[key]
