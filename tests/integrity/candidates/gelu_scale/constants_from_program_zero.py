# expect: wrong_output
# race: program 0 writes the kernel's constants into a scratch table that every other program reads, with no synchronisation.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, table_ptr, n, scale, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if pid == 0:
        tl.store(table_ptr, scale)
        tl.store(table_ptr + 1, 0.5)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))
    tl.store(y_ptr + offs, g * tl.load(table_ptr) + tl.load(table_ptr + 1), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        table = torch.zeros(2, device=x.device, dtype=torch.float32)
        gelu_scale_kernel[(triton.cdiv(x.numel(), 4096),)](x, y, table, x.numel(), self.scale, BLOCK=4096)
        return y
