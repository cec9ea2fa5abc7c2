"""The pooling family: max / average pooling over 1 to 3 trailing spatial dims, with its
elementwise epilogue fused before the store.

The kernel tiles the output as rows (leading dims x output depth x output height) by columns
(output width): the row's indices are decoded once per row, never per element. Each output
element loops over its window (kernel sizes, strides, paddings and dilations are constexprs, so
the window loops unroll), reads the input masked at the padding (-inf for max, 0 for average),
and divides an average by the window size (or, with count_include_pad=False, by the number of
elements inside the input). Spatial dims a problem does not have are size 1 with a 1-wide window.

Window parameters are read from the module at run time (`self.pool.kernel_size`), so the kernel
holds where a shape variant changes them; the functional forms take the traced literals.
"""

from __future__ import annotations

import dataclasses
import textwrap

from kernelwright.agents.expert.ir import V

# Besides `host_helpers.NTUPLE`.
POOL_HELPERS = '''
def kw_pool_out(size, k, s, p, d, ceil):
    # torch's pooled length (with ceil_mode, the last window must start inside the padded input)
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out

'''


POOL_HEURISTICS = ('{"BLOCK_R": lambda args: kw_tile_2d(args["BLOCK"], args["OW"])[0], '
                   '"BLOCK_C": lambda args: kw_tile_2d(args["BLOCK"], args["OW"])[1]}')


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    kind: str  # max | avg
    nd: int  # spatial dims: 1, 2, 3
    # Host expressions (module attributes or literals) of each parameter: an int or a tuple.
    kernel: str
    stride: str
    padding: str
    dilation: str
    ceil_mode: str
    count_include_pad: bool = True
    divisor_override: int | None = None
    in_shape: tuple[int, ...] = ()
    out_shape: tuple[int, ...] = ()


def kernel_pool(name: str, out: V, spec: PoolSpec, emitter, x_ptr: str, ptrs: dict[str, str]) -> str:
    """The kernel text; `emitter` emits the epilogue (scalars only besides the pooled value)."""
    pool = next(v for v in _walk(out) if v.op == "pool")
    neutral = '-float("inf")' if spec.kind == "max" else "0.0"
    lines = [
        "rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)[:, None]",
        "ow = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]",
        "mask = (rows < n_rows) & (ow < OW)",
        "oh = rows % OH",
        "od = (rows // OH) % OD",
        "lead = rows // (OH * OD)",
        "base = lead * ID * IH * IW",
        f"acc = tl.full([BLOCK_R, BLOCK_C], {neutral}, tl.float32)",
    ]
    if spec.kind == "avg" and not spec.count_include_pad:
        lines.append("count = tl.zeros([BLOCK_R, BLOCK_C], tl.float32)")
    lines += [
        "for kd in tl.static_range(K0):",
        "    i_d = od * S0 - P0 + kd * D0",
        "    ok_d = (i_d >= 0) & (i_d < ID)",
        "    for kh in tl.static_range(K1):",
        "        i_h = oh * S1 - P1 + kh * D1",
        "        ok_h = ok_d & (i_h >= 0) & (i_h < IH)",
        "        for kw in tl.static_range(K2):",
        "            i_w = ow * S2 - P2 + kw * D2",
        "            ok = mask & ok_h & (i_w >= 0) & (i_w < IW)",
        f"            v = tl.load({x_ptr} + base + (i_d * IH + i_h) * IW + i_w, mask=ok, other={neutral}).to(tl.float32)",
        "            acc = tl.maximum(acc, v)" if spec.kind == "max" else "            acc += v",
    ]
    if spec.kind == "avg" and not spec.count_include_pad:
        lines.append("            count += ok.to(tl.float32)")
    if spec.kind == "avg":
        if spec.divisor_override:
            lines.append(f"acc = acc / {float(spec.divisor_override)!r}")
        elif spec.count_include_pad:
            # windows are clipped to the padded input only in ceil mode, which average pooling refuses
            lines.append("acc = acc / (K0 * K1 * K2)")
        else:
            lines.append("acc = acc / tl.maximum(count, 1.0)")
    lines.append("offs = rows * OW + ow")
    body: list[str] = []
    result = emitter.emit(out, body, {_sig(pool): "acc"}, {})
    lines += body
    lines.append(f"tl.store(out_ptr + offs, {result}.to(out_ptr.dtype.element_ty), mask=mask)")
    consts = [f"{c}{i}: tl.constexpr" for c in "KSPD" for i in range(3)]
    args = ", ".join([x_ptr, *ptrs.values(), "out_ptr", "n_rows", "ID", "IH", "IW", "OD", "OH", "OW", *consts,
                      "BLOCK: tl.constexpr", "BLOCK_R: tl.constexpr", "BLOCK_C: tl.constexpr"])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


def forward_pool(spec: PoolSpec, kname: str, x_host: str, leaf_args: list[str], in_shape_expr: str,
                 out_view: tuple[str, str] | None,
                 dtype: str, fixed: tuple[int, str] | None) -> list[str]:
    """Forward lines: the input viewed as [*lead, *spatial], the parameters, the launch.
    `fixed`: (BLOCK, launch options) of a single config; None where the kernel is autotuned."""
    nd = spec.nd
    pad3 = 3 - nd
    fwd = [f"kw_x = {x_host}.reshape({in_shape_expr})",
           f"kw_k = (1,) * {pad3} + kw_ntuple({spec.kernel}, {nd})",
           f"kw_st = (1,) * {pad3} + kw_ntuple({spec.stride}, {nd})",
           f"kw_p = (0,) * {pad3} + kw_ntuple({spec.padding}, {nd})",
           f"kw_d = (1,) * {pad3} + kw_ntuple({spec.dilation}, {nd})",
           f"kw_in = (1,) * {pad3} + tuple(kw_x.shape[-{nd}:])",
           f"kw_o = tuple(kw_pool_out(kw_in[i], kw_k[i], kw_st[i], kw_p[i], kw_d[i], bool({spec.ceil_mode})) for i in range(3))",
           f"kw_out = torch.empty((*kw_x.shape[:-{nd}], *kw_o[{pad3}:]), dtype={dtype}, device=kw_x.device)",
           "kw_rows = kw_out.numel() // kw_o[2]"]
    consts = ", ".join(f"{c}{i}=kw_{v}[{i}]" for c, v in (("K", "k"), ("S", "st"), ("P", "p"), ("D", "d")) for i in range(3))
    args = ", ".join(["kw_x", *leaf_args, "kw_out", "kw_rows", "*kw_in", "*kw_o"])
    if fixed is None:
        fwd += ['grid = lambda META: (triton.cdiv(kw_rows, kw_tile_2d(META["BLOCK"], kw_o[2])[0]), '
                'triton.cdiv(kw_o[2], kw_tile_2d(META["BLOCK"], kw_o[2])[1]))',
                f"{kname}[grid]({args}, {consts})"]
    else:
        fwd += [f"BLOCK = {fixed[0]}",
                "grid = (triton.cdiv(kw_rows, kw_tile_2d(BLOCK, kw_o[2])[0]), triton.cdiv(kw_o[2], kw_tile_2d(BLOCK, kw_o[2])[1]))",
                f"{kname}[grid]({args}, {consts}, BLOCK=BLOCK, {fixed[1]})"]
    if out_view:  # the stage's output is a view of the pooled tensor (a squeeze): (its shape, the dims it reads)
        fwd += [f"kw_s = {out_view[1]}", f"return kw_out.reshape({out_view[0]})"]
    else:
        fwd.append("return kw_out")
    return fwd


def _walk(out: V):
    from kernelwright.agents.expert.expressions import walk

    return walk(out)


def _sig(v: V):
    from kernelwright.agents.expert.expressions import sig

    return sig(v)
