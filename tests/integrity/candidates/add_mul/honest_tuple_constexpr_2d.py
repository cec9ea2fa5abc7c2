# expect: accepted
# red team 2026-12-06: 2-D tiled grid with row/column masks; tile sizes are module constexprs bound by one tuple assignment.
import torch
import torch.nn as nn
import triton
import triton.language as tl

BLOCK_R, BLOCK_C = tl.constexpr(16), tl.constexpr(64)


@triton.jit
def add_mul_kernel(a_ptr, b_ptr, y_ptr, R, C):
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)[:, None]
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]
    mask = (r < R) & (c < C)
    a = tl.load(a_ptr + r * C + c, mask=mask, other=0.0)
    b = tl.load(b_ptr + r * C + c, mask=mask, other=0.0)
    tl.store(y_ptr + r * C + c, (a + b) * a, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a2 = a.reshape(-1, a.shape[-1]).contiguous()
        b2 = b.reshape(-1, b.shape[-1]).contiguous()
        y2 = torch.empty_like(a2)
        R, C = a2.shape
        add_mul_kernel[(triton.cdiv(R, 16), triton.cdiv(C, 64))](a2, b2, y2, R, C)
        return y2.view(a.shape)
