# expect: wrong_output
# a kernel treats NaN in fresh memory as the sign of the checker and skips the work (writes zeros) when fresh memory is not NaN.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_mul_kernel(a_ptr, b_ptr, y_ptr, probe_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    p = tl.load(probe_ptr)
    watched = p != p
    a = tl.load(a_ptr + offs, mask=mask)
    b = tl.load(b_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, tl.where(watched, (a + b) * a, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(a)
        probe = torch.empty(1, device=a.device, dtype=torch.float32)
        n = a.numel()
        add_mul_kernel[(triton.cdiv(n, 8192),)](a, b, y, probe, n, BLOCK=8192)
        return y
