"""The reduction kernels: `rows` (one program per row, a reduction over trailing dims) and `cols`
(BLOCK_Q rows side by side, a reduction over a middle block of dims); `ReduceShape` says how
each walks its rows.

Each reduction has a depth (1 + the deepest reduction it needs); pass k loops over the row in
BLOCK-sized chunks and accumulates the reductions of depth k, the last pass recomputes the
elementwise epilogue and stores. A row that fits one block (SINGLE) runs each loop once; a
longer row loops (two-pass/multi-pass, never a block larger than the cap). Every load and store
is masked."""

from __future__ import annotations

import dataclasses
import textwrap

from kernelwright.agents.expert.codegen.emitter import (
    LEAF_OPS,
    Emitter,
    LayoutArgs,
    depth_of,
    leaf_key,
    ptr_name,
)
from kernelwright.agents.expert.expressions import REDUCE_FN, REDUCE_INIT, sig, walk
from kernelwright.agents.expert.ir import V
from kernelwright.agents.expert.tracing import Traced


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
    ptrs = {leaf_key(v): ptr_name(v) for v in leaves}
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
