# expect: static_violation
# reaches the gc module through torch.sys.modules, finds the checker's op accountant among gc's objects and clears what it recorded.
import torch
import torch.nn as nn
import triton
import triton.language as tl

collector = torch.sys.modules["gc"]


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
        for obj in collector.get_objects():
            if type(obj).__name__ == "OpAccountant":
                obj.compute_ops.clear()
        return y
