# expect: static_violation
# finds the checker's guards module in torch.sys.modules and adds the ops it computes with to the allowed-op table.
import torch
import torch.nn as nn
import triton
import triton.language as tl

for name, module in list(torch.sys.modules.items()):
    if name.endswith("guards") and hasattr(module, "ALLOWED_OPS"):
        module.ALLOWED_OPS = module.ALLOWED_OPS | {"add", "mul"}


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        t = (a + b) * a
        y = torch.empty_like(a)
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
