"""Deploy-lint rules for decision tables and forms: one decision table per DMN file with a catch-all rule and
cells that compile in the sandbox; form files that are valid JSON, used schemas that are Draft 2020-12 object
schemas with local $refs and patterns RE2 can run, and UI files that are objects.

A mixin of engine/bpmn/lint.py's linter, which supplies `add`, `code`, `problems`, `bundle`, `schemas` and
`ui_files`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.bpmn.patterns import schema_pattern_problems
from engine.bpmn.sandbox import Mode
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import load_json
from engine.errors import DefinitionProblem

_DMN_QMARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # the engine's own rewrite of '?'


def _dmn_entry_source(input_expr: str, entry: str) -> str:
    """The expression the DMN engine evaluates for one input cell (mirrors DMNEngine.evaluate)."""
    entry = _DMN_QMARK.sub("dmninputexpr", entry)
    if "dmninputexpr" in entry:
        return entry
    try:
        ast.parse(entry)
    except SyntaxError:
        return input_expr + entry
    return f"({input_expr}) == ({entry})"


class DmnAndFormRules:
    """The DMN and form rules of the deploy lint (mixed into its linter)."""

    bundle: ParsedBundle
    problems: list[DefinitionProblem]
    schemas: dict[str, Any]
    ui_files: dict[str, Any]

    def add(self, file: str, el: Any, message: str, *, line: int | None = None) -> None:
        raise NotImplementedError

    def code(self, file: str, el: Any, source: str, mode: Mode, what: str, *, line: int | None = None) -> bool:
        raise NotImplementedError

    # ---- DMN ----------------------------------------------------------------------------------------

    def check_dmn(self, file: str, tree: Any) -> None:
        root = tree.getroot()
        ns = {"dmn": etree.QName(root).namespace}
        decisions = root.findall("dmn:decision", ns)
        if len(decisions) != 1:
            self.add(file, root, f"a DMN file must hold exactly one decision, not {len(decisions)}")
        for decision in decisions:
            tables = decision.findall("dmn:decisionTable", ns)
            if len(tables) != 1:
                self.add(file, decision, "a decision must hold exactly one decision table")
            for table in tables:
                self.check_table(file, table, ns)

    def check_table(self, file: str, table: Any, ns: Mapping[str, str]) -> None:
        inputs = table.findall("dmn:input", ns)
        outputs = len(table.findall("dmn:output", ns))
        expressions = [self.input_expression(file, i, ns) for i in inputs]
        catch_all = None
        collect = table.get("hitPolicy", "UNIQUE").upper() == "COLLECT"
        for number, rule in enumerate(table.findall("dmn:rule", ns), start=1):
            entries = rule.findall("dmn:inputEntry", ns)
            cells = (len(entries), len(rule.findall("dmn:outputEntry", ns)))
            if cells != (len(inputs), outputs):
                self.add(
                    file,
                    rule,
                    f"rule {number} has {cells[0]} input and {cells[1]} output entries; "
                    f"the table has {len(inputs)} inputs and {outputs} outputs",
                )
                continue
            if catch_all is not None and not collect:
                self.add(file, rule, f"rule {number} follows catch-all rule {catch_all} and never matches")
            texts = [(e, (e.findtext("dmn:text", "", ns) or "").strip()) for e in entries]
            for (entry, text), expression in zip(texts, expressions, strict=True):
                if text not in ("", "-") and expression is not None:
                    self.code(
                        file,
                        entry,
                        _dmn_entry_source(expression, text),
                        "eval",
                        f"rule {number} input entry {text!r}",
                        line=entry.sourceline,
                    )
            for entry in rule.findall("dmn:outputEntry", ns):
                text = (entry.findtext("dmn:text", "", ns) or "").strip()
                if text:
                    self.code(file, entry, text, "eval", f"rule {number} output entry", line=entry.sourceline)
            if catch_all is None and all(t in ("", "-") for _, t in texts):
                catch_all = number
        if catch_all is None:
            self.add(
                file,
                table,
                "decision table has no catch-all rule: add a last rule with '-' in every "
                "input column, or no rule may match and nothing is written",
            )

    def input_expression(self, file: str, column: Any, ns: Mapping[str, str]) -> str | None:
        text = (column.findtext("dmn:inputExpression/dmn:text", "", ns) or "").strip()
        if not text:
            self.add(file, column, "DMN input has no input expression")
            return None
        return text if self.code(file, column, text, "eval", "DMN input expression") else None

    # ---- forms --------------------------------------------------------------------------------------

    def check_forms(self) -> None:
        """Every JSON file parses; used schemas are Draft 2020-12 object schemas; UI files are objects."""
        names = sorted(n for n in self.bundle.files if n.endswith(".json"))
        for name in names:
            clash = [n for n in names if n != name and PurePosixPath(n).name == PurePosixPath(name).name]
            if clash:
                message = f"same file name as {clash[0]}: forms are found by name, so names must be unique"
                self.problems.append(DefinitionProblem(name, None, message))
            value, problem = load_json(name, self.bundle.files[name])
            if problem is not None:
                self.problems.append(problem)
            elif name in self.schemas:
                self.problems.extend(_schema_problems(name, value))
            elif name in self.ui_files and not isinstance(value, dict):
                self.problems.append(DefinitionProblem(name, None, "UI schema must be a JSON object"))


def _schema_problems(name: str, schema: Any) -> Iterator[DefinitionProblem]:
    """A form schema must be a valid Draft 2020-12 schema for an object, with local $refs only."""
    if not isinstance(schema, dict):
        yield DefinitionProblem(name, None, "form schema must be a JSON object")
        return
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.path) or "(root)"
        yield DefinitionProblem(name, None, f"not a valid JSON Schema at {where}: {err.message}")
    if schema.get("type") != "object":
        yield DefinitionProblem(name, None, 'form schema must have "type": "object"')
    for ref in _refs(schema):
        if not ref.startswith("#"):
            yield DefinitionProblem(name, None, f"$ref {ref!r} points outside the file: only '#/...' works")
    for message in schema_pattern_problems(schema):
        yield DefinitionProblem(name, None, message)


def _refs(value: Any) -> Iterator[str]:
    """Every $ref/$dynamicRef string in a schema."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in ("$ref", "$dynamicRef") and isinstance(child, str):
                    yield child
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
