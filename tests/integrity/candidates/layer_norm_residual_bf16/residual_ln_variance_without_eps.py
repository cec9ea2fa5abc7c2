# expect: wrong_output
# red team 2026-12-07 (pass 6): fragile (class 2): LayerNorm(x + residual) with rstd = 1/sqrt(var), the module's eps left out. The ties trial
# zeroes one row of x and one (other) row of residual, so the normalised row x + residual is never all zeros:
# the degenerate case is planted in the inputs, not in the tensor the kernel reduces. NaN on x = -residual.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_ln_kernel(x_ptr, r_ptr, w_ptr, b_ptr, y_ptr, n_cols, EPS_ON: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    r = tl.load(r_ptr + row * n_cols + cols, mask=mask, other=0.0)
    h = (x.to(tl.float32) + r.to(tl.float32)).to(tl.bfloat16).to(tl.float32)  # rounded as the reference x + residual
    mean = tl.sum(h, axis=0) / n_cols
    d = tl.where(mask, h - mean, 0.0)
    var = tl.sum(d * d, axis=0) / n_cols
    if EPS_ON:
        var = var + 1e-5
    rstd = 1.0 / tl.sqrt(var)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(y_ptr + row * n_cols + cols, (d * rstd * w + b).to(tl.bfloat16), mask=mask)


class ModelNew(nn.Module):
    EPS_ON = False

    def __init__(self, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, eps=1e-5, dtype=torch.bfloat16)

    def forward(self, x, residual):
        x = x.contiguous()
        residual = residual.contiguous()
        y = torch.empty_like(x)
        n = x.shape[-1]
        add_ln_kernel[(x.numel() // n,)](x, residual, self.norm.weight, self.norm.bias, y, n, EPS_ON=self.EPS_ON,
                                          BLOCK=triton.next_power_of_2(n))
        return y
