"""One stage's code: its kernel(s) with their decorators, the host helpers they call, and the
forward lines that launch them, for the family the stage lowered to (`StageCode`). `solution`
puts the stages of a problem into one file."""

from __future__ import annotations

import dataclasses

from kernelwright.agents.expert.codegen import matmul as mmc
from kernelwright.agents.expert.codegen.conv import kernel_conv
from kernelwright.agents.expert.codegen.conv_host import CONV_HELPERS, forward_conv
from kernelwright.agents.expert.codegen.decorators import (
    MATMUL_PRUNE,
    ROWS_PRUNE,
    TILE_2D,
    decorators,
    launch_options,
)
from kernelwright.agents.expert.codegen.elementwise import kernel_elementwise
from kernelwright.agents.expert.codegen.emitter import (
    Emitter,
    LayoutArgs,
    broadcasts,
    distinct_leaves,
    host_expr,
    leaf_key,
    leaf_uses,
    ptr_name,
)
from kernelwright.agents.expert.codegen.host_helpers import NTUPLE
from kernelwright.agents.expert.codegen.launch import forward_matmul, forward_rows_or_elementwise
from kernelwright.agents.expert.codegen.pool import POOL_HELPERS, forward_pool, kernel_pool
from kernelwright.agents.expert.codegen.rows import COLS, ROWS, kernel_cols, kernel_rows
from kernelwright.agents.expert.codegen.scan import kernel_scan
from kernelwright.agents.expert.codegen.split_rows import kernels_split, splittable
from kernelwright.agents.expert.configs import Config
from kernelwright.agents.expert.expressions import walk
from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.space import Dim, Space, shape_host
from kernelwright.agents.expert.tracing import Traced


@dataclasses.dataclass
class StageCode:
    kernel: str  # decorators and kernel(s)
    host_code: tuple[str, ...]  # host helpers the decorators and the launch call (each defined once a file)
    forward: list[str]  # forward lines from the inputs to `return kw_out`


def stage_code(t: Traced, kname: str, configs: list[Config], device: str, used: set[str]) -> StageCode:
    leaves = distinct_leaves(walk(t.out))
    leaf_args = [host_expr(v) for v in leaves]
    if t.family == "pool":
        return pool_stage_code(t, kname, configs, used)
    if t.family == "conv":
        ptrs = {leaf_key(v): ptr_name(v) for v in leaves}
        kernel = kernel_conv(kname, t.out, ptrs, Emitter, used)
        fwd = forward_conv(t, kname, leaves, leaf_args, configs, device)
        return StageCode(decorators("conv", configs) + kernel, (NTUPLE, CONV_HELPERS), fwd)
    if t.family == "matmul":
        ptrs = {leaf_key(v): ptr_name(v) for v in leaves}
        kernel = mmc.kernel_matmul(kname, t.out, ptrs, Emitter, used, mask_all=configs[0].masks == "all",
                                   split=any(c.epilogue_split == 2 for c in configs))
        fwd = forward_matmul(t, kname, leaves, leaf_args, configs, device)
    else:
        axis_vars = {"elementwise": {"p": "rows", "r": "cols"}, "rows": ROWS.axis_vars, "cols": COLS.axis_vars,
                     "scan": ROWS.axis_vars}[t.family]
        layouts = LayoutArgs(t.space, axis_vars)
        build = {"elementwise": kernel_elementwise, "rows": kernel_rows, "cols": kernel_cols, "scan": kernel_scan}[t.family]
        kernel = build(kname, t, leaves, used, layouts)
        split = None
        if splittable(t):
            text, split = kernels_split(kname, t, leaves, used, layouts)
            kernel += "\n\n" + text
        fwd = forward_rows_or_elementwise(t, kname, leaves, leaf_args, configs, layouts, split, device)
    # Host-side helpers the decorators and the forward call (config pruning, the 2-D tile).
    tiled = t.family == "elementwise" and broadcasts(leaf_uses(t.out))
    split_once = t.family == "matmul" and len(configs) == 1 and configs[0].epilogue_split == 2
    if tiled:
        host_code: tuple[str, ...] = (TILE_2D,)
    elif len(configs) > 1 or split_once:  # split_once: kw_rows_aligned picks the split at the launch
        prune = {"rows": ROWS_PRUNE, "cols": ROWS_PRUNE, "scan": ROWS_PRUNE, "matmul": MATMUL_PRUNE}.get(t.family)
        host_code = (prune,) if prune else ()
    else:
        host_code = ()
    return StageCode(decorators(t.family, configs, tiled) + kernel, host_code, fwd)


def pool_stage_code(t: Traced, kname: str, configs: list[Config], used: set[str]) -> StageCode:
    pool = next(v for v in walk(t.out) if v.op == "pool")
    x = pool.args[0]
    rest = [v for v in distinct_leaves(walk(t.out)) if leaf_key(v) != leaf_key(x)]
    ptrs = {leaf_key(v): ptr_name(v) for v in rest}
    em = Emitter(ptrs, {"full": "offs"}, used)
    kernel = kernel_pool(kname, t.out, pool.attr, em, "x_ptr", ptrs)
    spec, sp = pool.attr, t.space
    in_expr = shape_host(spec.in_shape, list(range(len(sp.dims))), sp)
    out_view = None
    if tuple(t.out_shape) != tuple(spec.out_shape):
        pooled = [(n, i) for i, n in enumerate(spec.out_shape) if n != 1]
        psp = Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in pooled), len(pooled), len(pooled))
        out_view = shape_host(tuple(t.out_shape), list(range(len(pooled))), psp), psp.host_tuple()
    if in_expr is None or (out_view is not None and out_view[0] is None):
        raise UnsupportedProblem(f"expert policy: no kernel for a pooling of {list(spec.in_shape)} in a stage over {list(t.main_shape)}")
    c = configs[0]
    dtype = f"torch.{c.out_dtype}" if c.out_dtype else "kw_x.dtype"
    fixed = None if len(configs) > 1 else (c.block, launch_options(c, "pool"))
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    fwd += [f"kw_main = {host_expr(x)}", f"kw_s = {sp.host_tuple()}  # the iteration space's dims"]
    fwd += forward_pool(spec, kname, host_expr(x), [host_expr(v) for v in rest], in_expr, out_view, dtype, fixed)
    deco = decorators("pool", configs, False)
    return StageCode(deco + kernel, (TILE_2D, NTUPLE, POOL_HELPERS), fwd)
