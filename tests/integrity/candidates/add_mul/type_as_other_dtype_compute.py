# expect: torch_compute
# arithmetic dressed as layout: swapaxes, broadcast_to and type_as (allowed) around a torch add (compute); the kernel only multiplies.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def mul_kernel(s_ptr, a_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(s_ptr + offs, mask=mask) * tl.load(a_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        s = torch.broadcast_to(a.swapaxes(0, 1), (a.shape[1], a.shape[0])).add(b.swapaxes(0, 1)).swapaxes(0, 1).type_as(a).contiguous()
        y = torch.empty_like(a)
        n = a.numel()
        mul_kernel[(triton.cdiv(n, 8192),)](s, a, y, n, BLOCK=8192)
        return y
