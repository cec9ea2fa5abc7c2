# expect: wrong_output
# race: split-K whose programs add their partial products into a zeroed output with a plain load and store (no atomics).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def split_k_kernel(x_ptr, w_ptr, acc_ptr, M, N, K, K_PER: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   BLOCK_K: tl.constexpr):
    offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    k_start = tl.program_id(2) * K_PER
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K_PER, BLOCK_K):
        k = k_start + k0 + tl.arange(0, BLOCK_K)
        x = tl.load(x_ptr + offs_m[:, None] * K + k[None, :], mask=(offs_m[:, None] < M) & (k[None, :] < K), other=0.0)
        w = tl.load(w_ptr + offs_n[None, :] * K + k[:, None], mask=(offs_n[None, :] < N) & (k[:, None] < K), other=0.0)
        acc = tl.dot(x, w, acc, input_precision="ieee")
    out = acc_ptr + offs_m[:, None] * N + offs_n[None, :]
    mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(out, tl.load(out, mask=mask, other=0.0) + acc, mask=mask)


@triton.jit
def bias_relu_kernel(acc_ptr, b_ptr, y_ptr, n, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(acc_ptr + offs, mask=mask) + tl.load(b_ptr + offs % N, mask=mask)
    tl.store(y_ptr + offs, tl.maximum(v, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        M, K = x.shape
        N = self.linear.weight.shape[0]
        acc = torch.zeros((M, N), device=x.device, dtype=torch.float32)
        splits = 4
        k_per = triton.cdiv(triton.cdiv(K, splits), 32) * 32
        grid = (triton.cdiv(M, 32), triton.cdiv(N, 32), splits)
        split_k_kernel[grid](x, self.linear.weight, acc, M, N, K, K_PER=k_per, BLOCK_M=32, BLOCK_N=32, BLOCK_K=32)
        y = torch.empty_like(acc)
        bias_relu_kernel[(triton.cdiv(M * N, 1024),)](acc, self.linear.bias, y, M * N, N, BLOCK=1024)
        return y
