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

import textwrap

from kernelwright.agents.expert.expressions import BINARY, REDUCE_FN, REDUCE_INIT, _f, sig, unary_expr, walk
from kernelwright.agents.expert.ir import UnsupportedProblem, V
from kernelwright.agents.expert.tracing import Traced


class Emitter:
    """Turns IR nodes into Triton statements. `scope` caches names per loop body."""

    def __init__(self, tensors: dict[str, str], index: dict[str, str], used: set[str], masks: dict[str, str] | None = None):
        self.tensors = tensors  # leaf key -> kernel pointer argument
        self.index = index  # cls -> offset expression ("full": offs, "col": cols) in the current scope
        self.masks = masks or {}  # cls -> mask expression (default: `mask`)
        self.used = used
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
        if v.op in ("input", "param"):
            ptr = self.tensors[_leaf_key(v)]
            name = self.fresh("x")
            off, mask = self.index.get(v.cls), self.masks.get(v.cls, "mask")
            if v.cls == "scalar":
                lines.append(f"{name} = tl.load({ptr}).to(tl.float32)")
            elif mask is None:  # one value per program (a per-row input in the row kernel)
                lines.append(f"{name} = tl.load({ptr} + {off}).to(tl.float32)")
            else:
                lines.append(f"{name} = tl.load({ptr} + {off}, mask={mask}, other=0.0).to(tl.float32)")
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


def _leaves(order: list[V]) -> list[V]:
    out, seen = [], set()
    for v in order:
        if v.op in ("input", "param") and _leaf_key(v) not in seen:
            seen.add(_leaf_key(v))
            out.append(v)
    return out


def _ptr_name(v: V) -> str:
    base = str(v.attr).replace(".", "_")
    return f"{'in' if v.op == 'input' else 'p'}_{base}_ptr"


def _host_expr(v: V) -> str:
    return str(v.attr) if v.op == "input" else f"self.{v.attr}"


def depth_of(order: list[V]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for v in order:
        d = max((depth[id(a)] for a in v.args), default=0)
        depth[id(v)] = d + 1 if v.op == "reduce" else d
    return depth


def broadcasts(leaves: list[V]) -> bool:
    """Whether an operand is indexed by row or column alone: the elementwise kernel then tiles 2-D."""
    return any(v.cls in ("col", "row") for v in leaves)


def kernel_elementwise(name: str, t: Traced, leaves: list[V], used: set[str]) -> str:
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    ncols = "n_cols_f = n_cols * 1.0" if _uses_ncols(t.out) else None
    if broadcasts(leaves):
        em = Emitter(ptrs, {"full": "offs", "col": "cols", "row": "rows"}, used, {"col": "col_mask", "row": "row_mask"})
        args = [*ptrs.values(), "out_ptr", "n_rows", "n_cols", "BLOCK: tl.constexpr", "BLOCK_R: tl.constexpr",
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
    return f"@triton.jit\ndef {name}({', '.join(args)}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


def _uses_ncols(out: V) -> bool:
    return any(v.op == "ncols" for v in walk(out))


def kernel_rows(name: str, t: Traced, leaves: list[V], used: set[str]) -> str:
    """One program per row. SINGLE (constexpr, the row fits one block): every operand is loaded
    once and each reduction is a block reduction. Otherwise one loop over the row per reduction
    depth, and a last loop that recomputes the epilogue and stores."""
    order = walk(t.out)
    depth = depth_of(order)
    ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
    em = Emitter(ptrs, {"full": "base + cols", "col": "cols", "row": "row"}, used, masks={"row": None})
    reductions = list({sig(v): v for v in order if v.op == "reduce"}.values())  # equal ones once
    max_depth = max((depth[id(r)] for r in reductions), default=0)

    def emit_row_values(lines: list[str], outer: dict[int, str]) -> None:
        # Row-level values whose reductions are all known: computed once per row, outside loops.
        for v in order:
            if sig(v) in outer or v.cls not in ("row", "rowflat", "scalar") or v.op in ("reduce", "const", "ncols"):
                continue
            if all(sig(a) in outer or a.op in ("const", "ncols") or (a.cls in ("scalar", "row") and a.op in ("input", "param"))
                   for a in v.args) or (v.op in ("input", "param") and v.cls in ("scalar", "row")):
                em.emit(v, lines, outer, {})

    def store(lines: list[str], cache: dict[int, str], outer: dict[int, str]) -> None:
        if t.out.cls == "full":
            result = em.emit(t.out, lines, cache, outer)
            lines.append(f"tl.store(out_ptr + base + cols, {result}.to(out_ptr.dtype.element_ty), mask=mask)")

    def single() -> list[str]:
        lines = ["cols = tl.arange(0, BLOCK)", "mask = cols < n_cols"]
        outer: dict[int, str] = {}
        cache: dict[int, str] = {}
        emit_row_values(lines, outer)
        for k in range(1, max_depth + 1):
            for r in (r for r in reductions if depth[id(r)] == k):
                x = em.emit(r.args[0], lines, cache, outer)
                red = em.fresh("r")
                lines.append(f"{red} = {REDUCE_FN[r.attr]}(tl.where(mask, {x}, {REDUCE_INIT[r.attr]}), axis=0)")
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
            accs = {}
            for r in level:
                accs[id(r)] = em.fresh("acc")
                lines.append(f"{accs[id(r)]} = tl.full([BLOCK], {REDUCE_INIT[r.attr]}, tl.float32)")
            loop: list[str] = ["cols = start + tl.arange(0, BLOCK)", "mask = cols < n_cols"]
            cache: dict[int, str] = {}
            for r in level:
                x = em.emit(r.args[0], loop, cache, outer)
                acc, init = accs[id(r)], REDUCE_INIT[r.attr]
                if r.attr == "sum":
                    loop.append(f"{acc} += tl.where(mask, {x}, {init})")
                else:
                    fn = "tl.maximum" if r.attr == "max" else "tl.minimum"
                    loop.append(f"{acc} = {fn}({acc}, tl.where(mask, {x}, {init}))")
            lines.append("for start in range(0, n_cols, BLOCK):")
            lines.extend("    " + s for s in loop)
            for r in level:
                red = em.fresh("r")
                lines.append(f"{red} = {REDUCE_FN[r.attr]}({accs[id(r)]}, axis=0)")
                outer[sig(r)] = red
            emit_row_values(lines, outer)
        if t.out.cls == "full":
            loop = ["cols = start + tl.arange(0, BLOCK)", "mask = cols < n_cols"]
            store(loop, {}, outer)
            lines.append("for start in range(0, n_cols, BLOCK):")
            lines.extend("    " + s for s in loop)
        return lines, outer

    lines = ["row = tl.program_id(0).to(tl.int64)", "base = row * n_cols", "n_cols_f = n_cols * 1.0"]
    one, one_outer = single()
    many, many_outer = looped()
    if t.out.cls != "full":  # a reduced output: one value per row
        one.append(f"tl.store(out_ptr + row, {em.emit(t.out, one, {}, one_outer)}.to(out_ptr.dtype.element_ty))")
        many.append(f"tl.store(out_ptr + row, {em.emit(t.out, many, {}, many_outer)}.to(out_ptr.dtype.element_ty))")
    lines += ["if SINGLE:"] + ["    " + s for s in one] + ["else:"] + ["    " + s for s in many]
    args = ", ".join([*ptrs.values(), "out_ptr", "n_cols", "BLOCK: tl.constexpr", "SINGLE: tl.constexpr"])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"
