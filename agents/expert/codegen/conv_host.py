"""The host side of a convolution stage: the helpers the generated file defines (the output's
shape and the kernel's size arguments from the run-time shapes and hyperparameters, the tile
fitted to a group's channels) and the forward lines that launch the kernel of `codegen.conv`."""

from __future__ import annotations

from kernelwright.agents.expert.codegen.decorators import fixed_launch
from kernelwright.agents.expert.codegen.emitter import host_expr
from kernelwright.agents.expert.codegen.launch import view_as_out
from kernelwright.agents.expert.codegen.matmul import widest_dtype
from kernelwright.agents.expert.configs import Config
from kernelwright.agents.expert.tracing import Traced

# Besides `host_helpers.NTUPLE`.
CONV_HELPERS = '''
def kw_conv_dot(cin_g):
    # tl.dot where a K step has 16 input channels; fewer (depthwise): outer products
    return cin_g >= 16


def kw_conv_tile_n(block_n, cout_g, cin_g):
    # No wider than a group's output channels (1 for depthwise); tl.dot needs 16
    tile = min(block_n, triton.next_power_of_2(cout_g))
    return max(tile, 16) if kw_conv_dot(cin_g) else tile


def kw_conv_tile_k(block_k, cin_g):
    return max(16, min(block_k, triton.next_power_of_2(cin_g)))


def kw_conv_geometry(x, w, nd, transposed, stride, padding, dilation, groups, output_padding):
    # (output shape, groups, the kernel's size arguments); spatial dims as three, missing ones 1 wide
    pad3 = 3 - nd
    k = (1,) * pad3 + tuple(w.shape[2:])
    s = (1,) * pad3 + kw_ntuple(stride, nd)
    d = (1,) * pad3 + kw_ntuple(dilation, nd)
    i = (1,) * pad3 + tuple(x.shape[2:])
    if isinstance(padding, str):  # 'same' (stride 1) pads the odd element at the end, as torch does
        total = tuple(dd * (kk - 1) if padding == "same" else 0 for dd, kk in zip(d, k))
        lo = tuple(t // 2 for t in total)
        hi = tuple(t - t // 2 for t in total)
    else:
        lo = hi = (0,) * pad3 + kw_ntuple(padding, nd)
    if transposed:
        extra = (0,) * pad3 + kw_ntuple(output_padding, nd)
        o = tuple((ii - 1) * ss - 2 * pp + dd * (kk - 1) + ee + 1 for ii, ss, pp, dd, kk, ee in zip(i, s, lo, d, k, extra))
        cin_g, cout_g = w.shape[0] // groups, w.shape[1]
        w_sg, w_sco, w_sci = cin_g * w.stride(0), w.stride(1), w.stride(0)
    else:
        o = tuple((ii + pl + ph - dd * (kk - 1) - 1) // ss + 1 for ii, ss, pl, ph, dd, kk in zip(i, s, lo, hi, d, k))
        cin_g, cout_g = w.shape[1], w.shape[0] // groups
        w_sg, w_sco, w_sci = cout_g * w.stride(0), w.stride(0), w.stride(1)
    if x.shape[1] != cin_g * groups or min(o) < 1:
        raise ValueError(f"convolution of {tuple(x.shape)} with a weight of {tuple(w.shape)} in {groups} groups")
    out_shape = (x.shape[0], cout_g * groups, *o[pad3:])
    o_size, i_size = o[0] * o[1] * o[2], i[0] * i[1] * i[2]
    args = {"M": x.shape[0] * o_size, "OS": o_size, "IS": i_size, "CIN": x.shape[1], "COUT": cout_g * groups,
            "CIN_G": cin_g, "COUT_G": cout_g, "ID": i[0], "IH": i[1], "IW": i[2], "OH": o[1], "OW": o[2],
            "W_SG": w_sg, "W_SCO": w_sco, "W_SCI": w_sci, "TRANSPOSED": bool(transposed)}
    for name, values in (("K", k), ("S", s), ("P", lo), ("D", d)):
        args.update({f"{name}{axis}": v for axis, v in zip("DHW", values)})
    return out_shape, groups, args

'''

GRID = ('(triton.cdiv(kw_args["M"], {bm}), '
        'kw_groups * triton.cdiv(kw_args["COUT_G"], kw_conv_tile_n({bn}, kw_args["COUT_G"], kw_args["CIN_G"])))')


def forward_conv(t: Traced, kname: str, leaves, leaf_args: list[str], configs: list[Config], device: str) -> list[str]:
    """Forward lines: the geometry from the run-time shapes and hyperparameters, the output
    allocated with torch's result dtype, the launch (fixed config or autotuned)."""
    spec, h = t.conv, t.conv.hyper
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    fwd += [f"kw_x = {spec.x}" + ("" if spec.x in t.inputs else ".contiguous()"), f"kw_w = {spec.weight}.contiguous()",
            f"kw_out_shape, kw_groups, kw_args = kw_conv_geometry(kw_x, kw_w, {spec.nd}, {spec.transposed}, {h.stride}, "
            f"{h.padding}, {h.dilation}, {h.groups}, {h.output_padding})"]
    c = configs[0]
    typed = [host_expr(v) for v in leaves if v.cls in ("full", "col")]
    dtype = f"torch.{c.out_dtype}" if c.out_dtype else widest_dtype(["kw_x", "kw_w"], typed)
    fwd.append(f"kw_out = torch.empty(kw_out_shape, dtype={dtype}, device=kw_x.device)")
    # The interpreter's 16-bit dot is wrong (see codegen.matmul): fp32 products on the CPU.
    f32 = "True" if device == "cpu" or c.f32_dot else "kw_x.dtype == torch.float32 or kw_w.dtype == torch.float32"
    fwd.append(f"kw_f32_dot = {f32}")
    args = ", ".join(["kw_x", "kw_w", *leaf_args, "kw_out", "**kw_args", "F32_DOT=kw_f32_dot"])
    if len(configs) > 1:
        fwd += ["grid = lambda META: " + GRID.format(bm='META["BLOCK_M"]', bn='META["BLOCK_N"]'), f"{kname}[grid]({args})"]
    else:
        fwd += [f"grid = {GRID.format(bm=c.block_m, bn=c.block_n)}", f"{kname}[grid]({args}, {fixed_launch('conv', c)})"]
    return fwd + view_as_out(t, tuple(t.main_shape))
