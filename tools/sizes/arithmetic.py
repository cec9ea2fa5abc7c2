"""Evaluating the arithmetic of a problem file's constants from the AST (`2048 * 2`, `-0.1`,
`(N, *input_shape)`), never by running the file.

`evaluate` computes over numbers, tuples and known names; `literal_expr`/`number` say whether an
expression is a literal knob (numbers and operators only, no names). Shared by the reader (which
knobs exist) and the model (what shapes the knobs give).
"""

from __future__ import annotations

import ast

Number = int | float


def evaluate(expr: ast.expr, env: dict[str, object]) -> object:
    """The value of an arithmetic expression over numbers, tuples and `env`; None if unknown."""
    if isinstance(expr, ast.Constant) and type(expr.value) in (int, float):
        return expr.value
    if isinstance(expr, ast.Name):
        return env.get(expr.id)
    if isinstance(expr, ast.Tuple | ast.List):
        items = [evaluate(e, env) for e in expr.elts]
        return None if any(i is None for i in items) else tuple(items)
    if isinstance(expr, ast.Starred):
        return evaluate(expr.value, env)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub | ast.UAdd):
        v = evaluate(expr.operand, env)
        return (-v if isinstance(expr.op, ast.USub) else v) if isinstance(v, int | float) else None
    if isinstance(expr, ast.BinOp):
        a, b = evaluate(expr.left, env), evaluate(expr.right, env)
        if not (isinstance(a, int | float) and isinstance(b, int | float)):
            return None
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.FloorDiv: lambda: a // b,
               ast.Div: lambda: a / b, ast.Mod: lambda: a % b, ast.Pow: lambda: a**b if abs(b) < 64 else None}
        try:
            fn = ops.get(type(expr.op))
            return fn() if fn else None
        except (ZeroDivisionError, OverflowError):
            return None
    return None


def literal_expr(expr: ast.expr) -> bool:
    """Numbers and arithmetic on numbers only (`2048 * 2`, `-1.0`), no names, no bools."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                return False
        elif not isinstance(node, ast.BinOp | ast.UnaryOp | ast.operator | ast.unaryop | ast.expr_context):
            return False
    return isinstance(evaluate(expr, {}), int | float)


def number(expr: ast.expr) -> Number | None:
    value = evaluate(expr, {})
    return value if literal_expr(expr) and isinstance(value, int | float) else None
