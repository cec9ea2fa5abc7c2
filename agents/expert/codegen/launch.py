"""The host side of a stage: the lines of `forward` that make the inputs contiguous, allocate the
output (its shape read at run time from the iteration space), and launch the kernel with a grid
of the family's shape (fixed config or autotuned); few long rows launch the split kernels
instead (`split_rows`), a matmul's output is viewed as the traced output."""

from __future__ import annotations

from kernelwright.agents.expert.codegen import matmul as mmc
from kernelwright.agents.expert.codegen import runtime_dims
from kernelwright.agents.expert.codegen.decorators import fixed_launch, launch_options
from kernelwright.agents.expert.codegen.emitter import LayoutArgs, broadcasts, host_expr, leaf_uses
from kernelwright.agents.expert.configs import Config
from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.space import Dim, Space, shape_host
from kernelwright.agents.expert.tracing import Traced


def _classic(t: Traced) -> bool:
    """The row is the main shape's last dim (the forms the first families were written with)."""
    sp, main = t.space, t.main_shape
    return (sp is not None and len(main) > 0 and main[-1] != 1 and sp.b == len(sp.dims) == sp.a + 1
            and sp.dims[-1].host == f"kw_main.shape[{len(main) - 1}]")


def _out_shape(t: Traced, classic: bool) -> str:
    if t.runtime_dim is not None:  # around the dim the model was built with
        return runtime_dims.out_shape(t.out.cls)
    main, out, sp = tuple(t.main_shape), tuple(t.out_shape), t.space
    if t.out.cls == "full":
        if out == main:
            return "kw_main.shape"
        dims = list(range(len(sp.dims)))
    else:
        if classic and out == main[:-1] + (1,):
            return "kw_main.shape[:-1] + (1,)"
        if classic and out == main[:-1]:
            return "kw_main.shape[:-1]"
        dims = [k for k in range(len(sp.dims)) if not sp.a <= k < sp.b]
    expr = shape_host(out, dims, sp)
    if expr is None:
        raise UnsupportedProblem(f"expert policy: no kernel for an output of shape {list(out)} over {list(main)}")
    return expr


# Few long rows run split over programs (`split_rows.kernels_split`): (fewer rows than, rows at least
# this long, programs to aim for, shortest chunk, BLOCK, num_warps). On a GPU: under two rows per SM
# (132 on an H100), a row of 32K+ elements, ~8 programs per SM. On the CPU the interpreter prefers
# few programs; small thresholds there keep the path exercised at test sizes.
SPLIT_GPU = (264, 32768, 1056, 16384, 2048, 8)


SPLIT_CPU = (16, 64, 4, 64, 1024, 4)


def _forward_split(t: Traced, kname: str, leaf_args: list[str], extra: list[str], split: list[int], device: str) -> list[str]:
    few, long, target, shortest, block, warps = SPLIT_CPU if device == "cpu" else SPLIT_GPU
    bufs = [f"kw_buf{k}" for k in range(1, len(split) + 1)]
    args = ", ".join([*leaf_args, "kw_out", *bufs, *extra, "kw_n_cols", "kw_split", "kw_chunk"])
    lines = [f"if kw_rows < {few} and kw_n_cols >= {long}:  # few long rows: each row split over programs",
             f"    kw_split = min(triton.cdiv(kw_n_cols, {shortest}), max(1, {target} // kw_rows))",
             f"    kw_chunk = triton.cdiv(triton.cdiv(kw_n_cols, kw_split), {block}) * {block}",
             "    kw_split = triton.cdiv(kw_n_cols, kw_chunk)"]
    lines += [f"    {b} = torch.empty(kw_rows * kw_split * {n}, dtype=torch.float32, device=kw_main.device)"
              for b, n in zip(bufs, split)]
    for name in [f"{kname}_p{k}" for k in range(1, len(split) + 1)] + [f"{kname}_final"]:
        lines.append(f"    {name}[(kw_rows * kw_split,)]({args}, BLOCK={block}, SPLIT_P2=triton.next_power_of_2(kw_split), "
                     f"num_warps={warps})")
    return lines + ["    return kw_out"]


def forward_rows_or_elementwise(t: Traced, kname: str, leaves, leaf_args: list[str], configs: list[Config],
                                 layouts: LayoutArgs, split: list[int] | None = None, device: str = "cpu") -> list[str]:
    full_inputs = [v for v in leaf_uses(t.out) if v.cls == "full" and v.op != "arg"]
    if not full_inputs:
        raise UnsupportedProblem("expert policy: no kernel for an output whose shape comes from broadcasting alone")
    main = next((v for v in full_inputs if v.op == "input"), full_inputs[0])
    sp = t.space
    classic = _classic(t)
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    fwd += [f"kw_main = {host_expr(main)}"]
    if not classic or layouts.args:
        fwd.append(f"kw_s = {sp.host_tuple()}  # the iteration space's dims")
    if t.runtime_dim is not None:  # the split around the dim the model was built with (kw_n_q included)
        fwd += runtime_dims.split_lines(t.runtime_dim)
    else:
        fwd.append("kw_n_cols = kw_main.shape[-1]" if classic else f"kw_n_cols = {sp.prod_host(range(sp.a, sp.b))}")
    tuned = len(configs) > 1
    c = configs[0]
    out_dtype = c.out_dtype or t.out_dtype
    dtype = f"torch.{out_dtype}" if out_dtype else "kw_main.dtype"
    extra = list(layouts.host)
    if t.family == "elementwise" and broadcasts(leaf_uses(t.out)):
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_rows", "kw_n_cols"])
        fwd += [f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)",
                "kw_rows = kw_out.numel() // kw_n_cols"]
        block = 'META["BLOCK"]' if tuned else "BLOCK"
        grid = f"(triton.cdiv(kw_rows, kw_tile_2d({block}, kw_n_cols)[0]), triton.cdiv(kw_n_cols, kw_tile_2d({block}, kw_n_cols)[1]))"
        if tuned:
            fwd += [f"grid = lambda META: {grid}", f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = {c.block}", f"grid = {grid}",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {launch_options(c, 'elementwise')})"]
    elif t.family == "elementwise":
        args = ", ".join([*leaf_args, "kw_out", "kw_n", "kw_n_cols"])
        fwd += [f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)", "kw_n = kw_out.numel()"]
        if tuned:
            fwd += ['grid = lambda META: (triton.cdiv(kw_n, META["BLOCK"]),)', f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = {c.block}", "grid = (triton.cdiv(kw_n, BLOCK),)",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {launch_options(c, 'elementwise')})"]
    elif t.family == "scan":
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols"])
        fwd += ["kw_rows = kw_main.numel() // kw_n_cols",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)", "grid = (kw_rows,)"]
        if tuned:
            fwd.append(f"{kname}[grid]({args})")
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {launch_options(c, 'rows')})"]
    elif t.family == "rows":
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols"])
        fwd += ["kw_rows = kw_main.numel() // kw_n_cols",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)"]
        if split:
            fwd += _forward_split(t, kname, leaf_args, extra, split, device)
        fwd.append("grid = (kw_rows,)")
        if tuned:
            fwd.append(f"{kname}[grid]({args})")
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {launch_options(c, 'rows')})"]
    else:  # cols: a reduction over a middle dim
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols", "kw_n_q"])
        if t.runtime_dim is None:
            fwd.append(f"kw_n_q = {sp.prod_host(range(sp.b, len(sp.dims)))}")
        fwd += ["kw_rows = kw_main.numel() // (kw_n_cols * kw_n_q)",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)"]
        if tuned:
            fwd += ['grid = lambda META: (kw_rows * triton.cdiv(kw_n_q, META["BLOCK_Q"]),)', f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})", f"BLOCK_Q = {c.block_q}",
                    "grid = (kw_rows * triton.cdiv(kw_n_q, BLOCK_Q),)",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, BLOCK_Q=BLOCK_Q, {launch_options(c, 'rows')})"]
    return fwd + ["return kw_out"]


def forward_matmul(t: Traced, kname: str, leaves, leaf_args: list[str], configs: list[Config], device: str) -> list[str]:
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    typed = [host_expr(v) for v in leaves if v.cls in ("full", "col")]
    c0 = configs[0]
    fwd += mmc.host_matmul(t.matmul, typed, device, c0.out_dtype, c0.f32_dot)
    args = ", ".join(mmc.launch_args(leaf_args))
    if len(configs) > 1:
        fwd += ['grid = lambda META: ' + mmc.GRID.format(bm='META["BLOCK_M"]', bn='META["BLOCK_N"]'),
                f"{kname}[grid]({args}, F32_DOT=kw_f32_dot)"]
    else:
        c = configs[0]
        fixed = fixed_launch("matmul", c)
        if c.epilogue_split == 2:  # split only where the rows are 16-byte aligned (see MATMUL_PRUNE)
            fwd.append("kw_split = 2 if kw_rows_aligned(kw_a3, kw_b3, kw_out, kw_n) else 1")
            fixed = fixed.replace("EPILOGUE_SPLIT=2", "EPILOGUE_SPLIT=kw_split")
        fwd += [f"grid = {mmc.GRID.format(bm=c.block_m, bn=c.block_n)}",
                f"{kname}[grid]({args}, F32_DOT=kw_f32_dot, {fixed})"]
    return fwd + view_as_out(t, tuple(t.main_shape))


def view_as_out(t: Traced, allocated: tuple[int, ...]) -> list[str]:
    """`return kw_out`, viewed as the traced output where the graph ends in a view (unsqueeze, ...)."""
    if tuple(t.out_shape) in ((), allocated) or not t.out_shape:
        return ["return kw_out"]
    kept = [(n, i) for i, n in enumerate(allocated) if n != 1]
    view = shape_host(tuple(t.out_shape), list(range(len(kept))),
                      Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in kept), len(kept), len(kept)))
    if view is None:
        raise UnsupportedProblem(f"expert policy: no kernel for an output of shape {list(t.out_shape)} from {list(allocated)}")
    space = Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in kept), len(kept), len(kept))
    return [f"kw_s = {space.host_tuple()}", f"return kw_out.reshape({view})"]
