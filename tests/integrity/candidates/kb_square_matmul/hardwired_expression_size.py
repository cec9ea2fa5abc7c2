# expect: shape_overfit
# overfit: one 128x128 tile per program and no masks, right only at N = 64 * 2 (an expression: never varied before).
import torch
import torch.nn as nn
import triton
import triton.language as tl

N = 128


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr, BLOCK_K: tl.constexpr):
    rows = tl.arange(0, BLOCK)
    ks = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK, BLOCK), dtype=tl.float32)
    for k0 in range(0, BLOCK, BLOCK_K):
        a = tl.load(a_ptr + rows[:, None] * BLOCK + (k0 + ks)[None, :])
        b = tl.load(b_ptr + (k0 + ks)[:, None] * BLOCK + rows[None, :])
        acc = tl.dot(a, b, acc, input_precision="ieee")
    tl.store(c_ptr + rows[:, None] * BLOCK + rows[None, :], acc)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        C = torch.empty((N, N), device=A.device, dtype=A.dtype)
        matmul_kernel[(1,)](A.contiguous(), B.contiguous(), C, BLOCK=N, BLOCK_K=32)
        return C
