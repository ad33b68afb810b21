"""The ``arithmetic`` checker: computes the gold of an arithmetic expression, safely.

The input is parsed with `ast` and only numbers and + - * / ** % are evaluated, within bounds,
so no input can run code or exhaust memory.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_evalmix.checkers.contract import CheckerError, show

if TYPE_CHECKING:
    from pytest_evalmix.model.records import Example

MAX_EXPRESSION = 1000
MAX_EXPONENT = 100
MAX_MAGNITUDE = 10**300

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_ALLOWED = "only numbers, + - * / ** %, unary + and -, and parentheses are allowed"


def calculate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely: parsed with `ast`, never `eval`.

    Bounds keep a hostile expression cheap: at most `MAX_EXPRESSION` characters, exponents of at
    most `MAX_EXPONENT` in magnitude, and no intermediate value beyond `MAX_MAGNITUDE`. Raises
    `CheckerError` for anything else, including a division by zero.
    """
    if len(expression) > MAX_EXPRESSION:
        raise CheckerError(
            f"the expression is {len(expression)} characters long, more than {MAX_EXPRESSION}",
            "shorten the expression, or write a checker of your own for it",
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CheckerError(
            f"{show(expression)} is not an arithmetic expression",
            f"write the expression with {_ALLOWED.removeprefix('only ')}",
        ) from None
    try:
        return _evaluate(tree.body, expression)
    except RecursionError:
        raise CheckerError("the expression is nested too deeply", "simplify it") from None


def _evaluate(node: ast.expr, source: str) -> int | float:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _bounded(value)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _bounded(_UNARY[type(node.op)](_evaluate(node.operand, source)))
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, source)
        right = _evaluate(node.right, source)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CheckerError(
                f"exponent {show(right)} is larger than {MAX_EXPONENT} in magnitude",
                "use a smaller exponent",
            )
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CheckerError(
                f"division by zero in {show(source)}", "fix the expression in the input"
            ) from None
        except OverflowError:
            raise CheckerError(f"{show(source)} overflows", "use smaller numbers") from None
        if isinstance(result, complex):
            raise CheckerError(
                f"{show(source)} has no real result", "fix the expression in the input"
            )
        return _bounded(result)
    segment = ast.get_source_segment(source.strip(), node) or type(node).__name__
    raise CheckerError(
        f"{show(segment)} is not allowed in an arithmetic expression: {_ALLOWED}",
        "write the input as plain arithmetic, or register a checker of your own for it",
    )


def _bounded(value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise CheckerError("a value in the expression overflows", "use smaller numbers")
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        raise CheckerError("a value in the expression exceeds 10**300", "use smaller numbers")
    return value


def compute(example: Example) -> int | float:
    """Computes the gold from ``input`` (a string) or ``input.expression``."""
    data = example.input
    expression = data.get("expression") if isinstance(data, dict) else data
    if not isinstance(expression, str):
        raise CheckerError(
            "arithmetic reads the expression from the input when it is a string, "
            "else from input.expression",
            "give the input as an expression such as '2 * 19.99', or add input.expression",
        )
    return calculate(expression)
