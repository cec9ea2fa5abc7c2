"""The kernel bodies of the elementwise and row families, and the expression `Emitter` that
every family (matmul epilogues included, see matmul_codegen) shares. `solution` assembles them
into a solution file.

Two kernel shapes here, one expression emitter:

- elementwise: a flat 1-D grid of BLOCK-sized programs over the output, every operand loaded
  with the same offsets, scalars once per program; where an operand broadcasts along rows or
  columns (a bias, a per-row scale), a 2-D grid of BLOCK_R x BLOCK_C tiles instead, so the row
  and column of an element come from the tile and never from a per-element division (an int64
  `offs % n_cols` ran bias_gelu_bf16 at 12.6% of speed-of-light on an H100);
- rows: one program per row. Each reduction has a depth (1 + the deepest reduction it needs);
  pass k loops over the row in BLOCK-sized chunks and accumulates the reductions of depth k,
  the last pass recomputes the elementwise epilogue and stores. A row that fits one block runs
  each loop once; a longer row loops (two-pass/multi-pass, never a block larger than the cap).

All arithmetic is in fp32 (loads are converted, stores cast to the output's dtype); every load
and store is masked.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap

from kernelwright.agents.expert.expressions import BINARY, REDUCE_FN, REDUCE_INIT, _f, sig, unary_expr, walk
from kernelwright.agents.expert.ir import UnsupportedProblem, V
from kernelwright.agents.expert.space import Space, term_host, terms
from kernelwright.agents.expert.tracing import Traced


class LayoutArgs:
    """Offsets of operands read through a layout over the stage's space (`space.terms`), and the
    integer kernel arguments (divisors, moduli, strides) the host computes for them from `kw_s`."""

    def __init__(self, space: Space | None, axis_vars: dict[str, str]):
        self.space = space
        self.axis_vars = axis_vars
        self.args: list[tuple[str, str]] = []  # (kernel argument, host expression)
        self.cache: dict[tuple, str] = {}

    def offset(self, v: V, ptr: str) -> str:
        key = (ptr, v.layout)
        if key not in self.cache:
            k = len(self.cache)
            stem = ptr.removesuffix("_ptr")
            parts = []
            for i, term in enumerate(terms(v.layout, self.space)):
                divisor, modulus, stride = term_host(term, v.layout, self.space)
                e = self.axis_vars[term.axis]
                for tag, host, fmt in (("d", divisor, "({e} // {a})"), ("m", modulus, "({e} % {a})"), ("s", stride, "{e} * {a}")):
                    wanted = {"d": term.divide, "m": term.modulo, "s": host != "1"}[tag]
                    if wanted:
                        arg = f"{stem}_{k}{tag}{i}"
                        self.args.append((arg, host))
                        e = fmt.format(e=e, a=arg)
                parts.append(e)
            self.cache[key] = " + ".join(parts) or "0"
        return self.cache[key]

    @property
    def names(self) -> list[str]:
        return [a for a, _ in self.args]

    @property
    def host(self) -> list[str]:
        return [h for _, h in self.args]


class Emitter:
    """Turns IR nodes into Triton statements. `scope` caches names per loop body."""

    def __init__(self, tensors: dict[str, str], index: dict[str, str], used: set[str], masks: dict[str, str] | None = None,
                 layouts: LayoutArgs | None = None):
        self.tensors = tensors  # leaf key -> kernel pointer argument
        self.index = index  # cls -> offset expression ("full": offs, "col": cols) in the current scope
        self.masks = masks or {}  # cls -> mask expression (default: `mask`)
        self.used = used
        self.layouts = layouts  # bcast / rbcast operands
        self.n = 0

    def fresh(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def emit(self, v: V, lines: list[str], cache: dict[int, str], outer: dict[int, str]) -> str:
        key = sig(v)
        if key in cache:
            return cache[key]
        if key in outer:
            return outer[key]
        if v.op == "const":
            return _f(v.attr)
        if v.op == "ncols":
            return "n_cols_f"
        if v.op == "pos":  # the element's row or column in its matrix (triu / tril)
            if f"pos_{v.attr}" not in self.index:
                raise UnsupportedProblem(f"expert policy: no kernel for a {v.attr} position in this kernel")
            return self.index[f"pos_{v.attr}"]
        if v.op == "arg":  # a Python number passed to the kernel
            name = self.fresh("x")
            lines.append(f"{name} = {self.tensors[_leaf_key(v)]} * 1.0")
        elif v.op in ("input", "param"):
            ptr = self.tensors[_leaf_key(v)]
            name = self.fresh("x")
            off, mask = self.index.get(v.cls), self.masks.get(v.cls, "mask")
            if v.cls in ("bcast", "rbcast"):
                off = self.layouts.offset(v, ptr)
            if v.cls == "scalar":
                lines.append(f"{name} = tl.load({ptr}).to(tl.float32)")
            elif mask is None:  # one value per program (a per-row input in the row kernel)
                lines.append(f"{name} = tl.load({ptr} + {off}).to(tl.float32)")
            else:
                lines.append(f"{name} = tl.load({ptr} + {off}, mask={mask}, other=0.0).to(tl.float32)")
        elif v.op == "gather":  # x[row, index[row]] in a row kernel (masked: an index out of the row reads 0)
            x, idx = v.args
            if "base" not in self.index.get("full", ""):
                raise UnsupportedProblem("expert policy: no kernel for a gather outside a row kernel")
            ptr = self.tensors[_leaf_key(idx)]
            off = self.layouts.offset(idx, ptr) if idx.cls == "rbcast" else self.index.get(idx.cls, "0")
            i = self.fresh("i")
            lines.append(f"{i} = tl.load({ptr}{'' if idx.cls == 'scalar' else ' + ' + off}).to(tl.int64)")
            name = self.fresh("x")
            lines.append(f"{name} = tl.load({self.tensors[_leaf_key(x)]} + base + {i}, mask=({i} >= 0) & ({i} < n_cols), "
                         "other=0.0).to(tl.float32)")
        elif v.op == "un":
            x = self.emit(v.args[0], lines, cache, outer)
            fn, params = v.attr
            name = self.fresh()
            lines.append(f"{name} = {unary_expr(fn, x, params, self.used)}")
        elif v.op == "bin":
            a = self.emit(v.args[0], lines, cache, outer)
            b = self.emit(v.args[1], lines, cache, outer)
            name = self.fresh()
            lines.append(f"{name} = " + BINARY[v.attr].format(a=a, b=b))
        elif v.op == "where":
            c, a, b = (self.emit(x, lines, cache, outer) for x in v.args)
            name = self.fresh()
            lines.append(f"{name} = tl.where({c}, {a}, {b})")
        else:
            raise UnsupportedProblem(f"expert policy: internal error, cannot emit {v.op} here")
        cache[key] = name
        return name


def _leaf_key(v: V) -> str:
    return f"{v.op}:{v.attr}"


LEAF_OPS = ("input", "param", "arg")


def _leaves(order: list[V]) -> list[V]:
    out, seen = [], set()
    for v in order:
        if v.op in LEAF_OPS and _leaf_key(v) not in seen:
            seen.add(_leaf_key(v))
            out.append(v)
    return out


def _ptr_name(v: V) -> str:
    base = str(v.attr).replace(".", "_")
    if v.op == "arg":  # a number: an input's name or a size expression (`kw_main.shape[0]`)
        return "arg_" + re.sub(r"\W+", "_", str(v.attr)).strip("_")
    return f"{'in' if v.op == 'input' else 'p'}_{base}_ptr"


def _host_expr(v: V) -> str:
    return str(v.attr) if v.op in ("input", "arg") else f"self.{v.attr}"


def depth_of(order: list[V]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for v in order:
        d = max((depth[id(a)] for a in v.args), default=0)
        depth[id(v)] = d + 1 if v.op == "reduce" else d
    return depth


def broadcasts(leaves: list[V]) -> bool:
    """Whether an operand is indexed by row or column alone: the elementwise kernel then tiles 2-D."""
    return any(v.cls in ("col", "row", "bcast", "rbcast") for v in leaves)


def leaf_uses(out: V) -> list[V]:
    """Every leaf node (one per layout a leaf is read through)."""
    return [v for v in walk(out) if v.op in LEAF_OPS]


def kernel_elementwise(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs | None = None) -> str:
    """The flat kernel, or the 2-D tile where an operand broadcasts; `layouts` collects the
    integer arguments of operands read through a layout (filled while the body is emitted)."""
    layouts = layouts or LayoutArgs(t.space, {"p": "rows", "r": "cols"})
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    ncols = "n_cols_f = n_cols * 1.0" if _uses_ncols(t.out) else None
    if broadcasts(leaf_uses(t.out)):
        em = Emitter(ptrs, {"full": "offs", "col": "cols", "row": "rows"}, used,
                     {"col": "col_mask", "row": "row_mask", "rbcast": "row_mask"}, layouts)
        args = [*ptrs.values(), "out_ptr", "LAYOUT_ARGS", "n_rows", "n_cols", "BLOCK: tl.constexpr", "BLOCK_R: tl.constexpr",
                "BLOCK_C: tl.constexpr"]
        pre = [
            "rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)[:, None]",
            "cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]",
            "row_mask = rows < n_rows",
            "col_mask = cols < n_cols",
            "mask = row_mask & col_mask",
            "offs = rows * n_cols + cols",
            ncols,
        ]
    else:
        em = Emitter(ptrs, {"full": "offs"}, used)
        args = [*ptrs.values(), "out_ptr", "n_elements", "n_cols", "BLOCK: tl.constexpr"]
        pre = [
            "pid = tl.program_id(0).to(tl.int64)",
            "offs = pid * BLOCK + tl.arange(0, BLOCK)",
            "mask = offs < n_elements",
            ncols,
        ]
    body: list[str] = []
    result = em.emit(t.out, body, {}, {})
    lines = [x for x in pre if x] + body + [f"tl.store(out_ptr + offs, {result}.to(out_ptr.dtype.element_ty), mask=mask)"]
    args = [a for x in args for a in (layouts.names if x == "LAYOUT_ARGS" else [x])]
    return f"@triton.jit\ndef {name}({', '.join(args)}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


def _uses_ncols(out: V) -> bool:
    return any(v.op == "ncols" for v in walk(out))


@dataclasses.dataclass(frozen=True)
class ReduceShape:
    """How a reduction kernel walks its rows: one row per program (`rows`: 1-D blocks along the
    row) or BLOCK_Q rows side by side (`cols`: a reduction over a middle dim, 2-D tiles whose
    second axis is the contiguous one)."""

    head: tuple[str, ...]  # program prologue: row, base, n_cols_f, ...
    at: str  # the tile's positions along the row for a block starting at {start}
    mask: str  # the tile's mask
    acc: str  # accumulator shape
    keep: str  # suffix that keeps a reduced value broadcastable against the tile
    index: dict[str, str]  # class -> offset
    masks: dict[str, str | None]  # class -> load mask (None: one unmasked value per program)
    pos: str  # the position along the row of each tile element (argmax)
    store_full: str
    store_row: str
    args: tuple[str, ...]  # size arguments after the layout arguments
    axis_vars: dict[str, str]


ROWS = ReduceShape(
    head=("row = tl.program_id(0).to(tl.int64)", "base = row * n_cols", "n_cols_f = n_cols * 1.0"),
    at="cols = {start}tl.arange(0, BLOCK)", mask="mask = cols < n_cols", acc="[BLOCK]", keep="",
    index={"full": "base + cols", "col": "cols", "row": "row"}, masks={"row": None, "rbcast": None}, pos="cols",
    store_full="tl.store(out_ptr + base + cols, {v}.to(out_ptr.dtype.element_ty), mask=mask)",
    store_row="tl.store(out_ptr + row, {v}.to(out_ptr.dtype.element_ty))",
    args=("n_cols", "BLOCK: tl.constexpr", "SINGLE: tl.constexpr"), axis_vars={"p": "row", "r": "cols"})

COLS = ReduceShape(
    head=("pid = tl.program_id(0)", "n_qb = tl.cdiv(n_q, BLOCK_Q)", "row = (pid // n_qb).to(tl.int64)",
          "qq = (pid % n_qb) * BLOCK_Q + tl.arange(0, BLOCK_Q)[None, :]", "q_mask = qq < n_q", "base = row * n_cols * n_q",
          "n_cols_f = n_cols * 1.0"),
    at="rr = {start}tl.arange(0, BLOCK)[:, None]", mask="mask = (rr < n_cols) & q_mask", acc="[BLOCK, BLOCK_Q]",
    keep="[None, :]", index={"full": "base + rr * n_q + qq", "col": "rr", "row": "row * n_q + qq"},
    masks={"row": "q_mask", "rbcast": "q_mask"}, pos="rr",
    store_full="tl.store(out_ptr + base + rr * n_q + qq, {v}.to(out_ptr.dtype.element_ty), mask=mask)",
    store_row="tl.store(out_ptr + row * n_q + qq, {v}.to(out_ptr.dtype.element_ty), mask=q_mask)",
    args=("n_cols", "n_q", "BLOCK: tl.constexpr", "BLOCK_Q: tl.constexpr", "SINGLE: tl.constexpr"),
    axis_vars={"p": "row", "r": "rr", "q": "qq"})

ARG_KINDS = {"argmax": ">", "argmin": "<"}


def kernel_rows(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs | None = None) -> str:
    return kernel_reduce(name, t, leaves, used, ROWS, layouts)


def kernel_cols(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs | None = None) -> str:
    return kernel_reduce(name, t, leaves, used, COLS, layouts)


def _block_reduce(kind: str, x: str, shape: ReduceShape, used: set[str]) -> str:
    """One reduction of tile `x` (masked lanes already neutral) along the row."""
    if kind == "prod":
        used.add("kw_mul")
        return f"tl.reduce({x}, 0, kw_mul){shape.keep}"
    if kind in ARG_KINDS:
        return f"tl.{kind}({x}, axis=0, tie_break_left=True){shape.keep}"
    return f"{REDUCE_FN[kind]}({x}, axis=0){shape.keep}"


def kernel_reduce(name: str, t: Traced, leaves: list[V], used: set[str], shape: ReduceShape,
                  layouts: LayoutArgs | None = None) -> str:
    """SINGLE (constexpr, the row fits one block): every operand is loaded once and each reduction
    is a block reduction. Otherwise one loop over the row per reduction depth, and a last loop
    that recomputes the epilogue and stores."""
    order = walk(t.out)
    depth = depth_of(order)
    layouts = layouts or LayoutArgs(t.space, shape.axis_vars)
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    em = Emitter(ptrs, shape.index, used, masks=shape.masks, layouts=layouts)
    reductions = list({sig(v): v for v in order if v.op == "reduce"}.values())  # equal ones once
    max_depth = max((depth[id(r)] for r in reductions), default=0)
    row_leaf = ("scalar", "row", "rbcast")

    def emit_row_values(lines: list[str], outer: dict[int, str]) -> None:
        # Row-level values whose reductions are all known: computed once per row, outside loops.
        for v in order:
            if sig(v) in outer or v.cls not in ("row", "rowflat", "scalar") or v.op in ("reduce", "const", "ncols"):
                continue
            if all(sig(a) in outer or a.op in ("const", "ncols") or (a.cls in row_leaf and a.op in LEAF_OPS)
                   for a in v.args) or (v.op in LEAF_OPS and v.cls in row_leaf):
                em.emit(v, lines, outer, {})

    def store(lines: list[str], cache: dict[int, str], outer: dict[int, str]) -> None:
        if t.out.cls == "full":
            result = em.emit(t.out, lines, cache, outer)
            lines.append(shape.store_full.format(v=result))

    def single() -> list[str]:
        lines = [shape.at.format(start=""), shape.mask]
        outer: dict[int, str] = {}
        cache: dict[int, str] = {}
        emit_row_values(lines, outer)
        for k in range(1, max_depth + 1):
            for r in (r for r in reductions if depth[id(r)] == k):
                x = em.emit(r.args[0], lines, cache, outer)
                red = em.fresh("r")
                lines.append(f"{red} = {_block_reduce(r.attr, f'tl.where(mask, {x}, {REDUCE_INIT[r.attr]})', shape, used)}")
                outer[sig(r)] = red
            emit_row_values(lines, outer)
        store(lines, cache, outer)
        return lines, outer

    def looped() -> list[str]:
        lines: list[str] = []
        outer: dict[int, str] = {}
        emit_row_values(lines, outer)
        for k in range(1, max_depth + 1):
            level = [r for r in reductions if depth[id(r)] == k]
            accs, idxs = {}, {}
            for r in level:
                accs[id(r)] = em.fresh("acc")
                lines.append(f"{accs[id(r)]} = tl.full({shape.acc}, {REDUCE_INIT[r.attr]}, tl.float32)")
                if r.attr in ARG_KINDS:
                    idxs[id(r)] = em.fresh("idx")
                    lines.append(f"{idxs[id(r)]} = tl.zeros({shape.acc}, tl.int32)")
            loop: list[str] = [shape.at.format(start="start + "), shape.mask]
            cache: dict[int, str] = {}
            for r in level:
                x = em.emit(r.args[0], loop, cache, outer)
                acc, init = accs[id(r)], REDUCE_INIT[r.attr]
                if r.attr == "sum":
                    loop.append(f"{acc} += tl.where(mask, {x}, {init})")
                elif r.attr == "prod":
                    loop.append(f"{acc} *= tl.where(mask, {x}, {init})")
                elif r.attr in ARG_KINDS:  # strictly better only: the first position of the extreme stays
                    better = em.fresh("better")
                    loop.append(f"{better} = tl.where(mask, {x}, {init}) {ARG_KINDS[r.attr]} {acc}")
                    loop.append(f"{acc} = tl.where({better}, {x}, {acc})")
                    loop.append(f"{idxs[id(r)]} = tl.where({better}, {shape.pos}, {idxs[id(r)]})")
                else:
                    fn = "tl.maximum" if r.attr == "max" else "tl.minimum"
                    loop.append(f"{acc} = {fn}({acc}, tl.where(mask, {x}, {init}))")
            lines.append("for start in range(0, n_cols, BLOCK):")
            lines.extend("    " + s for s in loop)
            for r in level:
                red = em.fresh("r")
                acc = accs[id(r)]
                if r.attr in ARG_KINDS:  # the smallest position among the lanes holding the extreme
                    best = em.fresh("best")
                    lines.append(f"{best} = {_block_reduce(r.attr[3:], acc, shape, used)}")
                    lines.append(f"{red} = tl.min(tl.where({acc} == {best}, {idxs[id(r)]}, n_cols), axis=0){shape.keep}")
                else:
                    lines.append(f"{red} = {_block_reduce(r.attr, acc, shape, used)}")
                outer[sig(r)] = red
            emit_row_values(lines, outer)
        if t.out.cls == "full":
            loop = [shape.at.format(start="start + "), shape.mask]
            store(loop, {}, outer)
            lines.append("for start in range(0, n_cols, BLOCK):")
            lines.extend("    " + s for s in loop)
        return lines, outer

    lines = list(shape.head)
    one, one_outer = single()
    many, many_outer = looped()
    if t.out.cls != "full":  # a reduced output: one value per row
        one.append(shape.store_row.format(v=em.emit(t.out, one, {}, one_outer)))
        many.append(shape.store_row.format(v=em.emit(t.out, many, {}, many_outer)))
    lines += ["if SINGLE:"] + ["    " + s for s in one] + ["else:"] + ["    " + s for s in many]
    args = ", ".join([*ptrs.values(), "out_ptr", *layouts.names, *shape.args])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


# -- few long rows: the row split over programs ------------------------------------------------------

SPLIT_COMBINE = {"sum": "tl.sum", "max": "tl.max", "min": "tl.min"}


def splittable(t: Traced) -> bool:
    """Rows whose reductions combine from partials (sums, max, min): the split kernels apply."""
    return t.family == "rows" and all(v.attr in SPLIT_COMBINE for v in walk(t.out) if v.op == "reduce")


def kernels_split(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs) -> tuple[str, list[int]]:
    """Kernels for few long rows (a LayerNorm over 16 rows of 4M elements, a loss over all
    elements): each row is cut into `n_split` chunks, one program per chunk. Kernel `{name}_p{k}`
    writes the partial results of the reductions of depth k (reading the partials of lower depths,
    combined in every program: a few hundred values); `{name}_final` combines them all and stores
    the output (a full output chunk by chunk; a reduced one from the first chunk's program).
    Returns the kernels' text and the number of reductions of each depth."""
    order = walk(t.out)
    depth = depth_of(order)
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    em = Emitter(ptrs, ROWS.index, used, masks=ROWS.masks, layouts=layouts)
    reductions = list({sig(v): v for v in order if v.op == "reduce"}.values())
    max_depth = max(depth[id(r)] for r in reductions)
    levels = {k: [r for r in reductions if depth[id(r)] == k] for k in range(1, max_depth + 1)}
    row_leaf = ("scalar", "row", "rbcast")

    def emit_row_values(lines: list[str], outer: dict) -> None:
        for v in order:
            if sig(v) in outer or v.cls not in ("row", "rowflat", "scalar") or v.op in ("reduce", "const", "ncols"):
                continue
            if all(sig(a) in outer or a.op in ("const", "ncols") or (a.cls in row_leaf and a.op in LEAF_OPS)
                   for a in v.args) or (v.op in LEAF_OPS and v.cls in row_leaf):
                em.emit(v, lines, outer, {})

    def combine(lines: list[str], outer: dict, upto: int) -> None:
        """Row values of the reductions of depth <= upto, from every chunk's partials."""
        for k in range(1, upto + 1):
            for i, r in enumerate(levels[k]):
                part = em.fresh("part")
                lines.append(f"{part} = tl.load(buf{k}_ptr + (row * n_split + splits) * {len(levels[k])} + {i}, "
                             f"mask=split_mask, other={REDUCE_INIT[r.attr]})")
                red = em.fresh("r")
                lines.append(f"{red} = {SPLIT_COMBINE[r.attr]}({part}, axis=0)")
                outer[sig(r)] = red
            emit_row_values(lines, outer)

    head = ["pid = tl.program_id(0)", "row = (pid // n_split).to(tl.int64)", "chunk_id = pid % n_split",
            "base = row * n_cols", "n_cols_f = n_cols * 1.0", "lo = chunk_id * chunk", "hi = tl.minimum(lo + chunk, n_cols)",
            "splits = tl.arange(0, SPLIT_P2)", "split_mask = splits < n_split"]
    loop_head = ["cols = start + tl.arange(0, BLOCK)", "mask = cols < hi"]
    buffers = [f"buf{k}_ptr" for k in range(1, max_depth + 1)]
    sizes = ["n_cols", "n_split", "chunk", "BLOCK: tl.constexpr", "SPLIT_P2: tl.constexpr"]
    bodies: list[tuple[str, list[str]]] = []
    for k in range(1, max_depth + 1):
        lines = list(head)
        outer: dict = {}
        emit_row_values(lines, outer)
        combine(lines, outer, k - 1)
        accs = {}
        for r in levels[k]:
            accs[id(r)] = em.fresh("acc")
            lines.append(f"{accs[id(r)]} = tl.full([BLOCK], {REDUCE_INIT[r.attr]}, tl.float32)")
        loop = list(loop_head)
        cache: dict = {}
        for r in levels[k]:
            x = em.emit(r.args[0], loop, cache, outer)
            acc, init = accs[id(r)], REDUCE_INIT[r.attr]
            if r.attr == "sum":
                loop.append(f"{acc} += tl.where(mask, {x}, {init})")
            else:
                loop.append(f"{acc} = {'tl.maximum' if r.attr == 'max' else 'tl.minimum'}({acc}, tl.where(mask, {x}, {init}))")
        lines.append("for start in range(lo, hi, BLOCK):")
        lines.extend("    " + s for s in loop)
        for i, r in enumerate(levels[k]):
            lines.append(f"tl.store(buf{k}_ptr + pid * {len(levels[k])} + {i}, {REDUCE_FN[r.attr]}({accs[id(r)]}, axis=0))")
        bodies.append((f"{name}_p{k}", lines))
    lines = list(head)
    outer = {}
    emit_row_values(lines, outer)
    combine(lines, outer, max_depth)
    if t.out.cls == "full":
        loop = list(loop_head)
        loop.append(ROWS.store_full.format(v=em.emit(t.out, loop, {}, outer)))
        lines.append("for start in range(lo, hi, BLOCK):")
        lines.extend("    " + s for s in loop)
    else:
        value = em.emit(t.out, lines, {}, outer)
        lines.append("if chunk_id == 0:")
        lines.append("    " + ROWS.store_row.format(v=value))
    bodies.append((f"{name}_final", lines))
    out = []
    for kname, body in bodies:
        args = ", ".join([*ptrs.values(), "out_ptr", *buffers, *layouts.names, *sizes])
        out.append(f"@triton.jit\ndef {kname}({args}):\n" + textwrap.indent("\n".join(body), "    ") + "\n")
    return "\n\n".join(out), [len(levels[k]) for k in range(1, max_depth + 1)]


# -- scans -----------------------------------------------------------------------------------------

def kernel_scan(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs | None = None) -> str:
    """One program per row, BLOCK elements at a time: the chunk's scan (tl.cumsum / tl.cumprod)
    plus the carry of the chunks before it, the epilogue, one store; the row is read and written
    once. A reverse scan walks the chunks from the row's end; an exclusive one subtracts the element."""
    layouts = layouts or LayoutArgs(t.space, ROWS.axis_vars)
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    em = Emitter(ptrs, ROWS.index, used, masks=ROWS.masks, layouts=layouts)
    scan = next(v for v in walk(t.out) if v.op == "scan")
    kind, reverse, exclusive = scan.attr
    neutral = "0.0" if kind == "sum" else "1.0"
    lines = ["row = tl.program_id(0).to(tl.int64)", "base = row * n_cols", "n_cols_f = n_cols * 1.0",
             f"carry = tl.full([], {neutral}, tl.float32)", "n_chunks = tl.cdiv(n_cols, BLOCK)",
             "for i in range(0, n_chunks):"]
    body = [f"start = {'(n_chunks - 1 - i)' if reverse else 'i'} * BLOCK", "cols = start + tl.arange(0, BLOCK)",
            "mask = cols < n_cols"]
    cache: dict = {}
    x = em.emit(scan.args[0], body, cache, {})
    body.append(f"xs = tl.where(mask, {x}, {neutral})")
    if kind == "sum":
        body.append(f"ys = tl.cumsum(xs, axis=0{', reverse=True' if reverse else ''}) + carry")
    else:
        body.append(f"ys = tl.cumprod(xs, axis=0{', reverse=True' if reverse else ''}) * carry")
    if exclusive:
        body.append("ys = ys - xs")
    cache[sig(scan)] = "ys"
    body.append(ROWS.store_full.format(v=em.emit(t.out, body, cache, {})))
    if kind == "sum":
        body.append("carry = carry + tl.sum(xs, axis=0)")
    else:
        used.add("kw_mul")
        body.append("carry = carry * tl.reduce(xs, 0, kw_mul)")
    lines += ["    " + b for b in body]
    args = ", ".join([*ptrs.values(), "out_ptr", *layouts.names, "n_cols", "BLOCK: tl.constexpr"])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"
