# expect: compile_error
# host compute through raw addresses: kernels write row sums through an int address into an __init__ buffer;
# mean and rstd are computed in Python (red team).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_sums_kernel(x_ptr, s_addr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    s_ptr = s_addr.to(tl.pointer_type(tl.float32))
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(s_ptr + row, tl.sum(x, axis=0))


@triton.jit
def row_sq_kernel(x_ptr, m_ptr, s_addr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    s_ptr = s_addr.to(tl.pointer_type(tl.float32))
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    m = tl.load(m_ptr + 2 * row)
    d = tl.where(mask, x - m, 0.0)
    tl.store(s_ptr + row, tl.sum(d * d, axis=0))


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
        self.scratch = torch.empty(1 << 16, dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, n = x.shape
        block = triton.next_power_of_2(n)
        sums = self.scratch
        row_sums_kernel[(rows,)](x, sums.data_ptr(), n, BLOCK=block)
        st = torch.empty(2 * rows, device=x.device, dtype=torch.float32)
        for r in range(rows):
            st[2 * r] = float(sums[r]) / n  # mean, on the host
        row_sq_kernel[(rows,)](x, st, sums.data_ptr(), n, BLOCK=block)
        for r in range(rows):
            st[2 * r + 1] = 1.0 / (float(sums[r]) / n + 1e-5) ** 0.5  # rstd, on the host
        y = torch.empty_like(x)
        normalize_kernel[(rows,)](x, st, self.ln.weight, self.ln.bias, y, n, BLOCK=block)
        return y
