"""Regular expressions in form schemas: compiled with RE2 (linear time), never with Python's backtracking `re`."""

from __future__ import annotations

import functools
from typing import Any

import re2

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=1024)
def compiled_pattern(pattern: str) -> Any:
    """The RE2 program for a pattern (cached).

    :raises re2.error: RE2 cannot compile it.
    """
    return re2.compile(pattern, _RE2_OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why a form pattern is refused (RE2 cannot run it in linear time), or None."""
    try:
        compiled_pattern(pattern)
    except re2.error as err:
        detail = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else str(err)
        return f"pattern {pattern!r} is not supported ({detail}): backreferences and lookaround are not allowed"
    return None


def schema_pattern_problems(schema: Any) -> list[str]:
    """Every regular expression in a form schema RE2 refuses, and `unevaluatedProperties` beside
    `patternProperties` (jsonschema would match those patterns with Python's backtracking `re`)."""
    problems: list[str] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
            named = node.get("patternProperties")
            patterns += list(named) if isinstance(named, dict) else []
            problems += [m for m in map(pattern_problem, patterns) if m]
            if isinstance(named, dict) and "unevaluatedProperties" in node:
                problems.append("unevaluatedProperties cannot be combined with patternProperties")
            stack.extend(node.values())
    return problems
