"""A stage's iteration space and where an operand of another shape lives in it.

Every kernel of a stage walks the elements of one tensor, the stage's main shape (size-1 dims
dropped), as three axes over its flat, row-major index:

- P (dims[:a]): one program (row kernel) or a tile's rows (elementwise 2-D tile) per index;
- R (dims[a:b]): the reduced dims of a reduction (a row kernel's row), or the elementwise tile's
  columns;
- Q (dims[b:]): the dims after a reduced block (a reduction over a middle dim keeps them).

A dim may be refined into two so that a boundary falls between dims (GroupNorm's channel dim
becomes groups x channels-per-group). An operand broadcast against the main shape (a [C, 1, 1]
bias of an [N, C, H, W] tensor, a GroupNorm weight) varies along some of these dims only: its
`layout` is the tuple of space dims it varies along, and its offset is a sum of terms, one per
run of consecutive varying dims within an axis: ((axis index // inner) % extent) * stride, the
divisor and modulus left out where the run ends or starts the axis. Sizes are computed at run
time from the main tensor's shape (`kw_s`), so a solution holds at other sizes than the traced ones.
"""

from __future__ import annotations

import dataclasses
import math

from kernelwright.agents.expert.ir import UnsupportedProblem


@dataclasses.dataclass(frozen=True)
class Dim:
    size: int  # at the traced sizes
    host: str  # the same size at run time: a Python expression over `kw_main` (and `self`)


@dataclasses.dataclass(frozen=True)
class Space:
    dims: tuple[Dim, ...]
    a: int  # P = dims[:a]
    b: int  # R = dims[a:b]; Q = dims[b:]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def numel(self) -> int:
        return math.prod(self.sizes)

    def axis(self, k: int) -> str:
        return "p" if k < self.a else "r" if k < self.b else "q"

    def axis_range(self, axis: str) -> tuple[int, int]:
        return {"p": (0, self.a), "r": (self.a, self.b), "q": (self.b, len(self.dims))}[axis]

    def extent(self, axis: str) -> int:
        lo, hi = self.axis_range(axis)
        return math.prod(self.sizes[lo:hi])

    def prod_host(self, ks) -> str:
        """Run-time product of the sizes of space dims `ks` ("1" for none)."""
        ks = list(ks)
        return " * ".join(f"kw_s[{k}]" for k in ks) if ks else "1"

    def host_tuple(self) -> str:
        return "(" + ", ".join(d.host for d in self.dims) + ("," if len(self.dims) == 1 else "") + ")"


def suffixes(sizes) -> list[int]:
    """suffixes(s)[k] = prod(s[k:]); len(s) + 1 entries."""
    out = [1]
    for s in reversed(list(sizes)):
        out.append(out[-1] * s)
    return out[::-1]


def make_space(main_shape: tuple[int, ...], host_main: str = "kw_main", cuts: tuple[int, ...] = (),
               axes: tuple[int, int] | None = None, named_cuts: dict[int, str] | None = None) -> Space:
    """The main shape's dims without size-1 dims, refined so that every flat suffix product in
    `cuts` falls between dims; `axes` = (suffix product where R starts, where Q starts), both
    among the cut points (None: an elementwise space, split later). `named_cuts` gives a dim's
    outer part at run time (e.g. `self.gn.num_groups`) for a cut inside it."""
    dims = [Dim(s, f"{host_main}.shape[{i}]") for i, s in enumerate(main_shape) if s != 1]
    for cut in sorted(set(cuts), reverse=True):
        dims = _refine(dims, cut, (named_cuts or {}).get(cut))
    if axes is None:
        return Space(tuple(dims), len(dims), len(dims))
    suf = suffixes(d.size for d in dims)
    rq, q = axes
    b = _index_of(suf, q, last=True)
    a = _index_of(suf, rq, last=False)
    if a is None or b is None:
        raise UnsupportedProblem(f"expert policy: no kernel for a reduction block that does not fall on whole dims of {list(main_shape)}")
    return Space(tuple(dims), a, b)


def _index_of(suf: list[int], value: int, last: bool) -> int | None:
    hits = [k for k, s in enumerate(suf) if s == value]
    if not hits:
        return None
    return hits[-1] if last else hits[0]


def _refine(dims: list[Dim], cut: int, outer_host: str | None) -> list[Dim]:
    suf = suffixes(d.size for d in dims)
    if cut in suf:
        return dims
    for k in range(len(dims)):
        inner_after = suf[k + 1]
        if suf[k] > cut > inner_after and cut % inner_after == 0 and dims[k].size % (cut // inner_after) == 0:
            inner = cut // inner_after
            outer = dims[k].size // inner
            if outer_host:  # the outer part is named (a group count): the inner one follows the size
                outer_h, inner_h = outer_host, f"({dims[k].host} // {outer_host})"
            else:  # the inner part is fixed, the outer one follows the run-time size
                outer_h, inner_h = f"({dims[k].host} // {inner})", str(inner)
            return dims[:k] + [Dim(outer, outer_h), Dim(inner, inner_h)] + dims[k + 1:]
    raise UnsupportedProblem(f"expert policy: no kernel for a view that splits dims {[d.size for d in dims]} at {cut} elements")


def align(context: tuple[int, ...], space_dims: list[int], space: Space) -> list[tuple[int, int]] | None:
    """For each dim of `context` (a shape whose elements, in row-major order, are those of the space
    dims `space_dims`), the slice [i, j) of `space_dims` positions it covers; None where a context
    dim does not fall on whole space dims."""
    sizes = [space.dims[k].size for k in space_dims]
    ssuf = suffixes(sizes)
    csuf = suffixes(context)
    if csuf[0] != ssuf[0]:
        return None
    out = []
    for j, c in enumerate(context):
        if c == 1:
            out.append((0, 0))
            continue
        hi, lo = csuf[j], csuf[j + 1]
        i = _index_of(ssuf, hi, last=True)
        k = _index_of(ssuf, lo, last=False)
        if i is None or k is None or i >= k:
            return None
        out.append((i, k))
    return out


def layout_of(shape: tuple[int, ...], context: tuple[int, ...], space_dims: list[int], space: Space) -> tuple[int, ...] | None:
    """The space dims a tensor of `shape`, broadcast (right-aligned) against `context`, varies along;
    None where it does not broadcast or the context does not fall on whole space dims."""
    shape = tuple(shape)
    if len(shape) > len(context):
        if any(s != 1 for s in shape[: len(shape) - len(context)]):
            return None
        shape = shape[len(shape) - len(context):]
    padded = (1,) * (len(context) - len(shape)) + shape
    for s, c in zip(padded, context):
        if s not in (1, c):
            return None
    slices = align(context, space_dims, space)
    if slices is None:
        return None
    varying: list[int] = []
    for (i, j), s, c in zip(slices, padded, context):
        if s == c and c != 1:
            varying.extend(space_dims[i:j])
    return tuple(sorted(varying))


@dataclasses.dataclass(frozen=True)
class Term:
    axis: str  # p | r | q
    first: int  # the run's first and last+1 space dims (within one axis)
    last: int
    divide: bool
    modulo: bool


def terms(layout: tuple[int, ...], space: Space) -> list[Term]:
    """The offset terms of an operand that varies along space dims `layout`."""
    out: list[Term] = []
    run: list[int] = []

    def flush():
        if run:
            axis = space.axis(run[0])
            lo, hi = space.axis_range(axis)
            out.append(Term(axis, run[0], run[-1] + 1, divide=run[-1] + 1 < hi, modulo=run[0] > lo))
            run.clear()

    for k in layout:
        if run and (k != run[-1] + 1 or space.axis(k) != space.axis(run[-1])):
            flush()
        run.append(k)
    flush()
    return out


def term_host(term: Term, layout: tuple[int, ...], space: Space) -> tuple[str, str, str]:
    """(divisor, modulus, stride) of a term at run time."""
    _, hi = space.axis_range(term.axis)
    divisor = space.prod_host(range(term.last, hi))
    modulus = space.prod_host(range(term.first, term.last))
    stride = space.prod_host(k for k in layout if k >= term.last)
    return divisor, modulus, stride


def shape_host(shape: tuple[int, ...], space_dims: list[int], space: Space) -> str | None:
    """A run-time expression of `shape` (a view of the space dims `space_dims`, in order)."""
    slices = align(tuple(shape), space_dims, space)
    if slices is None:
        return None
    parts = ["1" if shape[j] == 1 else space.prod_host(space_dims[i:k]) for j, (i, k) in enumerate(slices)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
