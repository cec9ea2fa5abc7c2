"""The records of the size model: where a knob is (`Span`), what it is (`Knob`) and the knobs of
one problem with the input shapes they feed (`SizeModel`), which evaluates element counts for a
set of knob values. Built by `kernelwright.tools.sizes.reading`; read by the variants, the
reduction and the rewrite.
"""

from __future__ import annotations

import ast
import dataclasses
import math

from kernelwright.tools.sizes.arithmetic import Number, evaluate

__all__ = ["SMALL", "Knob", "Number", "SizeModel", "Span"]

# Sizes below this are axes, channels, kernel sizes or counts: a value variant turns them, a
# shape variant and the CPU reduction leave them alone.
SMALL = 8


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
                uses |= self.knobs_under(dim)
            out.append((numel, uses))
        return out

    def knobs_under(self, expr: ast.expr, seen: frozenset[str] = frozenset()) -> set[str]:
        """Knob names an expression depends on (through derived constants too)."""
        binding = {b: k.name for k in self.knobs for b in k.binds}
        found: set[str] = set()
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                if node.id in binding:
                    found.add(binding[node.id])
                elif node.id in self.derived and node.id not in seen:
                    found |= self.knobs_under(self.derived[node.id], seen | {node.id})
                # a tuple knob binds "input_shape" through "input_shape[i]"
                found |= {k.name for k in self.knobs if node.id in k.binds and k.name.startswith(f"{node.id}[")}
            elif isinstance(node, ast.Constant) and (getattr(node, "lineno", None), getattr(node, "col_offset", None)) in self.literal_names:
                found.add(self.literal_names[(node.lineno, node.col_offset)])
        return found
