"""Translate the simple JUEL that Camunda 7, Flowable and Activiti models use into sandbox Python.

Only what reads the same in both languages is translated: variables, literals, `!`/`not`, `&&`/`||`, comparisons
(also `eq ne lt gt le ge`), arithmetic, `empty x` and `a ? b : c`. Property access, method calls, beans and
`execution.getVariable(...)` need the other engine's runtime, so they are refused with the reason; the importer
reports them element by element instead of guessing.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass

_EXPRESSION = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()+\-*/%?:.\[\],])
    )""",
    re.VERBOSE | re.DOTALL,
)
_WORD_OPS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_WORD_OPS |= {"div": "/", "mod": "%"}
_COMPARE: dict[str, ast.cmpop] = {
    "==": ast.Eq(),
    "!=": ast.NotEq(),
    "<": ast.Lt(),
    ">": ast.Gt(),
    "<=": ast.LtE(),
    ">=": ast.GtE(),
}
_ARITHMETIC: dict[str, ast.operator] = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult(), "/": ast.Div(), "%": ast.Mod()}
_CONSTANTS = {"true": True, "false": False, "null": None}


class JuelError(ValueError):
    """The expression uses JUEL this translator does not convert; the message says what."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, op, end
    text: str


def is_expression(text: str) -> bool:
    """Whether the text is one `${...}` (or `#{...}`) expression."""
    return _EXPRESSION.match(text) is not None


def translate(text: str) -> str:
    """The Python form of one `${...}` JUEL expression.

    :raises JuelError: not a single `${...}` expression, or it uses JUEL that has no plain Python equivalent.
    """
    found = _EXPRESSION.match(text)
    if found is None:
        raise JuelError(f"{text.strip()!r} is not a single ${{...}} expression")
    body = found.group("body")
    if "${" in body or "#{" in body:
        raise JuelError(f"{text.strip()!r} mixes text and several expressions")
    return ast.unparse(_Parser(_tokens(body)).parse())


def _tokens(body: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(body):
        if not body[position:].strip():
            break
        match = _TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise JuelError(f"cannot read {body[position:].strip()[:20]!r}")
        kind = match.lastgroup or "op"
        value = match.group(kind)
        if kind == "name" and value in _WORD_OPS:
            kind, value = "op", _WORD_OPS[value]
        tokens.append(_Token(kind, value))
        position = match.end()
    return [*tokens, _Token("end", "")]


def _string(literal: str) -> str:
    """A JUEL string literal's value: only \\\\, \\' and \\" are escapes in EL."""
    return re.sub(r"\\([\\'\"])", r"\1", literal[1:-1])


class _Parser:
    """Recursive descent over EL's precedence levels, building a Python AST."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self, *ops: str) -> str | None:
        token = self.peek()
        if token.kind == "op" and token.text in ops:
            self.at += 1
            return token.text
        return None

    def parse(self) -> ast.expr:
        node = self.ternary()
        if self.peek().kind != "end":
            raise JuelError(f"unexpected {self.peek().text!r}")
        return node

    def ternary(self) -> ast.expr:
        test = self.disjunction()
        if not self.take("?"):
            return test
        then = self.ternary()
        if not self.take(":"):
            raise JuelError("'?' without ':'")
        return ast.IfExp(test=test, body=then, orelse=self.ternary())

    def disjunction(self) -> ast.expr:
        values = [self.conjunction()]
        while self.take("||"):
            values.append(self.conjunction())
        return values[0] if len(values) == 1 else ast.BoolOp(op=ast.Or(), values=values)

    def conjunction(self) -> ast.expr:
        values = [self.equality()]
        while self.take("&&"):
            values.append(self.equality())
        return values[0] if len(values) == 1 else ast.BoolOp(op=ast.And(), values=values)

    def equality(self) -> ast.expr:
        return self.comparison_chain(self.relation, ("==", "!="))

    def relation(self) -> ast.expr:
        return self.comparison_chain(self.additive, ("<", ">", "<=", ">="))

    def comparison_chain(self, parse: Callable[[], ast.expr], ops: tuple[str, ...]) -> ast.expr:
        """Left-associative like EL: `a < b == c` is `(a < b) == c`, never Python's chained comparison."""
        node = parse()
        while (op := self.take(*ops)) is not None:
            node = ast.Compare(left=node, ops=[_COMPARE[op]], comparators=[parse()])
        return node

    def additive(self) -> ast.expr:
        node = self.multiplicative()
        while (op := self.take("+", "-")) is not None:
            node = ast.BinOp(left=node, op=_ARITHMETIC[op], right=self.multiplicative())
        return node

    def multiplicative(self) -> ast.expr:
        node = self.unary()
        while (op := self.take("*", "/", "%")) is not None:
            node = ast.BinOp(left=node, op=_ARITHMETIC[op], right=self.unary())
        return node

    def unary(self) -> ast.expr:
        if self.take("!"):
            return ast.UnaryOp(op=ast.Not(), operand=self.unary())
        if self.take("-"):
            return ast.UnaryOp(op=ast.USub(), operand=self.unary())
        token = self.peek()
        if token.kind == "name" and token.text == "empty":
            self.at += 1
            return ast.UnaryOp(op=ast.Not(), operand=self.unary())
        return self.primary()

    def primary(self) -> ast.expr:
        token = self.peek()
        self.at += 1
        if token.kind == "number":
            number = float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            return ast.Constant(value=number)
        if token.kind == "string":
            return ast.Constant(value=_string(token.text))
        if token.kind == "op" and token.text == "(":
            node = self.ternary()
            if not self.take(")"):
                raise JuelError("missing ')'")
            return node
        if token.kind == "name":
            return self.name(token.text)
        raise JuelError(f"unexpected {token.text or 'end of expression'!r}")

    def name(self, text: str) -> ast.expr:
        if text in _CONSTANTS:
            return ast.Constant(value=_CONSTANTS[text])
        following, rest = self.peek(), self.tokens[self.at + 1 :]
        namespaced = following.text == ":" and len(rest) > 1 and rest[0].kind == "name" and rest[1].text == "("
        if following.kind == "op" and (following.text in (".", "(", "[") or namespaced):
            raise JuelError(_access_reason(text, following.text, rest))
        if text == "instanceof" or keyword.iskeyword(text) or text.startswith("_") or "$" in text:
            raise JuelError(f"{text!r} cannot be a variable name here")
        return ast.Name(id=text, ctx=ast.Load())


def _access_reason(name: str, op: str, rest: list[_Token]) -> str:
    """Why `name.x`, `name(...)`, `name[...]` or `ns:fn(...)` is refused."""
    if op == ":":
        return f"calls the function {name}:{rest[0].text}"
    if op == "(":
        return f"calls the function {name}"
    if op == "[":
        return f"indexes {name!r}"
    member = rest[0].text if rest and rest[0].kind == "name" else ""
    calls = len(rest) > 1 and rest[1].kind == "op" and rest[1].text == "("
    if name == "execution" or calls:
        return f"calls {name}.{member}(...), which needs the other engine's runtime"
    return f"reads the property {name}.{member}"
