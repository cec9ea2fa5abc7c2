"""The scan kernel: cumsum / cumprod along each row (reverse and exclusive forms included), with
the elementwise epilogue fused before the store."""

from __future__ import annotations

import textwrap

from kernelwright.agents.expert.codegen.emitter import Emitter, LayoutArgs, leaf_key, ptr_name
from kernelwright.agents.expert.codegen.rows import ROWS
from kernelwright.agents.expert.expressions import sig, walk
from kernelwright.agents.expert.ir import V
from kernelwright.agents.expert.tracing import Traced


def kernel_scan(name: str, t: Traced, leaves: list[V], used: set[str], layouts: LayoutArgs | None = None) -> str:
    """One program per row, BLOCK elements at a time: the chunk's scan (tl.cumsum / tl.cumprod)
    plus the carry of the chunks before it, the epilogue, one store; the row is read and written
    once. A reverse scan walks the chunks from the row's end; an exclusive one subtracts the element."""
    layouts = layouts or LayoutArgs(t.space, ROWS.axis_vars)
    ptrs = {leaf_key(v): ptr_name(v) for v in leaves}
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
