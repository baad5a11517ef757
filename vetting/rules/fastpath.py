"""A fast evaluator for the common shapes of outcome conditions.

rule-engine stays the authority: it parses and type-checks every condition, and any condition
that uses something this module does not know is evaluated by rule-engine itself. For the
shapes the default rulesets use (comparisons of numbers, symbols and literals joined by
``and``/``or``/``not``, ``'X' in array``), the parsed rule-engine tree is turned into plain
Python closures, which is many times faster than walking it per decision. Numbers are compared
as rule-engine compares them: as ``Decimal(repr(value))``. The test suite checks that both
evaluators agree on random contexts.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable
from typing import Any

from rule_engine import ast

Fn = Callable[[dict[str, Any]], Any]

_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq, "ne": operator.ne}


class Unsupported(Exception):
    """The condition uses a construct this evaluator leaves to rule-engine."""


def _num(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if isinstance(value, int):
        return decimal.Decimal(value)
    return value


def _build(node: Any) -> Fn:
    kind = type(node)
    if kind is ast.BooleanExpression or kind is ast.StringExpression:
        value = node.value
        return lambda ctx: value
    if kind is ast.FloatExpression:
        value = decimal.Decimal(node.value)
        return lambda ctx: value
    if kind is ast.SymbolExpression and not getattr(node, "scope", None):
        name = node.name

        def symbol(ctx: dict[str, Any]) -> Any:
            try:
                return ctx[name]
            except KeyError:
                raise Unsupported(name) from None

        return symbol
    if kind in (ast.ArithmeticComparisonExpression, ast.ComparisonExpression) and node.type in _COMPARE:
        op, left, right = _COMPARE[node.type], _build(node.left), _build(node.right)
        return lambda ctx: op(left(ctx), right(ctx))
    if kind is ast.LogicExpression and node.type in ("and", "or"):
        left, right = _build(node.left), _build(node.right)
        if node.type == "and":
            return lambda ctx: bool(left(ctx)) and bool(right(ctx))
        return lambda ctx: bool(left(ctx)) or bool(right(ctx))
    if kind is ast.UnaryExpression and node.type == "not":
        inner = _build(node.right)
        return lambda ctx: not inner(ctx)
    if kind is ast.ContainsExpression:
        member, container = _build(node.member), _build(node.container)
        return lambda ctx: member(ctx) in container(ctx)
    raise Unsupported(kind.__name__)


class _Prepared(dict):
    """A view of a context whose numbers are converted the way rule-engine converts them, each
    on first use and then kept, so a value shared by several rows is converted once."""

    def __init__(self, context: dict[str, Any]) -> None:
        super().__init__()
        self.context = context

    def __missing__(self, key: str) -> Any:
        value = self[key] = _num(self.context[key])
        return value


def prepare(context: dict[str, Any]) -> dict[str, Any]:
    return _Prepared(context)


def compile_condition(rule: Any) -> Fn | None:
    """A closure evaluating ``rule`` on a :func:`prepare`-d context, or None when rule-engine
    must do it."""
    try:
        fn = _build(rule.statement.expression)
    except (Unsupported, AttributeError):
        return None
    return lambda ctx: bool(fn(ctx))
