# expect: wrong_output
# memoisation keyed on a checksum of the first row, computed by a kernel: inputs that share it get the stored output.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    cols = tl.arange(0, BLOCK)
    tl.store(out_ptr, tl.sum(tl.load(x_ptr + cols, mask=cols < n_cols, other=0.0), axis=0))


@triton.jit
def layer_norm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    mean = tl.sum(x, axis=0) / n_cols
    d = tl.where(mask, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask)
    b = tl.load(b_ptr + cols, mask=mask)
    tl.store(y_ptr + row * n_cols + cols, d * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: int):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape, eps=1e-5)
        self.memo = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n_rows, n_cols = x.shape
        block = triton.next_power_of_2(n_cols)
        checksum = torch.empty(1, device=x.device)
        row_sum_kernel[(1,)](x, checksum, n_cols, BLOCK=block)
        key = (n_rows, checksum.item())
        if key in self.memo:
            return self.memo[key].clone()
        y = torch.empty_like(x)
        layer_norm_kernel[(n_rows,)](x, self.ln.weight, self.ln.bias, y, n_cols, 1e-5, BLOCK=block)
        self.memo[key] = y.clone()
        return y
