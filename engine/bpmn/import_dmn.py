"""Convert the simple FEEL of a Camunda/Flowable decision table into the Python cells this engine evaluates.

Input entries are FEEL unary tests: literals, comparisons (`< 250`), ranges (`[250..1000]`), lists (`"a","b"`)
and `not(...)`; outputs are literals. Anything else (dates, functions, contexts, other hit policies' lists)
is reported on its cell, which then stays as it was so that the deploy check points at it.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from engine.bpmn.juel import JuelError
from engine.bpmn.juel import is_expression
from engine.bpmn.juel import translate

Note = Callable[[Any, str, str], None]
DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
    }
)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"-?\d+(?:\.\d+)?"
_STRING = r'"(?:[^"\\]|\\.)*"'
_RANGE = re.compile(r"^\s*([\[\](])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\])])\s*$")
_COMPARISON = re.compile(r"^\s*(<=|>=|<|>)\s*(.+)$")
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_FIRST_MATCH = frozenset({"UNIQUE", "FIRST", "ANY", "PRIORITY"})


class FeelError(ValueError):
    """The FEEL text is beyond the simple subset this converter handles."""


def is_dmn(root: Any) -> bool:
    """Whether a parsed root is DMN definitions in a namespace the engine validates."""
    return etree.QName(root).namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions"


def convert_decisions(root: Any, note: Note, *, feel: bool) -> list[str]:
    """Convert every decision table's cells in place (`feel`: the cells are FEEL; else they are Python already and
    only the table's shape is checked); returns the decision ids."""
    ns = {"dmn": etree.QName(root).namespace}
    decisions = root.findall("dmn:decision", ns)
    if len(decisions) != 1:
        note(root, "error", f"holds {len(decisions)} decisions: the engine wants one decision per DMN file")
    for table in root.iterfind("dmn:decision/dmn:decisionTable", ns):
        _table(table, ns, note, feel)
    return [str(d.get("id")) for d in decisions if d.get("id")]


def _table(table: Any, ns: dict[str, str], note: Note, feel: bool) -> None:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in _FIRST_MATCH | {"COLLECT"} or table.get("aggregation"):
        what = f"{policy} {table.get('aggregation') or ''}".strip()
        note(table, "warning", f"hit policy {what} is not supported: the first matching rule's outputs are used")
        table.set("hitPolicy", "FIRST")
        table.attrib.pop("aggregation", None)
    if not feel:
        return
    for text in table.iterfind("dmn:input/dmn:inputExpression/dmn:text", ns):
        _cell(text, note, _input_expression, "input expression")
    for text in table.iterfind("dmn:rule/dmn:inputEntry/dmn:text", ns):
        _cell(text, note, unary_tests, "input entry")
    for text in table.iterfind("dmn:rule/dmn:outputEntry/dmn:text", ns):
        _cell(text, note, _output, "output entry")
    for expression in table.iterfind("dmn:input/dmn:inputExpression", ns):
        expression.attrib.pop("expressionLanguage", None)


def _cell(text_el: Any, note: Note, convert: Callable[[str], str], what: str) -> None:
    source = (text_el.text or "").strip()
    try:
        python = convert(source)
    except FeelError as err:
        note(text_el.getparent(), "error", f"{what} {source!r} was not converted: {err}")
        return
    if python != source:
        text_el.text = python


def _input_expression(source: str) -> str:
    if is_expression(source):
        try:
            return translate(source)
        except JuelError as err:
            raise FeelError(str(err)) from err
    if _is_name(source):
        return source
    raise FeelError("only a variable name (or a simple ${...}) can be an input expression here")


def unary_tests(source: str) -> str:
    """A FEEL unary-tests cell as a Python cell ('-' for any value; '?' stands for the input value)."""
    if source in ("", "-"):
        return "-"
    negated = re.fullmatch(r"\s*not\s*\((.*)\)\s*", source, re.DOTALL)
    if negated:
        return f"not ({_as_test(negated.group(1))})"
    tests = _split(source)
    if len(tests) == 1 and (_is_literal(tests[0]) or _is_name(tests[0])):
        return _literal(tests[0])
    return _as_test(source)


def _as_test(source: str) -> str:
    """Tests joined by `or`, each written over '?'; a list of literals becomes `? in (...)`."""
    tests = _split(source)
    if len(tests) > 1 and all(_is_literal(t) for t in tests):
        return f"? in ({', '.join(_literal(t) for t in tests)})"
    return " or ".join(_test(t) for t in tests)


def _test(test: str) -> str:
    comparison = _COMPARISON.match(test)
    if comparison:
        return f"? {comparison.group(1)} {_endpoint(comparison.group(2))}"
    interval = _RANGE.match(test)
    if interval:
        low = "<=" if interval.group(1) == "[" else "<"
        high = "<=" if interval.group(4) == "]" else "<"
        return f"{_endpoint(interval.group(2))} {low} ? {high} {_endpoint(interval.group(3))}"
    return f"? == {_endpoint(test)}"


def _is_literal(text: str) -> bool:
    value = text.strip()
    return bool(re.fullmatch(_NUMBER, value) or re.fullmatch(_STRING, value, re.DOTALL)) or value in _LITERALS


def _is_name(text: str) -> bool:
    value = text.strip()
    return bool(re.fullmatch(_NAME, value)) and value not in _LITERALS and not keyword.iskeyword(value)


def _endpoint(text: str) -> str:
    if not (_is_literal(text) or _is_name(text)):
        raise FeelError(f"{text.strip()!r} is not a literal or a variable name")
    return _literal(text)


def _literal(text: str) -> str:
    value = text.strip()
    if value.startswith('"'):
        return json.dumps(json.loads(value), ensure_ascii=False)
    return _LITERALS.get(value, value)


def _output(source: str) -> str:
    if not source or not (_is_literal(source) or _is_name(source)):
        if source:
            raise FeelError(
                "only literals (text in double quotes, numbers, true, false, null) or a variable can be outputs here"
            )
        return source
    return _literal(source)


def _split(source: str) -> list[str]:
    """Split a FEEL list of tests at top-level commas (not inside quotes, brackets or parentheses)."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in source:
        if char == '"' and not current.endswith("\\"):
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        if char == "," and not quoted and depth <= 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    if any(not p for p in parts):
        raise FeelError("empty test in a list")
    return parts
