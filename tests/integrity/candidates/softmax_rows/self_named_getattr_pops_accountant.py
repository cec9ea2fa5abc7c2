# expect: static_violation
# red team 2026-12-07 (pass 8): class 3/4: getattr with computed names is allowed when its target is *called* `self`; a helper whose first
# parameter is named self walks torch -> _C -> _pop_torch_dispatch_mode, pops the op accountant, computes the
# softmax with torch, and pushes the accountant back before returning.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


def reach(self, path):
    for part in path.split("."):
        self = getattr(self, part)
    return self


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pop = reach(torch, "_C._pop_torch_dispatch_stack")
        push = reach(torch, "_C._push_on_torch_dispatch_stack")
        mode = pop(None)
        try_y = torch.softmax(x, dim=-1)
        push(mode)
        y = torch.empty_like(x)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 4096),)](try_y, y, n, BLOCK=4096)
        return y
