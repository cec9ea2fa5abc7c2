# kernelwright expert policy: family=matmul tracer=fx
# config: BLOCK_M=128 BLOCK_N=128 BLOCK_K=32 GROUP_M=8 num_warps=8 num_stages=3 precision=tf32x3
# config: BLOCK_M=128 BLOCK_N=64 BLOCK_K=32 GROUP_M=8 num_warps=4 num_stages=3 precision=tf32x3
# config: BLOCK_M=64 BLOCK_N=128 BLOCK_K=32 GROUP_M=8 num_warps=4 num_stages=3 precision=tf32x3
# config: BLOCK_M=64 BLOCK_N=64 BLOCK_K=32 GROUP_M=8 num_warps=4 num_stages=4 precision=tf32x3
# lessons: seed-expert-matmul-sm90-fp32-3xtf32
import math
import os
import torch
import torch.nn as nn
import torch.nn.functional as F
import triton
import triton.language as tl


# Triton's CPU interpreter truncates fp32 -> bf16 (3.7.1) where compiled code rounds to nearest
# even: there bf16 is rounded by its bits. Same values; compiled, the one-instruction conversion
# instead of integer work on every element of the epilogue.
KW_BF16_BY_BITS = tl.constexpr(os.getenv("TRITON_INTERPRET") == "1")


@triton.jit
def kw_round_out(x, dtype: tl.constexpr):
    # x rounded to `dtype` (to nearest even) and back to fp32, as the reference stores it.
    if dtype == tl.bfloat16 and KW_BF16_BY_BITS:
        bits = x.to(tl.uint32, bitcast=True)
        bits = bits + 0x7FFF + ((bits >> 16) & 1)
        bits = (bits >> 16) << 16
        return tl.where(x != x, x, bits.to(tl.float32, bitcast=True))
    else:
        return x.to(dtype).to(tl.float32)

def kw_rows_aligned(a, b, out, N):
    # Every row of A, B and the output (and the epilogue's tiles) starts on a 16-byte boundary.
    rows = all(s == 1 or s * t.element_size() % 16 == 0 for t in (a, b) for s in t.stride()[1:])
    return rows and N * out.element_size() % 16 == 0


def kw_fit_matmul(configs, named_args, **kwargs):
    if kw_rows_aligned(named_args["a_ptr"], named_args["b_ptr"], named_args["out_ptr"], named_args["N"]):
        return configs
    out, seen = [], set()
    for c in configs:
        kw = {**c.kwargs, "EPILOGUE_SPLIT": 1}
        key = (tuple(sorted(kw.items())), c.num_warps, c.num_stages)
        if key not in seen:
            seen.add(key)
            out.append(triton.Config(kw, num_warps=c.num_warps, num_stages=c.num_stages))
    return out



@triton.autotune(configs=[
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "PRECISION": "tf32x3", "EPILOGUE_SPLIT": 1}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "PRECISION": "tf32x3", "EPILOGUE_SPLIT": 1}, num_warps=4, num_stages=3),
    triton.Config({"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "PRECISION": "tf32x3", "EPILOGUE_SPLIT": 1}, num_warps=4, num_stages=3),
    triton.Config({"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "PRECISION": "tf32x3", "EPILOGUE_SPLIT": 1}, num_warps=4, num_stages=4),
], key=["M", "N", "K"], prune_configs_by={"early_config_prune": kw_fit_matmul})
@triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0})
@triton.jit
def kw_matmul_kernel(a_ptr, b_ptr, out_ptr, M, N, K, stride_ab, stride_am, stride_ak, stride_bb, stride_bk, stride_bn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr, EVEN_K: tl.constexpr, F32_DOT: tl.constexpr, PRECISION: tl.constexpr, EPILOGUE_SPLIT: tl.constexpr):
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
    a_rows = offs_m % M
    b_cols = offs_n % N
    a_ptrs = a_ptr + pid_b * stride_ab + a_rows[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + pid_b * stride_bb + offs_k[:, None] * stride_bk + b_cols[None, :] * stride_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            k_left = K - k0 * BLOCK_K
            a = tl.load(a_ptrs, mask=(offs_k[None, :] < k_left), other=0.0)
            b = tl.load(b_ptrs, mask=(offs_k[:, None] < k_left), other=0.0)
        if F32_DOT:
            acc = tl.dot(a.to(tl.float32), b.to(tl.float32), acc, input_precision=PRECISION)
        else:
            acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    mask_m = offs_m < M
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask_n = offs_n < N
    mask = mask_m[:, None] & mask_n[None, :]
    offs = pid_b * M * N + offs_m[:, None].to(tl.int64) * N + offs_n[None, :]
    cols = offs_n[None, :]
    col_mask = mask_n[None, :]
    v1 = kw_round_out(acc, out_ptr.dtype.element_ty)
    tl.store(out_ptr + offs, v1.to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(nn.Module):
    """Generated by the kernelwright expert policy: matmul kernel, 4 autotuned configs."""

    def __init__(self):
        super(ModelNew, self).__init__()

    def forward(self, A, B):
        A = A.contiguous()
        B = B.contiguous()
        kw_a = A
        kw_b = B
        kw_out_shape = (*kw_a.shape[:-1], kw_b.shape[-1])
        kw_a3 = kw_a.reshape(1, -1, kw_a.shape[-1])
        kw_b3 = kw_b.unsqueeze(0)
        kw_batches, kw_m, kw_k = kw_a3.shape
        kw_n = kw_b3.shape[-1]
        kw_out = torch.empty(kw_out_shape, dtype=kw_a.dtype, device=kw_a.device)
        kw_f32_dot = kw_a.dtype == torch.float32 or kw_b.dtype == torch.float32
        grid = lambda META: (triton.cdiv(kw_m, META["BLOCK_M"]) * triton.cdiv(kw_n, META["BLOCK_N"]), kw_batches)
        kw_matmul_kernel[grid](kw_a3, kw_b3, kw_out, kw_m, kw_n, kw_k, kw_a3.stride(0), kw_a3.stride(1), kw_a3.stride(2), kw_b3.stride(0), kw_b3.stride(1), kw_b3.stride(2), F32_DOT=kw_f32_dot)
        return kw_out
