"""The convolution kernel: an implicit-GEMM direct convolution with the elementwise epilogue of
the IR emitted by the shared `Emitter` on the fp32 accumulator before the one store.

- A program computes a BLOCK_M x TILE_N tile of the output: BLOCK_M output positions (batch x
  output depth x height x width, flattened) by TILE_N output channels of one group (grid axis 1
  is groups x channel tiles). Nothing is unfolded in memory: each step of the one K loop takes
  one kernel position and TILE_K input channels, and gathers the input under a mask that is the
  zero padding, the stride and the dilation (a transposed convolution's output o reads input i
  where o + padding - k * dilation = i * stride: masked where that is not a whole i in range).
- Input channels of a group >= 16: each step is a tl.dot ([BLOCK_M, TILE_K] x [TILE_K, TILE_N]).
  Fewer (depthwise, an RGB stem): an outer product per input channel on the CUDA cores, and
  TILE_N no wider than the group's output channels, so a depthwise tile is not 15/16 padding.
- Spatial dims a problem does not have are size 1 with a 1-wide kernel; kernel sizes, strides,
  paddings and dilations are constexprs (the index arithmetic folds), channel counts and spatial
  sizes are run-time arguments. Accumulation is fp32; fp32 operands multiply with
  `input_precision=PRECISION`, and F32_DOT forces fp32 products (Triton's interpreter multiplies
  16-bit dot operands wrongly; see `matmul`).
"""

from __future__ import annotations

import textwrap

from kernelwright.agents.expert.expressions import sig, walk
from kernelwright.agents.expert.ir import V

# The input position kernel position `r` reads for each output row of the tile, and its mask.
WINDOW = """\
kw = r % KW
kh = (r // KW) % KH
kd = r // (KW * KH)
if TRANSPOSED:
    t_d = od + PD - kd * DD
    t_h = oh + PH - kh * DH
    t_w = ow + PW - kw * DW
    i_d = t_d // SD
    i_h = t_h // SH
    i_w = t_w // SW
    ok = mask_m & (t_d >= 0) & (t_h >= 0) & (t_w >= 0) & (t_d % SD == 0) & (t_h % SH == 0) & (t_w % SW == 0)
    ok = ok & (i_d < ID) & (i_h < IH) & (i_w < IW)
else:
    i_d = od * SD - PD + kd * DD
    i_h = oh * SH - PH + kh * DH
    i_w = ow * SW - PW + kw * DW
    ok = mask_m & (i_d >= 0) & (i_d < ID) & (i_h >= 0) & (i_h < IH) & (i_w >= 0) & (i_w < IW)
sp = (i_d * IH + i_h) * IW + i_w
"""

KERNEL_HEAD = """\
pid_n = tl.program_id(1)
n_tiles_n = tl.cdiv(COUT_G, TILE_N)
g = pid_n // n_tiles_n
offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
offs_c = (pid_n % n_tiles_n) * TILE_N + tl.arange(0, TILE_N)
mask_m = offs_m < M
mask_c = offs_c < COUT_G
n = offs_m // OS
s = offs_m % OS
ow = s % OW
oh = (s // OW) % OH
od = s // (OW * OH)
x_rows = (n.to(tl.int64) * CIN + g * CIN_G) * IS
w_cols = g * W_SG + offs_c * W_SCO
acc = tl.zeros((BLOCK_M, TILE_N), dtype=tl.float32)
"""

# tl.dot: one loop over (kernel position, channel chunk), so the whole K loop is one pipeline.
DOT_LOOP = """\
n_k = tl.cdiv(CIN_G, TILE_K)
for step in range(0, KD * KH * KW * n_k):
    r = step // n_k
{window}    ci = (step % n_k) * TILE_K + tl.arange(0, TILE_K)
    mask_k = ci < CIN_G
    a = tl.load(x_ptr + x_rows[:, None] + (ci[None, :] * IS + sp[:, None]), mask=ok[:, None] & mask_k[None, :], other=0.0)
    b = tl.load(w_ptr + w_cols[None, :] + (ci[:, None] * W_SCI + r), mask=mask_k[:, None] & mask_c[None, :], other=0.0)
    if F32_DOT:
        acc = tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision=PRECISION)
    else:
        acc = tl.dot(a, b, acc)
"""

# Outer products: the window once per kernel position, then one step per input channel.
OUTER_LOOP = """\
for r in range(0, KD * KH * KW):
{window}    for ci in range(0, CIN_G):
        a = tl.load(x_ptr + x_rows + (ci * IS + sp), mask=ok, other=0.0).to(tl.float32)
        b = tl.load(w_ptr + w_cols + (ci * W_SCI + r), mask=mask_c, other=0.0).to(tl.float32)
        acc += a[:, None] * b[None, :]
"""

KERNEL_TAIL = """\
co = g * COUT_G + offs_c
mask = mask_m[:, None] & mask_c[None, :]
offs = (n.to(tl.int64) * COUT * OS + s)[:, None] + co[None, :].to(tl.int64) * OS
"""

KERNEL_BODY = (KERNEL_HEAD + "if DOT:\n" + textwrap.indent(DOT_LOOP.format(window=textwrap.indent(WINDOW, "    ")), "    ")
               + "else:\n" + textwrap.indent(OUTER_LOOP.format(window=textwrap.indent(WINDOW, "    ")), "    ") + KERNEL_TAIL)

ARGS = ["M", "OS", "IS", "CIN", "COUT", "CIN_G", "COUT_G", "ID", "IH", "IW", "OH", "OW", "W_SG", "W_SCO", "W_SCI",
        *(f"{c}{d}: tl.constexpr" for c in "KSPD" for d in "DHW"), "TRANSPOSED: tl.constexpr", "F32_DOT: tl.constexpr",
        "PRECISION: tl.constexpr", "BLOCK_M: tl.constexpr", "BLOCK_N: tl.constexpr", "BLOCK_K: tl.constexpr",
        "TILE_N: tl.constexpr", "TILE_K: tl.constexpr", "DOT: tl.constexpr"]
# TILE_N / TILE_K: the config's BLOCK_N / BLOCK_K fitted to a group's channels (host helpers in `conv_host`).
HEURISTICS = ('{"DOT": lambda args: kw_conv_dot(args["CIN_G"]), '
              '"TILE_N": lambda args: kw_conv_tile_n(args["BLOCK_N"], args["COUT_G"], args["CIN_G"]), '
              '"TILE_K": lambda args: kw_conv_tile_k(args["BLOCK_K"], args["CIN_G"])}')
AUTOTUNE_KEY = ["M", "COUT_G", "CIN_G"]


def kernel_conv(name: str, out: V, ptrs: dict[str, str], emitter_cls, used: set[str]) -> str:
    """The kernel text; `ptrs` maps each epilogue leaf to its pointer argument. Epilogue operands
    are of the output's shape ("full"), one value per output channel ("col") or scalars."""
    conv = next(v for v in walk(out) if v.op == "conv")
    em = emitter_cls(ptrs, {"full": "offs", "col": "co[None, :]"}, used, masks={"full": "mask", "col": "mask_c[None, :]"})
    lines = KERNEL_BODY.splitlines()
    result = em.emit(out, lines, {sig(conv): "acc"}, {})
    lines.append(f"tl.store(out_ptr + offs, {result}.to(out_ptr.dtype.element_ty), mask=mask)")
    args = ", ".join(["x_ptr", "w_ptr", *ptrs.values(), "out_ptr", *ARGS])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"
