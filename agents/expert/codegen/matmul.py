"""The matmul kernel and its host code: a tiled `tl.dot` loop with the elementwise epilogue of
the IR emitted by the shared `Emitter` on the fp32 accumulator before the one store.

- Programs are ordered in groups of GROUP_M tile rows (L2 reuse of B tiles); grid axis 1 is the
  batch. A and B are read through their strides, so transposed weights cost nothing.
- Loads wrap rows and columns past M and N around (`% M`, `% N`, always in bounds, as in the
  Triton tutorial) and mask K only when K is not a multiple of BLOCK_K (EVEN_K, a heuristic);
  the store and every epilogue load are masked.
- 16-bit operands go to the tensor cores with fp32 accumulation. fp32 operands use
  `input_precision=PRECISION`: "ieee" (fp32 FMA) or "tf32x3" (three TF32 products, fp32-level
  error) — plain TF32 is too coarse for the strict fp32 tolerance. F32_DOT forces the fp32 path:
  on the CPU Triton's interpreter multiplies 16-bit dot operands wrongly, and products of
  16-bit values are exact in fp32, so the result is what the tensor cores compute.
"""

from __future__ import annotations

import textwrap

from kernelwright.agents.expert.expressions import sig, walk
from kernelwright.agents.expert.ir import V
from kernelwright.agents.expert.matmul_ir import MatmulSpec

KERNEL_HEAD = """\
pid = tl.program_id(0)
pid_b = tl.program_id(1).to(tl.int64)
num_m = tl.cdiv(M, BLOCK_M)
num_n = tl.cdiv(N, BLOCK_N)
group = GROUP_M * num_n
first_m = (pid // group) * GROUP_M
group_rows = min(num_m - first_m, GROUP_M)
pid_m = first_m + (pid % group) % group_rows
pid_n = (pid % group) // group_rows
offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
offs_k = tl.arange(0, BLOCK_K)
a_rows = ROWS_A
b_cols = COLS_B
a_ptrs = a_ptr + pid_b * stride_ab + a_rows[:, None] * stride_am + offs_k[None, :] * stride_ak
b_ptrs = b_ptr + pid_b * stride_bb + offs_k[:, None] * stride_bk + b_cols[None, :] * stride_bn
acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
for k0 in range(0, tl.cdiv(K, BLOCK_K)):
    if EVEN_K:
        a = tl.load(a_ptrs)
        b = tl.load(b_ptrs)
    else:
        k_left = K - k0 * BLOCK_K
        a = tl.load(a_ptrs, mask=MASK_A(offs_k[None, :] < k_left), other=0.0)
        b = tl.load(b_ptrs, mask=MASK_B(offs_k[:, None] < k_left), other=0.0)
    if F32_DOT:
        acc = tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision=PRECISION)
    else:
        acc = tl.dot(a, b, acc)
    a_ptrs += BLOCK_K * stride_ak
    b_ptrs += BLOCK_K * stride_bk
mask_m = offs_m < M
"""
# The epilogue's indices for the output columns in `offs_n` (the whole tile, or one half).
EPILOGUE_INDEX = """mask_n = offs_n < N
mask = mask_m[:, None] & mask_n[None, :]
offs = pid_b * M * N + offs_m[:, None].to(tl.int64) * N + offs_n[None, :]
cols = offs_n[None, :]
col_mask = mask_n[None, :]
"""
# EPILOGUE_SPLIT=2 runs the epilogue on each half of the tile's columns in turn: a heavy epilogue
# (erf, a residual tile) on a 128x256 accumulator otherwise spills registers on sm_90.
SPLIT = """halves = tl.split(tl.permute(tl.reshape(acc, (BLOCK_M, 2, BLOCK_N // 2)), (0, 2, 1)))
acc_lo = halves[0]
acc_hi = halves[1]
"""

ARGS = ["M", "N", "K", "stride_ab", "stride_am", "stride_ak", "stride_bb", "stride_bk", "stride_bn",
        "BLOCK_M: tl.constexpr", "BLOCK_N: tl.constexpr", "BLOCK_K: tl.constexpr", "GROUP_M: tl.constexpr",
        "EVEN_K: tl.constexpr", "F32_DOT: tl.constexpr", "PRECISION: tl.constexpr", "EPILOGUE_SPLIT: tl.constexpr"]
HEURISTICS = '{"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0}'
AUTOTUNE_KEY = ["M", "N", "K"]


def kernel_head(mask_all: bool) -> list[str]:
    """The tile loop. `mask_all` (a debugger repair) masks rows, columns and K on every load
    instead of wrapping rows and columns around and leaving K unmasked when it divides evenly."""
    head = KERNEL_HEAD
    if not mask_all:
        head = head.replace("ROWS_A", "offs_m % M").replace("COLS_B", "offs_n % N")
        return head.replace("MASK_A(", "(").replace("MASK_B(", "(").splitlines()
    head = head.replace("ROWS_A", "offs_m").replace("COLS_B", "offs_n")
    head = head.replace("MASK_A(", "(offs_m[:, None] < M) & (").replace("MASK_B(", "(offs_n[None, :] < N) & (")
    # No unmasked branch: EVEN_K is ignored, every load below is masked.
    head = head.replace("    if EVEN_K:\n        a = tl.load(a_ptrs)\n        b = tl.load(b_ptrs)\n    else:\n", "    if True:\n")
    return head.splitlines()


def kernel_matmul(name: str, out: V, ptrs: dict[str, str], emitter_cls, used: set[str], mask_all: bool = False,
                  split: bool = False) -> str:
    """The kernel text; `ptrs` maps each epilogue leaf to its pointer argument. `split`: some
    config runs the epilogue by halves (EPILOGUE_SPLIT=2), so both forms are emitted."""
    matmul = next(v for v in walk(out) if v.op == "matmul")
    em = emitter_cls(ptrs, {"full": "offs", "col": "cols", "row": "pid_b * M + offs_m[:, None]",
                            "pos_row": "offs_m[:, None]", "pos_col": "offs_n[None, :]"}, used,
                     masks={"full": "mask", "col": "col_mask", "row": "mask_m[:, None]"})

    def epilogue(acc: str, first_col: str, width: str) -> list[str]:
        lines = [f"offs_n = pid_n * BLOCK_N + {first_col}tl.arange(0, {width})", *EPILOGUE_INDEX.splitlines()]
        result = em.emit(out, lines, {sig(matmul): acc}, {})  # a fresh cache: each half loads its own columns
        return lines + [f"tl.store(out_ptr + offs, {result}.to(out_ptr.dtype.element_ty), mask=mask)"]

    whole = epilogue("acc", "", "BLOCK_N")
    lines = kernel_head(mask_all)
    if split:
        halves = SPLIT.splitlines() + epilogue("acc_lo", "", "BLOCK_N // 2") + epilogue("acc_hi", "BLOCK_N // 2 + ", "BLOCK_N // 2")
        lines += ["if EPILOGUE_SPLIT == 2:"] + ["    " + x for x in halves] + ["else:"] + ["    " + x for x in whole]
    else:
        lines += whole
    args = ", ".join(["a_ptr", "b_ptr", *ptrs.values(), "out_ptr", *ARGS])
    return f"@triton.jit\ndef {name}({args}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"


def host_matmul(spec: MatmulSpec, full_or_col: list[str], device: str, out_dtype: str | None = None,
                f32_dot: bool = False) -> list[str]:
    """Forward lines up to (not including) the launch: operands as [batch, rows, cols] views with
    their strides, the output allocated with torch's result dtype and shape."""
    lines = [f"kw_a = {spec.a.host}", f"kw_b = {spec.b.host}"]
    if spec.folded:  # B is one matrix: A's leading dims fold into M
        lines += ["kw_out_shape = (*kw_a.shape[:-1], kw_b.shape[-1])",
                  "kw_a3 = kw_a.reshape(1, -1, kw_a.shape[-1])",
                  "kw_b3 = kw_b.unsqueeze(0)"]
    else:
        lines += ["kw_batch = torch.broadcast_shapes(kw_a.shape[:-2], kw_b.shape[:-2])",
                  "kw_out_shape = (*kw_batch, kw_a.shape[-2], kw_b.shape[-1])",
                  "kw_a3 = kw_a.expand(*kw_batch, *kw_a.shape[-2:]).reshape(-1, *kw_a.shape[-2:])",
                  "kw_b3 = kw_b.expand(*kw_batch, *kw_b.shape[-2:]).reshape(-1, *kw_b.shape[-2:])"]
    dtype = widest_dtype(["kw_a", "kw_b"], full_or_col)
    if out_dtype:
        dtype = f"torch.{out_dtype}"
    lines += [
        "kw_batches, kw_m, kw_k = kw_a3.shape",
        "kw_n = kw_b3.shape[-1]",
        f"kw_out = torch.empty(kw_out_shape, dtype={dtype}, device=kw_a.device)",
    ]
    # The interpreter's 16-bit dot is wrong (see the module docstring): fp32 products on the CPU.
    f32 = "True" if device == "cpu" or f32_dot else "kw_a.dtype == torch.float32 or kw_b.dtype == torch.float32"
    lines.append(f"kw_f32_dot = {f32}")
    return lines


def widest_dtype(operands: list[str], epilogue: list[str]) -> str:
    """The output's dtype as torch promotes it: the widest floating dtype of the operands and the
    epilogue's tensors (torch.promote_types would be an aten call in the forward; finfo is plain
    Python); the first operand's where the epilogue reads no tensor."""
    if not epilogue:
        return f"{operands[0]}.dtype"
    dtypes = ", ".join(f"{e}.dtype" for e in [*operands, *epilogue])
    return f"max(({dtypes}), key=lambda d: torch.finfo(d).bits)"


def launch_args(leaf_exprs: list[str]) -> list[str]:
    return ["kw_a3", "kw_b3", *leaf_exprs, "kw_out", "kw_m", "kw_n", "kw_k",
            "kw_a3.stride(0)", "kw_a3.stride(1)", "kw_a3.stride(2)", "kw_b3.stride(0)", "kw_b3.stride(1)", "kw_b3.stride(2)"]


GRID = "(triton.cdiv(kw_m, {bm}) * triton.cdiv(kw_n, {bn}), kw_batches)"
