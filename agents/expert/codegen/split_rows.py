"""Few long rows (a LayerNorm over 16 rows of 4M elements, a loss over all elements): the row kernel
split over programs, each row cut into chunks whose partial reductions a final kernel combines.
Only rows whose reductions combine from partials (sums, max, min) take this path."""

from __future__ import annotations

import textwrap

from kernelwright.agents.expert.codegen.emitter import (
    LEAF_OPS,
    Emitter,
    LayoutArgs,
    depth_of,
    leaf_key,
    ptr_name,
)
from kernelwright.agents.expert.codegen.rows import ROWS
from kernelwright.agents.expert.expressions import REDUCE_FN, REDUCE_INIT, sig, walk
from kernelwright.agents.expert.ir import V
from kernelwright.agents.expert.tracing import Traced

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
    ptrs = {leaf_key(v): ptr_name(v) for v in leaves}
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
