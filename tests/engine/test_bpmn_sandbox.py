"""The sandbox refuses known escapes on every expression path, runs normal model code, and Spiff uses it."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import sandbox as sandbox_module
from engine.bpmn.sandbox import BUILTINS
from engine.bpmn.sandbox import Sandbox
from engine.bpmn.sandbox import check_source
from engine.bpmn.sandbox import compile_source
from engine.bpmn.scripting import AppScriptEngine
from engine.bpmn.scripting import ensure_json_safe
from engine.bpmn.specs import parse_bundle

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "bpmn"


def helper_days(a: int, b: int) -> int:
    return b - a


SANDBOX = Sandbox({"days_between": helper_days})

SCRIPT_ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    '[c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__ == "_wrap_close"]',
    "import os",
    "from os import path",
    "import math",
    '__import__("os")',
    'open("/etc/hostname").read()',
    'getattr((), "__class__")',
    "vars()",
    "globals()",
    "dir()",
    "__builtins__",
    "type(())",
    "object",
    '"{0.__class__}".format(1)',
    '"{x.__class__}".format_map({"x": 1})',
    'f"{().__class__}"',
    "g = (x for x in [1])\nframe = g.gi_frame",
    "g = (x for x in [1])\nglobals_ = g.gi_frame.f_globals",
    "def f(_getattr_, /):\n    return _getattr_\nf(1)",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "class A:\n    pass",
    "raise SystemExit(1)",
    "raise KeyboardInterrupt()",
    'exec("x = 1")',
    'eval("1")',
    'compile("1", "x", "eval")',
    "days_between.__globals__",
    "days_between.__code__",
    "[].append.__self__",
    "try:\n    1 / 0\nexcept Exception as e:\n    tb = e.__traceback__",
    'print("x")',
    "breakpoint()",
    'setattr(days_between, "x", 1)',
    "days_between.x = 1",
    "string.Formatter()",
    "random.random()",
    "x = [1]\ny = x.__class__",
    "d = {}\nd.__class__.__subclasses__()",
    # the stand-ins for str and tuple are no subclasses of them: their format and metaclass methods were handed out
    'leak = str.format("{0.__globals__}", sorted)',
    'leak = str.format_map("{x.__globals__}", {"x": sorted})',
    'leak = str.format("{0:>{1}}", 1, 10 ** 9)',  # and its widths passed the size guards
    "base = str.mro()[1]\nthing = base()",
    "base = tuple.mro()[-1]",
    "f = str.format\nleak = f('{0.__globals__}', sorted)",
]

EXPRESSION_ESCAPES = [
    "().__class__",
    '__import__("os").getcwd()',
    'open("/etc/hostname")',
    '"{0.__class__}".format(1)',
    'getattr(1, "real")',
    "(lambda: 1).__globals__",
    "[c for c in ().__class__.__bases__]",
    "type(1)",
    "days_between.__globals__",
    'str.format("{0.__globals__}", sorted)',
    "str.mro()",
]


@pytest.mark.parametrize("source", SCRIPT_ESCAPES)
def test_script_escapes_fail(source: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(Exception) as caught:  # noqa: B017 (any refusal will do; success is the failure)
        SANDBOX.execute(source, data)
    assert not isinstance(caught.value, SystemExit | KeyboardInterrupt)
    assert not any(isinstance(v, ModuleType) or callable(v) for v in data.values())


@pytest.mark.parametrize("source", EXPRESSION_ESCAPES)
def test_expression_escapes_fail(source: str) -> None:
    with pytest.raises(Exception):  # noqa: B017
        SANDBOX.evaluate(source, {"x": 1})


def test_builtins_hold_no_modules_and_import_raises() -> None:
    assert not any(isinstance(v, ModuleType) for v in BUILTINS.values())
    dangerous = {"open", "getattr", "type", "vars", "globals", "eval", "exec", "setattr", "id", "object"}
    assert dangerous.isdisjoint(BUILTINS)
    with pytest.raises(ImportError):
        BUILTINS["__import__"]("os")


def test_refusals_name_the_line() -> None:
    assert check_source("x = 1\nimport os", "exec") == (
        "line 2: import is not allowed; use the provided helper functions"
    )
    assert check_source("a = 1\nb = ().__class__", "exec") == (
        'line 2: "__class__" is an invalid attribute name because it starts with "_"'
    )
    assert check_source("PT1H +", "eval") is not None
    assert check_source("amount > 3 and days_between(1, 2) == 1", "eval") is None


def test_syntax_errors_carry_an_integer_lineno() -> None:
    """Spiff's error reporter does `lineno > 0`; RestrictedPython's own errors have lineno=None."""
    with pytest.raises(SyntaxError) as caught:
        compile_source("x = 1\ny = 2\nz = x.__dict__", "exec")
    assert caught.value.lineno == 3
    assert caught.value.text == "z = x.__dict__"


def test_compiled_code_is_cached() -> None:
    assert compile_source("x + 1", "eval") is compile_source("x + 1", "eval")


def test_normal_scripts_run() -> None:
    data: dict[str, Any] = {"items": [3, 1, 2], "customer": {"name": "ada"}}
    SANDBOX.execute(
        "total = sum([i * 2 for i in items])\n"
        "ranked = sorted(items, reverse=True)\n"
        "customer['tier'] = 'gold'\n"
        "customer['name'] = customer['name'].upper()\n"
        "tags = []\n"
        "tags.append('vip')\n"
        "count = 0\n"
        "for index, value in enumerate(items):\n"
        "    count += value\n"
        "first, *rest = items\n"
        "pairs = {k: v for k, v in zip(['a', 'b'], [1, 2])}\n"
        "def double(v):\n"
        "    return v * 2\n"
        "doubled = list(map(double, items))\n"
        "age = days_between(10, 40)\n"
        "try:\n"
        "    int('x')\n"
        "except ValueError:\n"
        "    parsed = False\n"
        "label = '%s-%d' % ('WO', 7)\n"
        "joined = str.join('-', ['a', 'b']) + str.upper('x') + str(tuple.count((1, 1), 1))\n"
        "head = items[1:]\n",
        data,
    )
    assert data["total"] == 12 and data["ranked"] == [3, 2, 1] and data["count"] == 6
    assert data["customer"] == {"name": "ADA", "tier": "gold"} and data["tags"] == ["vip"]
    assert data["first"] == 3 and data["rest"] == [1, 2] and data["pairs"] == {"a": 1, "b": 2}
    assert data["doubled"] == [6, 2, 4] and data["age"] == 30 and data["parsed"] is False
    assert data["label"] == "WO-7" and data["head"] == [1, 2] and data["joined"] == "a-bX2"
    assert "double" not in data and "days_between" not in data and "__builtins__" not in data


def test_expressions_see_data_and_helpers() -> None:
    assert SANDBOX.evaluate("amount > 1000 and priority == 'high'", {"amount": 2000, "priority": "high"})
    assert SANDBOX.evaluate("  days_between(1, 3)\n", {}) == 2


def test_task_data_cannot_replace_guards_or_helpers() -> None:
    assert SANDBOX.evaluate("x.real", {"x": 5, "_getattr_": "not a guard"}) == 5
    with pytest.raises(ValueError, match="days_between"):
        SANDBOX.execute("y = 1", {"days_between": 3})


def test_helpers_must_be_public_functions() -> None:
    with pytest.raises(ValueError):
        Sandbox({"_private": helper_days})
    with pytest.raises(ValueError):
        Sandbox({"len": helper_days})
    with pytest.raises(TypeError):
        Sandbox({"math": math})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"a": float("nan")}, "$.a: nan is not allowed"),
        ({"a": [1, float("-inf")]}, "$.a[1]: -inf"),
        ({"a": Decimal("NaN")}, "$.a: NaN"),
        ({1: "x"}, "key 1 is a int"),
        ({"a": "x\x00y"}, "NUL"),
        ({"a": "\ud800"}, "lone surrogate"),
        ({"a": {1, 2}}, "a set is not JSON data"),
        ({"a": object()}, "a object is not JSON data"),
        ({"a": 10**5000}, "integer is too large"),
    ],
)
def test_ensure_json_safe_refuses(value: object, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        ensure_json_safe(value)
    assert fragment in str(caught.value)


def test_ensure_json_safe_accepts_json_and_serializer_types() -> None:
    from datetime import date

    ensure_json_safe({"a": [1, 2.5, "x", None, True, {"b": (1, 2)}], "d": date(2030, 1, 1), "m": Decimal(1)})
    with pytest.raises(ValueError):
        ensure_json_safe({"d": date(2030, 1, 1)}, extra_types=())
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="nested deeper"):
        ensure_json_safe(cycle)


# ---- through SpiffWorkflow ------------------------------------------------------------------------------


def corpus_bundle(*extra: str) -> dict[str, bytes]:
    valid = CORPUS / "valid"
    files = {p.relative_to(valid).as_posix(): p.read_bytes() for p in valid.rglob("*") if p.is_file()}
    files.update({name: (CORPUS / name).read_bytes() for name in extra})
    return files


def engine(handler: Callable[..., dict[str, Any]] | None = None) -> AppScriptEngine:
    return AppScriptEngine(
        service_handler=handler or (lambda name, params, form: {"ticket_no": "T-1"}),
        helpers={"days_between": helper_days},
    )


def start(process_id: str, script_engine: AppScriptEngine, data: dict[str, Any], *extra: str) -> BpmnWorkflow:
    spec, subprocess_specs = parse_bundle(corpus_bundle(*extra)).spec(process_id)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    return workflow


def test_every_expression_path_goes_through_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[tuple[str, str]] = []
    real = sandbox_module.compile_source

    def spy(source: str, mode: sandbox_module.Mode) -> Any:
        compiled.append((mode, source.strip()))
        return real(source, mode)

    monkeypatch.setattr(sandbox_module, "compile_source", spy)
    calls: list[tuple[str, dict[str, Any]]] = []
    handler = engine(lambda name, params, form: calls.append((name, params)) or {"ticket_no": "T-1"})
    workflow = start("case", handler, {"items": [1, 2, 3]})
    workflow.do_engine_steps()
    review = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    review.data["approved"] = True
    review.run()
    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert calls == [("crm/create_ticket", {"subject": "Fee 12", "priority": "normal"})]
    assert workflow.data["mode"] == "depot" and workflow.data["ticket"] == {"ticket_no": "T-1"}
    sources = set(compiled)
    script = 'fee = sum([i * 2 for i in items])\nsummary = {"count": len(items)}\nsummary["total"] = fee'
    assert ("exec", script) in sources
    assert ("exec", 'priority = "high" if fee > 50 else "normal"') in sources  # pre-script
    assert ("exec", 'reviewed = "yes" if approved else "no"') in sources  # post-script
    assert ("eval", "fee > 10") in sources  # gateway condition
    assert ("eval", "'Fee ' + str(fee)") in sources  # service-task parameter
    assert ("eval", '"PT1H"') in sources  # timer expression
    assert ("eval", '"depot"') in sources  # DMN output cell
    assert any("dmninputexpr" in source for _, source in sources)  # DMN input cell with '?'


def test_escape_inside_a_running_script_fails_the_task() -> None:
    workflow = start("escape_script", engine(), {}, "escape_script.bpmn")
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "__subclasses__" in str(caught.value)
    assert caught.value.line_number == 2
    assert caught.value.task.state == TaskState.ERROR
    assert not workflow.is_completed()
    assert "classes" not in caught.value.task.data


def test_import_in_a_gateway_condition_fails_at_runtime() -> None:
    workflow = start("import_condition", engine(), {}, "import_condition.bpmn")
    with pytest.raises(WorkflowTaskException, match="__import__"):
        workflow.do_engine_steps()


def test_service_handler_errors_keep_their_message() -> None:
    def broken(name: str, params: dict[str, Any], form: Any) -> dict[str, Any]:
        raise RuntimeError("CRM is down")

    workflow = start("case", engine(broken), {"items": [10]})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    expected = "Service task operator 'crm/create_ticket' failed: RuntimeError: CRM is down"
    assert str(caught.value).startswith(expected)
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_service_results_must_be_json_safe() -> None:
    workflow = start("case", engine(lambda name, params, form: {"score": float("nan")}), {"items": [10]})
    with pytest.raises(WorkflowTaskException, match="nan is not allowed"):
        workflow.do_engine_steps()


def test_script_errors_with_non_text_args_are_reported_not_crashed() -> None:
    """Spiff's reporter does `'KeyError:' + err.args[0]`, a TypeError when the key is an int."""
    workflow = start("case", engine(), {"items": [1]})
    workflow.spec.task_specs["compute"].script = "x = 1\ny = {}[1]"  # this test's own freshly parsed spec
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert str(caught.value).startswith("KeyError: 1")
    assert caught.value.line_number == 2 and caught.value.error_line == "y = {}[1]"
