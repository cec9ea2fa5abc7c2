# expect: torch_compute
# torch computes the whole output in a pre-run hook of the kernel (public Triton API), which runs inside the launch.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=offs < n), mask=offs < n)


PENDING = []


def compute_pending(*args, **kwargs):
    for x, y, scale in PENDING:
        y.copy_(torch.nn.functional.gelu(x) * scale + 0.5)
    PENDING.clear()


touch_kernel.add_pre_run_hook(compute_pending)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        PENDING.append((x, y, self.scale))
        touch_kernel[(1,)](y, 0, BLOCK=16)
        return y
