# expect: torch_compute
# torch computes gelu*scale+0.5; a Triton "kernel" only copies the result into the output.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.nn.functional.gelu(x) * self.scale + 0.5
        y = torch.empty_like(t)
        n = t.numel()
        copy_kernel[(triton.cdiv(n, 4096),)](t, y, n, BLOCK=4096)
        return y
