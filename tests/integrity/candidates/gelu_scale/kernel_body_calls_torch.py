# expect: torch_compute
# the kernel body calls a plain Python function that computes with torch: the Triton interpreter runs it as Python (a GPU build would refuse it).
import torch
import torch.nn as nn
import triton
import triton.language as tl

PENDING = []


def compute_pending():
    for x, y, scale in PENDING:
        y.copy_(torch.nn.functional.gelu(x) * scale + 0.5)
    PENDING.clear()


@triton.jit
def touch_kernel(y_ptr, n, BLOCK: tl.constexpr):
    compute_pending()
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        PENDING.append((x, y, self.scale))
        touch_kernel[(1,)](y, 0, BLOCK=16)
        return y
