"""The size model of a problem file: the literal constants that feed its inputs and its
constructor ("knobs"), how a variant changes them, and how far the CPU check shrinks them.

Read from the AST alone, never by running the file, so the parent can plan a check before any
problem code runs; the reference worker imports it too, to fall back when the reference itself
fails at a planned set of values. One model serves the shape variants, the value variants and
the automatic reduction for Triton's CPU interpreter.

What counts as a knob (KernelBench's files use every form):
- module-level `NAME = 16`, `N = 2048 * 2`, `slope = -0.1`, chained `h = w = 128`, tuple
  assignments `D, H, W = 16, 32, 32` and tuple values `input_shape = (8192 * 2,)`;
- in `get_inputs`/`get_init_inputs`: literal sizes of tensor factories (`torch.rand(batch, 3,
  224, 224)`), local `s = 3.14`, and literals in the returned list (`return [1]`);
- only if something that builds the inputs, the constructor arguments or `Model` uses it.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Iterable

from kernelwright.tools import pyast

Number = int | float

# Tensor factories whose positional arguments (or `size=`) are sizes.
_SIZE_FACTORIES = {"rand", "randn", "zeros", "ones", "empty", "randperm", "eye"}
# Sizes below this are axes, channels, kernel sizes or counts: a value variant turns them, a
# shape variant and the CPU reduction leave them alone.
SMALL = 8
# The CPU reduction: every input tensor at most this many elements, every size that only reaches
# the constructor at most INIT_CAP, no size below FLOOR; halving keeps powers of two that divide.
ELEMENT_BUDGET = 1 << 16
INIT_CAP = 128
FLOOR = 8
FLOAT_FACTOR = 0.75  # a value variant's floats: keeps signs, orderings and (0, 1) ranges


@dataclasses.dataclass(frozen=True)
class Span:
    """Where a knob's text is in the source (AST positions: 1-based lines, UTF-8 byte columns)."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: ast.AST) -> Span:
        return cls(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)


@dataclasses.dataclass(frozen=True)
class Knob:
    """One literal (or literal expression) of the problem file that a variant may change."""

    name: str  # as a user finds it: "batch_size", "height = width", "input_shape[0]", "get_inputs: 224 (line 31)"
    value: Number
    span: Span
    binds: tuple[str, ...] = ()  # module names it sets ("height", "width"); () for a literal in a function
    shape: bool = False  # a tensor shape in get_inputs uses it
    init: bool = False  # the constructor's arguments use it

    @property
    def is_int(self) -> bool:
        return isinstance(self.value, int)

    @property
    def is_size(self) -> bool:
        """Large enough to be a size: a shape variant and the CPU reduction change it."""
        return self.is_int and self.value >= SMALL


@dataclasses.dataclass(frozen=True)
class SizeModel:
    """The knobs of one problem source and the input shapes they feed."""

    source: str
    knobs: tuple[Knob, ...]
    # Each tensor factory call in get_inputs: its dimensions as expressions over module names and
    # knob names (literal knobs are referenced by name through `literal_names`).
    shapes: tuple[tuple[ast.expr, ...], ...]
    derived: dict[str, ast.expr]  # module constants computed from others (`groups = in_channels`)
    literal_names: dict[tuple[int, int], str]  # (line, col) of a function literal -> its knob name

    def by_name(self) -> dict[str, Knob]:
        return {k.name: k for k in self.knobs}

    def values(self, overrides: dict[str, Number] | None = None) -> dict[str, Number]:
        return {k.name: (overrides or {}).get(k.name, k.value) for k in self.knobs}

    def environment(self, overrides: dict[str, Number] | None = None) -> dict[str, object]:
        """Module names (and literal knobs) to values, with `overrides` (knob name -> value) applied."""
        env: dict[str, object] = {}
        tuples: dict[str, list[object]] = {}
        for knob in self.knobs:
            value = (overrides or {}).get(knob.name, knob.value)
            env[knob.name] = value
            for bound in knob.binds:
                if knob.name.startswith(f"{bound}[") and knob.name.endswith("]"):
                    index = int(knob.name[len(bound) + 1 : -1])
                    slots = tuples.setdefault(bound, [])
                    slots.extend([None] * (index + 1 - len(slots)))
                    slots[index] = value
                else:
                    env[bound] = value
        for name, slots in tuples.items():
            env[name] = tuple(slots)
        for name, expr in self.derived.items():  # in file order: later ones may use earlier ones
            value = evaluate(expr, env)
            if value is not None:
                env[name] = value
        return env

    def input_numels(self, overrides: dict[str, Number] | None = None) -> list[tuple[int, set[str]]]:
        """Each input tensor's element count and the size knobs it depends on."""
        env = self.environment(overrides)
        out = []
        for dims in self.shapes:
            numel, uses = 1, set()
            for dim in dims:
                literal = self.literal_names.get((getattr(dim, "lineno", None), getattr(dim, "col_offset", None)))
                value = env[literal] if literal else evaluate(dim, env)
                if isinstance(value, tuple):
                    numel *= math.prod(v for v in value if isinstance(v, int))
                elif isinstance(value, int):
                    numel *= max(value, 1)
                uses |= self._knobs_under(dim)
            out.append((numel, uses))
        return out

    def _knobs_under(self, expr: ast.expr, seen: frozenset[str] = frozenset()) -> set[str]:
        """Knob names an expression depends on (through derived constants too)."""
        binding = {b: k.name for k in self.knobs for b in k.binds}
        found: set[str] = set()
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                if node.id in binding:
                    found.add(binding[node.id])
                elif node.id in self.derived and node.id not in seen:
                    found |= self._knobs_under(self.derived[node.id], seen | {node.id})
                # a tuple knob binds "input_shape" through "input_shape[i]"
                found |= {k.name for k in self.knobs if node.id in k.binds and k.name.startswith(f"{node.id}[")}
            elif isinstance(node, ast.Constant) and (getattr(node, "lineno", None), getattr(node, "col_offset", None)) in self.literal_names:
                found.add(self.literal_names[(node.lineno, node.col_offset)])
        return found


# ---- reading ------------------------------------------------------------------------------------


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


def _literal_expr(expr: ast.expr) -> bool:
    """Numbers and arithmetic on numbers only (`2048 * 2`, `-1.0`), no names, no bools."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                return False
        elif not isinstance(node, ast.BinOp | ast.UnaryOp | ast.operator | ast.unaryop | ast.expr_context):
            return False
    return isinstance(evaluate(expr, {}), int | float)


def _number(expr: ast.expr) -> Number | None:
    value = evaluate(expr, {})
    return value if _literal_expr(expr) and isinstance(value, int | float) else None


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
            number = _number(value)
            if number is not None and type(number) is not bool:
                names = tuple(t.id for t in targets)
                knobs.append(Knob(" = ".join(names), number, Span.of(value), binds=names))
            continue
        target = targets[0]
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):  # D, H, W = 16, 32, 32
                number = _number(v)
                if isinstance(t, ast.Name) and number is not None:
                    knobs.append(Knob(t.id, number, Span.of(v), binds=(t.id,)))
            continue
        if not isinstance(target, ast.Name) or target.id == "CPU_SIZES":
            continue
        number = _number(value)
        if number is not None:
            knobs.append(Knob(target.id, number, Span.of(value), binds=(target.id,)))
        elif isinstance(value, ast.Tuple) and value.elts and all(_number(e) is not None for e in value.elts):
            for i, e in enumerate(value.elts):  # input_shape = (8192 * 2,)
                knobs.append(Knob(f"{target.id}[{i}]", _number(e), Span.of(e), binds=(target.id,)))
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
                number = _number(node.value)  # s = 3.14 (a scalar input)
                if number is not None:
                    knobs.append(Knob(f"{fname}: {node.targets[0].id}", number, Span.of(node.value)))
                    literal_names[(node.value.lineno, node.value.col_offset)] = knobs[-1].name
            if isinstance(node, ast.Call) and fname == "get_inputs":
                dims = _size_args(node)
                if dims:
                    shapes.append(tuple(dims))
                for i, dim in enumerate(dims):
                    number = _number(dim)
                    if isinstance(number, int) and number > 0:
                        call = ast.unparse(node.func)
                        knobs.append(Knob(f"get_inputs: {call} size {i} (line {dim.lineno})", number, Span.of(dim), shape=True))
                        literal_names[(dim.lineno, dim.col_offset)] = knobs[-1].name
            if isinstance(node, ast.Return) and isinstance(node.value, ast.List | ast.Tuple):
                for i, item in enumerate(node.value.elts):
                    number = _number(item)
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
            shape_knobs |= model._knobs_under(dim)
    kept = []
    for k in model.knobs:
        if k.binds and not set(k.binds) & used:
            continue
        kept.append(dataclasses.replace(k, shape=k.shape or k.name in shape_knobs, init=k.init or bool(set(k.binds) & init)))
    return dataclasses.replace(model, knobs=tuple(kept))


# ---- changing -----------------------------------------------------------------------------------


def apply(model: SizeModel, overrides: dict[str, Number]) -> str:
    """The source with the knobs in `overrides` (knob name -> value) rewritten; lines are kept."""
    if not overrides:
        return model.source
    unknown = set(overrides) - {k.name for k in model.knobs}
    if unknown:
        raise KeyError(f"no knob named {sorted(unknown)}")
    lines = model.source.splitlines(keepends=True)
    edits = sorted(((k.span, overrides[k.name]) for k in model.knobs if k.name in overrides), key=lambda e: (e[0].line, e[0].col), reverse=True)
    for span, value in edits:
        first, last = lines[span.line - 1].encode(), lines[span.end_line - 1].encode()
        text = first[: span.col] + _literal(value).encode() + last[span.end_col :]
        lines[span.line - 1 : span.end_line] = [text.decode()]
    return "".join(lines)


def _literal(value: Number) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def shape_variant(model: SizeModel, current: dict[str, Number]) -> dict[str, int]:
    """New values of every size knob for a shape variant: about 5/8 of the current value, odd, so
    neither a multiple of the shipped size nor of any power-of-two block (64 -> 39, 1000 -> 625)."""
    changed: dict[str, int] = {}
    for k in model.knobs:
        value = current.get(k.name, k.value)
        if isinstance(value, int) and value >= SMALL:
            new = max(3, (value * 5) // 8)
            changed[k.name] = new - 1 if new % 2 == 0 else new
    return changed


def value_variant(model: SizeModel, current: dict[str, Number]) -> dict[str, Number]:
    """New values of every small integer and every float knob: a batch of 2 becomes 3, an axis 1
    becomes 2, a padding 0 becomes 1, a scale 1.7 becomes 1.275 (floats x0.75; 0.0 stays)."""
    changed: dict[str, Number] = {}
    for k in model.knobs:
        value = current.get(k.name, k.value)
        if isinstance(value, int) and value < SMALL:
            changed[k.name] = value + 1 if value >= 0 else value - 1
        elif isinstance(value, float) and value != 0.0:
            changed[k.name] = value * FLOAT_FACTOR
    return changed


def cpu_reduction(model: SizeModel, budget: int = ELEMENT_BUDGET, init_cap: int = INIT_CAP) -> dict[str, int]:
    """Smaller values of the size knobs so that the problem runs under Triton's CPU interpreter:
    every input tensor at most `budget` elements, every size that only feeds the constructor at
    most `init_cap`, none below FLOOR. Halving (rounded up) keeps the powers of two that divided a
    size (a head count still divides an embedding). {} when the problem is small enough already."""
    sizes = {k.name: k.value for k in model.knobs if k.is_size and (k.shape or k.init)}
    current = dict(sizes)
    for _ in range(256):
        tensors = [(n, uses & set(current)) for n, uses in model.input_numels(current)]
        over = [t for t in tensors if t[0] > budget and any(current[u] > FLOOR for u in t[1])]
        if not over:
            break
        _, uses = max(over, key=lambda t: t[0])
        biggest = max((u for u in uses if current[u] > FLOOR), key=lambda u: current[u])
        current[biggest] = max(FLOOR, -(-current[biggest] // 2))
    in_shapes = {u for _, uses in model.input_numels(current) for u in uses}
    for name in current:
        if name not in in_shapes:
            while current[name] > init_cap:
                current[name] = max(FLOOR, -(-current[name] // 2))
    return {name: v for name, v in current.items() if v != sizes[name]}


def cpu_reductions(model: SizeModel) -> list[dict[str, int]]:
    """The CPU reduction and milder ones to fall back to if the reference fails at it (a network
    that pools 224 down by 32 needs more than 8 pixels); [] when nothing needs reducing."""
    out: list[dict[str, int]] = []
    for step in range(3):
        reduced = cpu_reduction(model, ELEMENT_BUDGET * 4**step, INIT_CAP * 2**step)
        if reduced and reduced not in out:
            out.append(reduced)
    return out


def describe(model: SizeModel, overrides: dict[str, Number]) -> str:
    """`batch_size 4096 -> 64, dim 4096 -> 1000` for a report."""
    knobs = model.by_name()
    return ", ".join(f"{name} {knobs[name].value if name in knobs else '?'} -> {value}" for name, value in overrides.items())
