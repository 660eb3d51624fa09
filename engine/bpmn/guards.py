"""Size guards for model code: every operation that could build a huge value, or loop in C, is checked first.

The sandbox's compiler rewrites `+ * ** << %` into `_binop_`, f-string fields into `_format_`, comparison
operands into `_cmp_`, and tuple displays into `_tuple_`; RestrictedPython already routes `x += y` through
`_inplacevar_` and attribute access through `_getattr_`. A guard predicts the size of the result from its
inputs and raises a `size` BudgetExceededError (guarded in C it would allocate before any line ran):

* repetition `s * n`, concatenation `a + b`, `str.join/replace/ljust/rjust/center/zfill/expandtabs/translate`,
  `list.extend`, `int.to_bytes` and `%`/f-string widths and precisions: at most `max_length` characters or items;
* `a ** b`, `a * b`, `a << b` on integers: at most `max_int_bits` bits (so `10**10**8` never starts);
* what C walks in full, counting shared parts every time (`[a] * 10**6` where `a` is big): `str()`, `repr()`,
  f-strings and `%` of containers (text size), comparisons, `sorted/min/max`, `list.sort/index/count/remove`
  and tuples (node count, which also bounds the cost of hashing a tuple).

`range` is RestrictedPython's `limited_range` (at most 999 items), so no C-level consumer (`sum`, `max`, `list`,
`sorted`, unpacking, `x in ...`) can be handed a huge lazy sequence, and `iter(callable, sentinel)` is not
available. `sum` adds numbers only (summing lists is quadratic).
"""

from __future__ import annotations

import builtins
import functools
import itertools
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from typing import SupportsIndex

from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import safer_getattr

from engine.bpmn.budget import StepLimits
from engine.bpmn.budget import current_budget
from engine.bpmn.budget import json_size
from engine.bpmn.budget import refuse

DEFAULT_LIMITS = StepLimits()
CONTAINERS = frozenset({list, tuple, dict, set, frozenset})
_SEQUENCES = (str, bytes, list, tuple)
_NUMBERS = (int, float, Decimal)
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "<<": operator.lshift,
    "%": operator.mod,
}
_INPLACE: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "+=": ("+", operator.iadd),
    "-=": ("-", operator.isub),
    "*=": ("*", operator.imul),
    "/=": ("/", operator.itruediv),
    "//=": ("//", operator.ifloordiv),
    "%=": ("%", operator.imod),
    "**=": ("**", operator.ipow),
    "<<=": ("<<", operator.ilshift),
    ">>=": (">>", operator.irshift),
    "|=": ("|", operator.ior),
    "^=": ("^", operator.ixor),
    "&=": ("&", operator.iand),
    "@=": ("@", operator.imatmul),
}
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?")


def limits() -> StepLimits:
    """The running step's limits (the defaults outside a step)."""
    budget = current_budget()
    return budget.limits if budget is not None else DEFAULT_LIMITS


def _check_length(what: str, size: int) -> None:
    cap = limits().max_length
    if size > cap:
        refuse("size", f"{cap:,} items", f"{what} would hold {size:,} characters or items")


def _check_bits(what: str, bits: int) -> None:
    cap = limits().max_int_bits
    if bits > cap:
        refuse("size", f"{cap:,}-bit integers", f"{what} would have about {bits:,} bits")


# ---- sizes of nested values ----------------------------------------------------------------------------


def node_count(value: Any, cap: int) -> int:
    """Elements in a nested value, shared parts counted every time (what ==, sort and hash walk); stops past cap."""
    total = 0
    stack = [value]
    while stack and total <= cap:
        item = stack.pop()
        kind = type(item)
        if kind not in CONTAINERS:
            continue
        total += 1 + len(item)
        children = itertools.chain(item.keys(), item.values()) if kind is dict else item
        if total <= cap and not CONTAINERS.isdisjoint(set(map(type, children))):
            children = itertools.chain(item.keys(), item.values()) if kind is dict else item
            stack.extend(child for child in children if type(child) in CONTAINERS)
    return total


def _check_nodes(what: str, value: Any) -> None:
    if type(value) in CONTAINERS:
        cap = limits().max_length
        if node_count(value, cap) > cap:
            refuse("size", f"{cap:,} items", f"{what} would walk more than {cap:,} nested items")


def _check_text(what: str, value: Any) -> None:
    if type(value) in CONTAINERS:
        cap = limits().max_length
        if json_size(value, cap) > cap:
            refuse("size", f"{cap:,} items", f"{what} would be more than {cap:,} characters long")


# ---- operators -------------------------------------------------------------------------------------------


def _check_repeat(seq: Any, times: Any) -> None:
    if isinstance(seq, _SEQUENCES) and isinstance(times, int):
        _check_length(f"repeating a {type(seq).__name__}", len(seq) * max(times, 0))
        if isinstance(seq, tuple) and times > 1:
            nested = node_count(seq, limits().max_length) - 1
            _check_length("repeating a nested tuple", 1 + nested * times)


def _check_binary(op: str, a: Any, b: Any) -> None:
    ints = isinstance(a, int) and isinstance(b, int)
    if op == "*":
        _check_repeat(a, b)
        _check_repeat(b, a)
        if ints:
            _check_bits("a product", a.bit_length() + b.bit_length())
    elif op == "+":
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            _check_length(f"joining two {type(a).__name__}s", len(a) + len(b))
            if isinstance(a, tuple) and isinstance(b, tuple):
                _check_nodes("a tuple", (a, b))
    elif op == "**" and ints and b > 0 and abs(a) > 1:
        _check_bits("a power", (abs(a) - 1).bit_length() * b)
    elif op == "<<" and ints and b > 0:
        _check_bits("a left shift", a.bit_length() + b)
    elif op == "%" and isinstance(a, str | bytes):
        _check_percent(a, b)


def _check_percent(template: str | bytes, args: Any) -> None:
    """`'%*d' % (10**9, 1)` or `'%0999999999d' % 1`: widths and precisions are sizes too."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    cap = limits().max_length
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*":
                numbers = args if isinstance(args, tuple) else (args,)
                if any(isinstance(n, int) and abs(n) > cap for n in numbers):
                    refuse("size", f"{cap:,} items", "a '%*' width or precision is too large")
            elif part and int(part) > cap:
                refuse("size", f"{cap:,} items", f"a '%' width or precision of {int(part):,}")
    _check_text("a '%' format", args)


def guarded_binop(op: str, a: Any, b: Any) -> Any:
    """`a <op> b` for + * ** << %, after checking the size of the result."""
    _check_binary(op, a, b)
    return _BINARY[op](a, b)


def guarded_inplace(op: str, target: Any, value: Any) -> Any:
    """`x <op>= y` (RestrictedPython's `_inplacevar_`), with the checks of the plain operator."""
    plain, function = _INPLACE[op]
    _check_binary(plain, target, value)
    return function(target, value)


def tick() -> None:
    """`_tick_()`: model code calls this at every loop iteration, function entry and except clause."""
    budget = current_budget()
    if budget is not None:
        budget.tick()


def guarded_getiter(value: Any) -> Any:
    """`_getiter_`: every for loop and comprehension level ticks the step budget when it starts."""
    tick()
    return default_guarded_getiter(value)


def guarded_compare_operand(value: Any) -> Any:
    """`_cmp_(x)`: a container compared (==, <, in) is walked by C, so its nested size must be bounded."""
    _check_nodes("comparing a value that", value)
    return value


def guarded_tuple_display(value: tuple[Any, ...]) -> tuple[Any, ...]:
    """`_tuple_((a, b))`: tuples are hashed by walking them, so a tuple's nested size is bounded."""
    _check_nodes("a tuple", value)
    return value


def _check_format_spec(spec: str) -> None:
    match = _FORMAT_SPEC.match(spec)
    cap = limits().max_length
    for part in match.groups() if match else ():
        if part and int(part) > cap:
            refuse("size", f"{cap:,} items", f"a format width or precision of {int(part):,}")


_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}


def guarded_format(value: Any, spec: str, conversion: int) -> str:
    """One f-string field `{value!conversion:spec}`, after checking the text it would produce."""
    _check_text("an f-string field", value)
    convert: Callable[[Any], str] | None = _CONVERSIONS.get(conversion)
    if convert is not None:
        value = convert(value)
    _check_format_spec(spec)
    return format(value, spec)


# ---- builtins --------------------------------------------------------------------------------------------


def guarded_repr(value: Any) -> str:
    """repr() with a bounded output."""
    _check_text("repr()", value)
    return repr(value)


def guarded_sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    """sorted() of a value whose comparisons are bounded."""
    items = list(iterable)
    _check_nodes("sorting a list that", items)
    return sorted(items, key=key, reverse=reverse)


def _extreme(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    items = list(args[0]) if len(args) == 1 else list(args)
    _check_nodes(f"{function.__name__}() of a list that", items)
    return function(items, **kwargs)


guarded_min = functools.partial(_extreme, min)
guarded_max = functools.partial(_extreme, max)


def guarded_sum(iterable: Any, /, start: Any = 0) -> Any:
    """sum() of numbers only: summing lists or tuples copies them over and over (quadratic time)."""
    if not isinstance(start, _NUMBERS):
        refuse("size", "numbers only", "sum() adds numbers; use a loop or a comprehension to join lists")
    return sum(iterable, start)


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """pow() with the checks of `**` (with a modulus the result stays small)."""
    if mod is None:
        _check_binary("**", base, exp)
        return pow(base, exp)
    return pow(base, exp, mod)


def guarded_round(number: Any, ndigits: SupportsIndex | None = None) -> Any:
    """round(): `round(10, -10**9)` would build 10**(10**9) first."""
    if ndigits is not None and isinstance(number, int) and abs(operator.index(ndigits)) > 4_300:
        refuse("size", "4,300 digits", "round() to more than 4,300 digits")
    return round(number, ndigits)


class _GuardedType(type):
    """A builtin type whose calls are guarded but that still works in `isinstance(x, str)` and `except`."""

    wrapped: type
    guard: Callable[..., None]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cls.guard(*args, **kwargs)
        return cls.wrapped(*args, **kwargs)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.wrapped)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.wrapped)

    def __getattr__(cls, name: str) -> Any:  # `str.join(sep, items)` gets the guarded method too
        return type_attribute(cls.wrapped, name)


def type_attribute(wrapped: type, name: str, default: Any = None) -> Any:
    """An attribute of a builtin type reached through its stand-in (`str.join`), under the rules of the type itself.

    The stand-in is no subclass of `str`, so RestrictedPython's `safer_getattr` let `str.format` through: its format
    fields (`{0.__globals__[...]}`) then walked any object in C, out of the sandbox's sight (found outside-in: the
    app's secret key and a user's bearer token read by a script). Only the type's own methods are handed out: not
    `format`/`format_map` (refused by `safer_getattr` on the real type), nor the metaclass's (`mro` gave `object`).
    """
    if not any(name in vars(base) for base in wrapped.__mro__ if base is not object):
        raise AttributeError(f"{wrapped.__name__}.{name} is not available in model code")
    value = safer_getattr(wrapped, name, default)  # type: ignore[no-untyped-call]
    return METHOD_GUARDS.get((wrapped, name)) or value


def _guard_str(value: Any = "", *args: Any, **kwargs: Any) -> None:
    _check_text("str()", value)


def _guard_tuple(value: Any = (), /) -> None:
    if type(value) in CONTAINERS:
        _check_nodes("a tuple", list(value) if type(value) in (set, frozenset) else value)


def guarded_type(wrapped: type, guard: Callable[..., None]) -> type:
    """A stand-in for a builtin type that runs `guard(*args)` before each call."""
    return _GuardedType(wrapped.__name__, (), {"wrapped": wrapped, "guard": staticmethod(guard)})


# ---- methods of str, bytes, list and int -----------------------------------------------------------------


def _join(sep: Any, iterable: Any) -> Any:
    items = list(iterable)
    lengths = [len(i) for i in items if isinstance(i, str | bytes)]
    _check_length("str.join", sum(lengths) + len(sep) * max(len(items) - 1, 0))
    return sep.join(items)


def _replace(text: Any, old: Any, new: Any, count: int = -1) -> Any:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        hits = text.count(old) if old else len(text) + 1
        hits = hits if count < 0 else min(hits, count)
        _check_length("str.replace", len(text) + hits * (len(new) - len(old)))
    return text.replace(old, new, count)


def _padding(name: str) -> Callable[..., Any]:
    def pad(text: Any, width: Any, *args: Any) -> Any:
        if isinstance(width, int):
            _check_length(f"str.{name}", width)
        return getattr(text, name)(width, *args)

    return pad


def _expandtabs(text: Any, tabsize: int = 8) -> Any:
    _check_length("str.expandtabs", len(text) + text.count("\t" if isinstance(text, str) else b"\t") * tabsize)
    return text.expandtabs(tabsize)


def _translate(text: Any, table: Any, *args: Any) -> Any:
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        _check_length("str.translate", len(text) * longest)
    return text.translate(table, *args)


def _extend(items: list[Any], more: Any) -> None:
    more = list(more)
    _check_length("list.extend", len(items) + len(more))
    items.extend(more)


def _bounded_list_method(name: str) -> Callable[..., Any]:
    def method(items: list[Any], *args: Any, **kwargs: Any) -> Any:
        _check_nodes(f"list.{name} on a list that", items)
        return getattr(items, name)(*args, **kwargs)

    return method


def _to_bytes(number: int, length: int = 1, *args: Any, **kwargs: Any) -> bytes:
    _check_length("int.to_bytes", length)
    return number.to_bytes(length, *args, **kwargs)


METHOD_GUARDS: dict[tuple[type, str], Callable[..., Any]] = {
    **{(kind, "join"): _join for kind in (str, bytes)},
    **{(kind, "replace"): _replace for kind in (str, bytes)},
    **{(kind, name): _padding(name) for kind in (str, bytes) for name in ("ljust", "rjust", "center", "zfill")},
    **{(kind, "expandtabs"): _expandtabs for kind in (str, bytes)},
    (str, "translate"): _translate,
    (list, "extend"): _extend,
    **{(list, name): _bounded_list_method(name) for name in ("sort", "index", "count", "remove")},
    (int, "to_bytes"): _to_bytes,
}


def guarded_getattr(obj: Any, name: str, default: Any = None, getattr: Callable[..., Any] = builtins.getattr) -> Any:
    """RestrictedPython's `safer_getattr`, handing out the guarded version of amplifying methods."""
    if isinstance(obj, _GuardedType):  # `str.format(...)` on the stand-in for `str`: the real type's rules
        return type_attribute(obj.wrapped, name, default)
    value = safer_getattr(obj, name, default, getattr)  # type: ignore[no-untyped-call]
    guard = METHOD_GUARDS.get((type(obj), name))
    return functools.partial(guard, obj) if guard is not None else value


def check_arguments(what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Arguments for trusted code (a helper, an operator) must print in a bounded size."""
    _check_text(f"the arguments of {what}", [*args, *kwargs.values()])


def shrink_error(err: BaseException, cap: int = 10_000) -> None:
    """Replace the arguments of an exception (and of its causes) too large to print: `str(err)` walks them."""
    seen = 0
    current: BaseException | None = err
    while current is not None and seen < 10:
        if json_size(list(current.args), cap) > cap:
            current.args = (f"{type(current).__name__} with a message too large to show",)
        current, seen = current.__cause__ or current.__context__, seen + 1


BUILTIN_GUARDS: dict[str, Any] = {
    "str": guarded_type(str, _guard_str),
    "tuple": guarded_type(tuple, _guard_tuple),
    "repr": guarded_repr,
    "sorted": guarded_sorted,
    "min": guarded_min,
    "max": guarded_max,
    "sum": guarded_sum,
    "pow": guarded_pow,
    "round": guarded_round,
}
