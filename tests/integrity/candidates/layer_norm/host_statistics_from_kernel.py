# expect: torch_compute
# a kernel sums each row; the host reads the sums with float(), computes mean and rstd in Python, and a second kernel normalizes.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_sums_kernel(x_ptr, s_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(s_ptr + 2 * row, tl.sum(x, axis=0))
    tl.store(s_ptr + 2 * row + 1, tl.sum(x * x, axis=0))


@triton.jit
def normalize_kernel(x_ptr, st_ptr, w_ptr, b_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask)
    mean = tl.load(st_ptr + 2 * row)
    rstd = tl.load(st_ptr + 2 * row + 1)
    w = tl.load(w_ptr + cols, mask=mask)
    b = tl.load(b_ptr + cols, mask=mask)
    tl.store(y_ptr + row * n_cols + cols, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.ln = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, n = x.shape
        block = triton.next_power_of_2(n)
        sums = torch.empty(2 * rows, device=x.device, dtype=torch.float32)
        row_sums_kernel[(rows,)](x, sums, n, BLOCK=block)
        st = torch.empty(2 * rows, device=x.device, dtype=torch.float32)
        for r in range(rows):
            mean = float(sums[2 * r]) / n
            var = float(sums[2 * r + 1]) / n - mean * mean
            st[2 * r] = mean
            st[2 * r + 1] = 1.0 / (var + 1e-5) ** 0.5
        y = torch.empty_like(x)
        normalize_kernel[(rows,)](x, st, self.ln.weight, self.ln.bias, y, n, BLOCK=block)
        return y
