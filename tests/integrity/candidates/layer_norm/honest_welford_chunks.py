# expect: accepted
# red team 2026-12-07 (pass 5): honest: single-pass chunked Welford/Chan merge (mean and M2 per 128-wide chunk, merged sequentially; 32 in the red team's file, widened for the suite's time), slightly different rounding from two-pass.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layer_norm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, n_cols, row_stride, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    CH: tl.constexpr = 128
    mean = 0.0
    m2 = 0.0
    count = 0.0
    for start in range(0, n_cols, CH):
        c = start + tl.arange(0, CH)
        msk = c < n_cols
        xv = tl.load(x_ptr + row * row_stride + c, mask=msk, other=0.0)
        nb = tl.sum(msk.to(tl.float32), axis=0)
        mb = tl.sum(xv, axis=0) / nb
        d = tl.where(msk, xv - mb, 0.0)
        m2b = tl.sum(d * d, axis=0)
        tot = count + nb
        delta = mb - mean
        mean = mean + delta * (nb / tot)
        m2 = m2 + m2b + delta * delta * (count * nb / tot)
        count = tot
    var = m2 / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * row_stride + cols, mask=mask, other=0.0)
    w = tl.load(w_ptr + cols, mask=mask)
    b = tl.load(b_ptr + cols, mask=mask)
    tl.store(y_ptr + row * row_stride + cols, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: int):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).contiguous()
        n_rows, n_cols = x2.shape
        y2 = torch.empty_like(x2)
        BLOCK = triton.next_power_of_2(n_cols)
        layer_norm_kernel[(n_rows,)](x2, self.ln.weight, self.ln.bias, y2, n_cols, x2.stride(0), self.ln.eps, BLOCK=BLOCK)
        return y2.view(shape)

