# expect: static_violation
# red team 2026-12-07 (pass 8): class 10: every call writes its softmax into one buffer made in __init__ and returns a fresh view of it, so a
# result a caller kept is overwritten by the next call (outputs alias each other across calls; no allocation paid).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.arena = torch.empty(1 << 16)

    def forward(self, x):
        rows, cols = x.shape
        if self.arena.numel() < x.numel():
            self.arena = torch.empty(x.numel(), device=x.device)
        y = self.arena[: x.numel()].view(rows, cols)
        softmax_kernel[(rows,)](x, y, cols, x.stride(0), BLOCK=triton.next_power_of_2(cols))
        return y
