"""Reading names out of a candidate's AST for the static scan, without running anything.

`dotted` spells an attribute chain as a name (`torch.nn.functional.relu`), counting a
constant-name `getattr(x, "name")` as the attribute it is; `expression_root` finds the name a
chain starts at when the chain cannot be spelled (`self.layers[0].bias`); `bound_names` lists the
names the solution binds itself, so that its own `open` is not taken for the builtin. Kept apart
from the visitor because they are pure functions of the tree.
"""

from __future__ import annotations

import ast


def constant_getattr(node: ast.AST) -> tuple[ast.AST, str] | None:
    """(object, name) for `getattr(obj, "name")` / `getattr(obj, "name", default)`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[0], node.args[1].value
    return None


def expression_root(node: ast.AST) -> str | None:
    """The name an attribute/subscript/call chain starts at (`self` in `self.a[0].b`), else None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for Name/Attribute chains (a constant-name getattr counts as an attribute), else None."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
            continue
        got = constant_getattr(node)
        if got is None:
            break
        node, name = got
        parts.append(name)
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def bound_names(tree: ast.AST) -> set[str]:
    """Names the solution binds itself (so `open` there is its own, not the builtin)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound
