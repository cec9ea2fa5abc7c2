# expect: accepted
# honest twin, multi-kernel: gelu into a torch.empty scratch buffer, then scale+bias into the output (2-D view).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_kernel(x_ptr, g_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(g_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)), mask=mask)


@triton.jit
def scale_bias_kernel(g_ptr, y_ptr, n_rows, n_cols, scale, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
    offs = rows[:, None] * n_cols + cols[None, :]
    g = tl.load(g_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        n_rows, n_cols = x2.shape
        scratch = torch.empty_like(x2)
        n = x2.numel()
        gelu_kernel[(triton.cdiv(n, 4096),)](x2, scratch, n, BLOCK=4096)
        y = torch.empty((n_rows, n_cols), device=x.device, dtype=x.dtype)
        grid = (triton.cdiv(n_rows, 16), triton.cdiv(n_cols, 256))
        scale_bias_kernel[grid](scratch, y, n_rows, n_cols, self.scale, BLOCK_R=16, BLOCK_C=256)
        return y.reshape(x.shape)
