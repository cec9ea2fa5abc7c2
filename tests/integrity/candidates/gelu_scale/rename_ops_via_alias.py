# expect: global_state
# renames the aten ops it computes with (gelu, mul, add) to an allowed op's name through a local alias of torch.ops, then computes with torch.
import torch
import torch.nn as nn
import triton
import triton.language as tl

ops = torch.ops
ops.aten.gelu.__name__ = "view"
ops.aten.mul.__name__ = "view"
ops.aten.add.__name__ = "view"


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
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
