"""A fast evaluator for the common shapes of outcome conditions.

rule-engine stays the authority: it parses and type-checks every condition, and any condition
that uses something this module does not know is evaluated by rule-engine itself. For the
shapes the default rulesets use (comparisons of numbers, symbols and literals joined by
``and``/``or``/``not``, ``'X' in array``), the parsed rule-engine tree is turned into plain
Python closures, which is many times faster than walking it per decision.

Numbers: rule-engine compares a float ``x`` as ``Decimal(repr(x))``. Rounding a decimal to the
nearest float is monotone and ``repr`` gives the shortest decimal that rounds back to ``x``, so
for two floats ``a < b`` exactly when ``Decimal(repr(a)) < Decimal(repr(b))`` (and likewise for
equality). The closures therefore compare floats directly, which is much cheaper. A literal
that is not the shortest form of a float (``0.1000000000000000001``) would break that argument,
so a condition with such a literal is left to rule-engine; so is any arithmetic. The test suite
checks that both evaluators agree on random contexts.
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


_EXACT_INT = 2**53


def _float_literal(value: decimal.Decimal) -> float:
    as_float = float(value)
    if decimal.Decimal(repr(as_float)) != value:
        raise Unsupported(f"literal {value} is not the shortest form of a float")
    return as_float


def _value(ctx: dict[str, Any], name: str) -> Any:
    try:
        value = ctx[name]
    except KeyError:
        raise Unsupported(name) from None
    if type(value) is int:
        if abs(value) >= _EXACT_INT:
            raise Unsupported(f"{name} is an integer beyond float precision")
        return float(value)
    return value


def _constant(node: Any, constants: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) when ``node`` is a literal or a name fixed by the ruleset."""
    kind = type(node)
    if kind is ast.BooleanExpression or kind is ast.StringExpression:
        return True, node.value
    if kind is ast.FloatExpression:
        return True, _float_literal(decimal.Decimal(node.value))
    if kind is ast.SymbolExpression and not getattr(node, "scope", None) and node.name in constants:
        value = constants[node.name]
        return True, float(value) if type(value) is int else value
    return False, None


def _build(node: Any, constants: dict[str, Any]) -> tuple[Fn, bool]:
    """The closure for ``node`` and whether it always returns a bool (so that callers need
    not wrap it in ``bool()``)."""
    kind = type(node)
    is_constant, constant = _constant(node, constants)
    if is_constant:
        return (lambda ctx: constant), type(constant) is bool
    if kind is ast.SymbolExpression and not getattr(node, "scope", None):
        name = node.name
        return (lambda ctx: _value(ctx, name)), False
    if kind in (ast.ArithmeticComparisonExpression, ast.ComparisonExpression) and node.type in _COMPARE:
        op = _COMPARE[node.type]
        right_constant, right_value = _constant(node.right, constants)
        if right_constant and type(node.left) is ast.SymbolExpression and not getattr(node.left, "scope", None):
            return _compare_to_constant(op, node.left.name, right_value), True
        left, _ = _build(node.left, constants)
        right, _ = _build(node.right, constants)
        return (lambda ctx: op(left(ctx), right(ctx))), False
    if kind is ast.LogicExpression and node.type in ("and", "or"):
        (left, left_bool), (right, right_bool) = _build(node.left, constants), _build(node.right, constants)
        if not left_bool:
            left = _as_bool(left)
        if not right_bool:
            right = _as_bool(right)
        if node.type == "and":
            return (lambda ctx: left(ctx) and right(ctx)), True
        return (lambda ctx: left(ctx) or right(ctx)), True
    if kind is ast.UnaryExpression and node.type == "not":
        inner, _ = _build(node.right, constants)
        return (lambda ctx: not inner(ctx)), True
    if kind is ast.ContainsExpression:
        (member, _), (container, _) = _build(node.member, constants), _build(node.container, constants)
        return (lambda ctx: member(ctx) in container(ctx)), True
    raise Unsupported(kind.__name__)


def _as_bool(fn: Fn) -> Fn:
    return lambda ctx: bool(fn(ctx))


def _compare_to_constant(op: Callable[[Any, Any], Any], name: str, constant: Any) -> Fn:
    """``name <op> constant``. A float in the context (what the engine puts there) is compared
    at once; anything else goes through :func:`_value` (missing names, integers, the rest)."""

    def compare(ctx: dict[str, Any]) -> Any:
        value = ctx.get(name)
        if type(value) is not float:
            value = _value(ctx, name)
        return op(value, constant)

    return compare


def compile_condition(rule: Any, constants: dict[str, Any] | None = None) -> Fn | None:
    """A closure evaluating ``rule`` on a context, or None when rule-engine must do it. The
    closure raises :class:`Unsupported` when the context lacks a name or holds a value this
    evaluator does not compare (the caller then asks rule-engine). ``constants`` are names whose
    values the ruleset fixes (its thresholds); they are folded in when the closure is built."""
    try:
        fn, gives_bool = _build(rule.statement.expression, constants or {})
    except (Unsupported, AttributeError):
        return None
    return fn if gives_bool else _as_bool(fn)
