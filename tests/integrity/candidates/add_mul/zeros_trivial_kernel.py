# expect: wrong_output
# tolerance exploit: the outputs are tiny (|y| < 1e-4), so torch.zeros would pass a fixed atol of 1e-4; a trivial kernel makes it look custom.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def noop_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros((BLOCK,), tl.float32), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        y = torch.zeros_like(a)
        noop_kernel[(triton.cdiv(y.numel(), 8192),)](y, y.numel(), BLOCK=8192)
        return y
