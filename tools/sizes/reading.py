"""Finding the knobs of a problem source: module constants (plain, chained `h = w = 128`, tuple
`D, H, W = 16, 32, 32`, tuple values `input_shape = (8192 * 2,)`), local scalars and literal
sizes of tensor factories in `get_inputs`/`get_init_inputs`, and literals they return; then
keeping only those that the inputs, the constructor arguments or `Model` use.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable

from kernelwright.tools import pyast
from kernelwright.tools.sizes.arithmetic import number as number_of
from kernelwright.tools.sizes.model import Knob, SizeModel, Span

# Tensor factories whose positional arguments (or `size=`) are sizes.
_SIZE_FACTORIES = {"rand", "randn", "zeros", "ones", "empty", "randperm", "eye"}


def _module_assignments(tree: ast.Module) -> Iterable[tuple[list[ast.expr], ast.expr]]:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            yield node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            yield [node.target], node.value


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _factory_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "torch":
        return f.attr
    return None


def _size_args(call: ast.Call) -> list[ast.expr]:
    """The expressions of a tensor factory call that are its sizes."""
    name = _factory_name(call)
    keyword = next((k.value for k in call.keywords if k.arg == "size"), None)
    if name in _SIZE_FACTORIES:
        args = list(call.args) if keyword is None else [keyword]
    elif name == "randint":  # randint(high, size) / randint(low, high, size): the tuple is the size
        args = [call.args[-1]] if keyword is None and len(call.args) >= 2 else ([keyword] if keyword is not None else [])
    elif name == "full":  # full(size, fill_value)
        args = [call.args[0]] if call.args else ([keyword] if keyword is not None else [])
    else:
        return []
    out: list[ast.expr] = []
    for arg in args:
        out.extend(arg.elts if isinstance(arg, ast.Tuple | ast.List) else [arg])
    return out


def read_knobs(source: str) -> SizeModel:
    """The size model of a problem source (which must parse)."""
    tree = pyast.parse(source)
    knobs: list[Knob] = []
    derived: dict[str, ast.expr] = {}
    for targets, value in _module_assignments(tree):
        if len(targets) > 1 and all(isinstance(t, ast.Name) for t in targets):  # h = w = 128
            number = number_of(value)
            if number is not None and type(number) is not bool:
                names = tuple(t.id for t in targets)
                knobs.append(Knob(" = ".join(names), number, Span.of(value), binds=names))
            continue
        target = targets[0]
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):  # D, H, W = 16, 32, 32
                number = number_of(v)
                if isinstance(t, ast.Name) and number is not None:
                    knobs.append(Knob(t.id, number, Span.of(v), binds=(t.id,)))
            continue
        if not isinstance(target, ast.Name) or target.id == "CPU_SIZES":
            continue
        number = number_of(value)
        if number is not None:
            knobs.append(Knob(target.id, number, Span.of(value), binds=(target.id,)))
        elif isinstance(value, ast.Tuple) and value.elts and all(number_of(e) is not None for e in value.elts):
            for i, e in enumerate(value.elts):  # input_shape = (8192 * 2,)
                knobs.append(Knob(f"{target.id}[{i}]", number_of(e), Span.of(e), binds=(target.id,)))
        else:
            derived[target.id] = value
    literal_names: dict[tuple[int, int], str] = {}
    shapes: list[tuple[ast.expr, ...]] = []
    for fname in ("get_inputs", "get_init_inputs"):
        fn = _function(tree, fname)
        if fn is None:
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                number = number_of(node.value)  # s = 3.14 (a scalar input)
                if number is not None:
                    knobs.append(Knob(f"{fname}: {node.targets[0].id}", number, Span.of(node.value)))
                    literal_names[(node.value.lineno, node.value.col_offset)] = knobs[-1].name
            if isinstance(node, ast.Call) and fname == "get_inputs":
                dims = _size_args(node)
                if dims:
                    shapes.append(tuple(dims))
                for i, dim in enumerate(dims):
                    number = number_of(dim)
                    if isinstance(number, int) and number > 0:
                        call = ast.unparse(node.func)
                        knobs.append(Knob(f"get_inputs: {call} size {i} (line {dim.lineno})", number, Span.of(dim), shape=True))
                        literal_names[(dim.lineno, dim.col_offset)] = knobs[-1].name
            if isinstance(node, ast.Return) and isinstance(node.value, ast.List | ast.Tuple):
                for i, item in enumerate(node.value.elts):
                    number = number_of(item)
                    if number is not None:
                        knobs.append(Knob(f"{fname}()[{i}]", number, Span.of(item), init=fname == "get_init_inputs"))
                        literal_names[(item.lineno, item.col_offset)] = knobs[-1].name
    model = SizeModel(source, tuple(_dedupe(knobs)), tuple(shapes), derived, literal_names)
    return _mark_uses(model, tree)


def _dedupe(knobs: list[Knob]) -> list[Knob]:
    """One knob per source span (a later module assignment of the same name wins)."""
    by_span: dict[Span, Knob] = {}
    by_name: dict[str, Knob] = {}
    for k in knobs:
        if k.binds and k.name in by_name:
            by_span.pop(by_name[k.name].span, None)
        by_span[k.span] = by_name[k.name] = k
    return list(by_span.values())


def _mark_uses(model: SizeModel, tree: ast.Module) -> SizeModel:
    """Keep the knobs that the inputs, the constructor arguments or `Model` use; mark which."""
    def names_in(node: ast.AST | None) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()

    def closure(names: set[str]) -> set[str]:
        seen, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in model.derived:
                todo.extend(names_in(model.derived[name]))
        return seen

    model_class = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), None)
    inputs = closure(names_in(_function(tree, "get_inputs")))
    init = closure(names_in(_function(tree, "get_init_inputs")))
    used = inputs | init | closure(names_in(model_class))
    shape_knobs: set[str] = set()
    for dims in model.shapes:
        for dim in dims:
            shape_knobs |= model.knobs_under(dim)
    kept = []
    for k in model.knobs:
        if k.binds and not set(k.binds) & used:
            continue
        kept.append(dataclasses.replace(k, shape=k.shape or k.name in shape_knobs, init=k.init or bool(set(k.binds) & init)))
    return dataclasses.replace(model, knobs=tuple(kept))
